//! The rentrée drill (issue 5): a school morning replayed against a running
//! Cartable on loopback, by many simulated browsers.
//!
//! - [`accounts`]: who can come (the `accounts.csv` written by `cartable seed`);
//! - [`arrivals`]: when they come (a bump peaking at 8:00, or a flat overload);
//! - [`browser`]: one browser's cookies, and the shared HTTP client that
//!   bounds concurrency and gives up on a page after 10 s like a person would;
//! - [`html`]: the few things a journey reads from a page (CSRF field, links);
//! - [`journey`]: what a pupil does, the waiting room included;
//! - [`record`]: what is measured, and the figures computed from it;
//! - [`procfs`]: the server's CPU time and peak memory from `/proc`;
//! - [`report`]: the self-contained HTML report (inline SVG).

pub mod accounts;
pub mod arrivals;
pub mod browser;
pub mod html;
pub mod journey;
pub mod procfs;
pub mod record;
pub mod report;
