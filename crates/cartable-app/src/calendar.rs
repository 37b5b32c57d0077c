//! The private calendar feed: homework due dates and hand-in deadlines as an
//! iCalendar (RFC 5545) file that a phone's calendar app subscribes to. The
//! URL carries a random token (only its hash is stored); making a new one
//! revokes the old.

use cartable_domain::calendar::{civil_from_days, Day};
use cartable_domain::policy::Actor;
use cartable_domain::{Role, UserId};
use cartable_store::Cohorts;

use crate::cohorts::pupil_cohorts;
use crate::tokens::{hash_token, new_session_token};
use crate::{App, AppError};

/// How far the feed looks back and ahead.
const PAST_DAYS: i64 = 7;
const AHEAD_DAYS: i64 = 60;

/// One calendar entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    pub uid: String,
    pub summary: String,
    pub description: String,
    pub when: EventTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventTime {
    /// An all-day entry (homework due that day).
    Day(Day),
    /// A moment (a hand-in deadline), Unix seconds.
    At(i64),
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets, never inside a UTF-8 character (§3.1).
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
    out
}

fn utc_stamp(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    let s = unix.rem_euclid(86_400);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        s / 3600,
        (s % 3600) / 60,
        s % 60
    )
}

fn day_stamp(day: Day) -> String {
    day.iso().replace('-', "")
}

/// The whole feed.
pub fn render_ics(name: &str, events: &[CalendarEvent], now: i64) -> String {
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Cartable//Devoirs//FR",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        out.push_str(&fold(line));
    }
    out.push_str(&fold(&format!("X-WR-CALNAME:{}", escape(name))));
    out.push_str(&fold("X-WR-TIMEZONE:Europe/Paris"));
    for e in events {
        out.push_str(&fold("BEGIN:VEVENT"));
        out.push_str(&fold(&format!("UID:{}", e.uid)));
        out.push_str(&fold(&format!("DTSTAMP:{}", utc_stamp(now))));
        match e.when {
            EventTime::Day(day) => {
                out.push_str(&fold(&format!("DTSTART;VALUE=DATE:{}", day_stamp(day))));
                out.push_str(&fold(&format!(
                    "DTEND;VALUE=DATE:{}",
                    day_stamp(day.plus(1))
                )));
            }
            EventTime::At(at) => {
                out.push_str(&fold(&format!("DTSTART:{}", utc_stamp(at - 1800))));
                out.push_str(&fold(&format!("DTEND:{}", utc_stamp(at))));
            }
        }
        out.push_str(&fold(&format!("SUMMARY:{}", escape(&e.summary))));
        if !e.description.is_empty() {
            out.push_str(&fold(&format!("DESCRIPTION:{}", escape(&e.description))));
        }
        out.push_str(&fold("END:VEVENT"));
    }
    out.push_str(&fold("END:VCALENDAR"));
    out
}

/// The first line of a Markdown text, as plain words for a calendar title.
fn first_line(md: &str) -> String {
    let line = md
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let plain: String = line.chars().filter(|c| !"*_`#>[]".contains(*c)).collect();
    plain.chars().take(80).collect()
}

impl App {
    /// Makes a new private feed URL token for the actor (the old one stops working).
    pub async fn new_calendar_token(&self, actor: &Actor) -> Result<String, AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        if !matches!(actor.role, Role::Pupil | Role::Parent) {
            return Err(AppError::Forbidden);
        }
        let token = new_session_token();
        self.store
            .set_calendar_token(school, actor.user_id, &hash_token(&token), self.now())
            .await?;
        Ok(token)
    }

    pub async fn revoke_calendar(&self, actor: &Actor) -> Result<(), AppError> {
        self.store.delete_calendar_token(actor.user_id).await?;
        Ok(())
    }

    pub async fn has_calendar(&self, actor: &Actor) -> Result<bool, AppError> {
        Ok(self.store.has_calendar(actor.user_id).await?)
    }

    /// The feed a token opens, or `None` (unknown or revoked token, disabled account).
    pub async fn calendar_feed(&self, token: &str) -> Result<Option<String>, AppError> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let Some(user) = self.store.calendar_owner(&hash_token(token)).await? else {
            return Ok(None);
        };
        let Some(actor) = self.store.actor(user).await? else {
            return Ok(None);
        };
        let Some(school) = actor.school_id else {
            return Ok(None);
        };
        // Whose homework: the pupil's own, or each child's (class and groups).
        let pupils: Vec<(UserId, String, Cohorts)> = match actor.role {
            Role::Pupil => vec![(actor.user_id, String::new(), pupil_cohorts(&actor))],
            Role::Parent => {
                let mut children = Vec::new();
                for c in self.store.children_of(school, actor.user_id).await? {
                    let cohorts = self.store.pupil_cohorts(school, c.child.id).await?;
                    children.push((c.child.id, c.child.first_name.clone(), cohorts));
                }
                children
            }
            _ => return Ok(None),
        };
        let today = Day::in_paris(self.now());
        let (from, to) = (today.plus(-PAST_DAYS), today.plus(AHEAD_DAYS));
        let mut events = Vec::new();
        for (pupil, name, cohorts) in &pupils {
            let prefix = if name.is_empty() {
                String::new()
            } else {
                format!("{name} — ")
            };
            for d in self
                .store
                .homework_due(
                    school,
                    cohorts,
                    &from.iso(),
                    &to.iso(),
                    self.now(),
                    Some(*pupil),
                )
                .await?
            {
                let Some(day) = d.lesson.fields.due_date.as_deref().and_then(Day::parse) else {
                    continue;
                };
                let test = if d.lesson.fields.is_test {
                    " (évaluation)"
                } else {
                    ""
                };
                events.push(CalendarEvent {
                    uid: format!("devoir-{}-{}@cartable", d.lesson.id, pupil),
                    summary: format!(
                        "{prefix}{}{test} : {}",
                        d.lesson.fields.subject,
                        first_line(&d.lesson.fields.homework_md)
                    ),
                    description: d.lesson.fields.homework_md.clone(),
                    when: EventTime::Day(day),
                });
            }
            for a in self
                .store
                .cohort_assignments(school, cohorts, from.start_unix())
                .await?
            {
                if a.due_at > to.start_unix() {
                    continue;
                }
                events.push(CalendarEvent {
                    uid: format!("rendu-{}-{}@cartable", a.id, pupil),
                    summary: format!("{prefix}À rendre : {} — {}", a.subject, a.title),
                    description: String::new(),
                    when: EventTime::At(a.due_at),
                });
            }
        }
        Ok(Some(render_ics("Cartable — devoirs", &events, self.now())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_lines_folded() {
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        let long = format!("SUMMARY:{}", "é".repeat(60));
        let folded = fold(&long);
        assert!(folded.split("\r\n").all(|l| l.len() <= 75), "{folded:?}");
        assert_eq!(folded.replace("\r\n ", "").trim_end(), long);
    }

    #[test]
    fn a_feed_is_valid_icalendar() {
        let day = Day::parse("2026-09-03").unwrap();
        let ics = render_ics(
            "Cartable — devoirs",
            &[
                CalendarEvent {
                    uid: "devoir-1-2@cartable".into(),
                    summary: "Mathématiques : exercices 3, 4; p. 52".into(),
                    description: "Faire **tout**".into(),
                    when: EventTime::Day(day),
                },
                CalendarEvent {
                    uid: "rendu-1-2@cartable".into(),
                    summary: "À rendre".into(),
                    description: String::new(),
                    when: EventTime::At(1_788_220_800 + 16 * 3600),
                },
            ],
            1_788_220_800,
        );
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(ics.contains("DTSTART;VALUE=DATE:20260903\r\nDTEND;VALUE=DATE:20260904\r\n"));
        assert!(ics.contains("SUMMARY:Mathématiques : exercices 3\\, 4\\; p. 52\r\n"));
        assert!(ics.contains("DTSTART:20260901T153000Z\r\nDTEND:20260901T160000Z\r\n"));
        assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2);
        assert!(
            !ics.replace("\r\n", "").contains('\n'),
            "only CRLF line ends"
        );
    }

    #[test]
    fn first_line_is_plain() {
        assert_eq!(
            first_line("\n**Exercices** 3 et 4\nsuite"),
            "Exercices 3 et 4"
        );
    }
}
