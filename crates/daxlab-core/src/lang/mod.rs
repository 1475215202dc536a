//! The scenario language: commands ([`command`]), the parser ([`parse`]), data and bytes
//! ([`data`]), running a command ([`run`]), results ([`outcome`]), invariants
//! ([`invariant`]) and reports ([`report`]).

pub mod command;
pub mod data;
pub mod invariant;
pub mod outcome;
pub mod parse;
pub mod report;
pub mod run;
pub mod text;
