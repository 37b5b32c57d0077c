//! What the access-matrix tests share: the outcomes a cell can have, the
//! fixture's actors as columns, and the report of every mismatching cell.

use std::fmt;

use reqwest::header::HeaderMap;
use reqwest::Response;

/// What one request of one actor got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 200, or a redirect that means "done".
    Allowed,
    /// Sent to the role's own page instead (e.g. a pupil from /cahier to /devoirs).
    Redirected,
    /// 403 with `x-cartable-error: forbidden`.
    Forbidden,
    /// 404 with `x-cartable-error: not_found`: another school's ids do not exist.
    NotFound,
    /// Sent to the login page.
    Login,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Allowed => "A",
            Outcome::Redirected => "R",
            Outcome::Forbidden => "F",
            Outcome::NotFound => "N",
            Outcome::Login => "L",
        })
    }
}

pub const A: Outcome = Outcome::Allowed;
pub const R: Outcome = Outcome::Redirected;
pub const F: Outcome = Outcome::Forbidden;
pub const N: Outcome = Outcome::NotFound;
pub const L: Outcome = Outcome::Login;

/// The usual columns (see [`crate::seed_fixture`]); `None` is an anonymous browser.
pub const ACTORS: [Option<&str>; 10] = [
    None,
    Some("pupil_a"),
    Some("pupil_b"),
    Some("parent_a"),
    Some("parent_b"),
    Some("teacher_a"),
    Some("teacher_b"),
    Some("staff"),
    Some("admin"),
    Some("other_admin"),
];

pub fn actor_label(actor: Option<&str>) -> &str {
    actor.unwrap_or("anonymous")
}

/// Something with response headers.
pub trait HeaderSource {
    fn header_map(&self) -> &HeaderMap;
}

impl HeaderSource for Response {
    fn header_map(&self) -> &HeaderMap {
        self.headers()
    }
}

impl HeaderSource for HeaderMap {
    fn header_map(&self) -> &HeaderMap {
        self
    }
}

/// A header's value, or "" when absent or not text.
pub fn header(h: &impl HeaderSource, name: &str) -> String {
    h.header_map()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// One cell where the product disagrees with the rules.
pub struct Mismatch {
    pub route: String,
    pub actor: String,
    pub expected: String,
    pub got: String,
}

/// Every mismatch at once, so that one run shows the whole picture.
pub fn report(kind: &str, mismatches: &[Mismatch]) -> String {
    let mut s = format!(
        "{} {kind} cell(s) disagree with the rules:\n",
        mismatches.len()
    );
    for m in mismatches {
        s.push_str(&format!(
            "  {:<56} {:<12} expected {:<22} got {}\n",
            m.route, m.actor, m.expected, m.got
        ));
    }
    s
}

/// The observed table, one row per route, one column per actor.
pub fn render_observed(actors: &[Option<&str>], rows: &[(String, Vec<String>)]) -> String {
    let mut s = String::from(
        "observed (A allowed, R role's own page, F 403, N 404, L login, ? other; x = effect wrong):\n",
    );
    s.push_str(&format!("  {:<56}", "route"));
    for a in actors {
        s.push_str(&format!(" {:>11}", actor_label(*a)));
    }
    s.push('\n');
    for (route, cells) in rows {
        s.push_str(&format!("  {route:<56}"));
        for c in cells {
            s.push_str(&format!(" {c:>11}"));
        }
        s.push('\n');
    }
    s
}
