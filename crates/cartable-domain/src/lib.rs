//! Pure types and rules of Cartable. Nothing here does I/O: the store, the
//! application layer and the web layer all speak these types, and the rules
//! (who may do what, what a valid name or password is) live in one place.

pub mod calendar;
pub mod ids;
pub mod messaging;
pub mod names;
pub mod password;
pub mod policy;
pub mod role;
pub mod roster;

pub use ids::{ClassId, GroupId, SchoolId, Target, UserId};
pub use role::Role;
