//! The engine: steps ([`cx`]), the trace ([`trace`]), footprints ([`footprint`]), scheduling
//! policies ([`sched`]) and runs with checkpoints ([`exec`]).

pub mod cx;
pub mod exec;
pub mod explore;
pub mod footprint;
pub mod ghost;
pub mod play;
pub mod sched;
pub mod trace;
