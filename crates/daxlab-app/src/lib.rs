//! DAX Lab in the browser. The application state lives in one reducer ([`state`]); the
//! simulation core is reached only through [`boundary`]; the views ([`views`]) derive
//! everything they show from a [`boundary::Snapshot`].

pub mod boundary;
pub mod lessons;
pub mod share;
pub mod state;
pub mod views;

pub use views::App;
