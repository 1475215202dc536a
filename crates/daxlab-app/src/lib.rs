//! DAX Lab in the browser. The application state lives in one reducer ([`state`]); the
//! simulation core is reached only through [`boundary`]; the views ([`views`]) derive
//! everything they show from a [`boundary::Run`] and the [`boundary::StepView`] of the step
//! shown.

pub mod boundary;
pub mod complete;
pub mod lessons;
pub mod share;
pub mod state;
pub mod views;
pub mod wire;

pub use views::App;
