//! School days in France: dates as `YYYY-MM-DD`, "today" in Paris time (the
//! day a pupil sees on the wall clock, not UTC's), weeks from Monday.

/// Days since 1970-01-01 to (year, month, day) — Howard Hinnant's civil_from_days.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// (year, month, day) to days since 1970-01-01.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The last Sunday of a month, as days since the epoch.
fn last_sunday(y: i64, m: i64) -> i64 {
    let first_next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    let last = first_next - 1;
    // 1970-01-01 was a Thursday: weekday 0 = Monday.
    let weekday = (last + 3).rem_euclid(7);
    last - (weekday + 1) % 7
}

/// Paris offset from UTC at `unix` seconds: +2 h from the last Sunday of
/// March 01:00 UTC to the last Sunday of October 01:00 UTC, +1 h otherwise.
pub fn paris_offset_secs(unix: i64) -> i64 {
    let (y, _, _) = civil_from_days(unix.div_euclid(86_400));
    let summer_start = last_sunday(y, 3) * 86_400 + 3600;
    let summer_end = last_sunday(y, 10) * 86_400 + 3600;
    if (summer_start..summer_end).contains(&unix) {
        7200
    } else {
        3600
    }
}

/// A calendar day, ordered, printable as ISO and in French.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i64);

impl Day {
    /// The day it is in Paris at `unix` seconds.
    pub fn in_paris(unix: i64) -> Day {
        Day((unix + paris_offset_secs(unix)).div_euclid(86_400))
    }

    /// `YYYY-MM-DD` or `jj/mm/aaaa`.
    pub fn parse(raw: &str) -> Option<Day> {
        let d = crate::names::BirthDate::parse(raw).ok()?;
        let iso = d.iso();
        let mut parts = iso.split('-').map(|p| p.parse::<i64>());
        let (y, m, dd) = (
            parts.next()?.ok()?,
            parts.next()?.ok()?,
            parts.next()?.ok()?,
        );
        Some(Day(days_from_civil(y, m, dd)))
    }

    pub fn iso(&self) -> String {
        let (y, m, d) = civil_from_days(self.0);
        format!("{y:04}-{m:02}-{d:02}")
    }

    pub fn french(&self) -> String {
        let (y, m, d) = civil_from_days(self.0);
        format!("{d:02}/{m:02}/{y:04}")
    }

    /// 0 = Monday … 6 = Sunday.
    pub fn weekday(&self) -> i64 {
        (self.0 + 3).rem_euclid(7)
    }

    pub fn weekday_fr(&self) -> &'static str {
        [
            "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
        ][self.weekday() as usize]
    }

    /// "mardi 1er septembre" style, without the year.
    pub fn long_fr(&self) -> String {
        const MONTHS: [&str; 12] = [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ];
        let (_, m, d) = civil_from_days(self.0);
        let day = if d == 1 {
            "1er".to_string()
        } else {
            d.to_string()
        };
        format!("{} {day} {}", self.weekday_fr(), MONTHS[(m - 1) as usize])
    }

    pub fn monday(&self) -> Day {
        Day(self.0 - self.weekday())
    }

    pub fn plus(&self, days: i64) -> Day {
        Day(self.0 + days)
    }

    /// Unix seconds at the Paris wall-clock time `secs` after midnight that
    /// day (18:00 is 18:00 on the days the clocks change too).
    pub fn at_paris(&self, secs: i64) -> i64 {
        let guess = self.0 * 86_400 + secs;
        guess - paris_offset_secs(guess - 3600)
    }

    /// Unix seconds at 00:00 Paris time that day.
    pub fn start_unix(&self) -> i64 {
        let guess = self.0 * 86_400;
        guess - paris_offset_secs(guess - 3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paris_days_and_weeks() {
        // 1 Sept 2026 00:00 UTC is 02:00 in Paris (summer time): still 1 Sept.
        assert_eq!(Day::in_paris(1_788_220_800).iso(), "2026-09-01");
        // 31 Aug 2026 22:30 UTC is already 1 Sept in Paris.
        assert_eq!(Day::in_paris(1_788_220_800 - 5400).iso(), "2026-09-01");
        // In winter the offset is one hour: 15 Jan 2027 23:30 UTC is 16 Jan.
        let jan = Day::parse("15/01/2027").unwrap().0 * 86_400 + 23 * 3600 + 1800;
        assert_eq!(Day::in_paris(jan).iso(), "2027-01-16");
        let d = Day::parse("2026-09-03").unwrap();
        assert_eq!(d.weekday_fr(), "jeudi");
        assert_eq!(d.monday().iso(), "2026-08-31");
        assert_eq!(
            Day::parse("01/09/2026").unwrap().long_fr(),
            "mardi 1er septembre"
        );
        assert_eq!(
            Day::in_paris(Day::parse("2026-09-01").unwrap().start_unix()).iso(),
            "2026-09-01"
        );
        assert_eq!(
            Day::in_paris(Day::parse("2027-01-15").unwrap().start_unix()).iso(),
            "2027-01-15"
        );
        assert!(Day::parse("31/02/2026").is_none());
    }

    #[test]
    fn wall_clock_times_across_clock_changes() {
        // 25 Oct 2026 (back to winter time at 03:00 local): 18:00 Paris is 17:00 UTC.
        let d = Day::parse("2026-10-25").unwrap();
        assert_eq!(d.at_paris(18 * 3600), d.0 * 86_400 + 17 * 3600);
        // 28 Mar 2027 (summer time from 02:00 local): 18:00 Paris is 16:00 UTC.
        let d = Day::parse("2027-03-28").unwrap();
        assert_eq!(d.at_paris(18 * 3600), d.0 * 86_400 + 16 * 3600);
        assert_eq!(d.at_paris(0), d.start_unix());
    }

    #[test]
    fn summer_time_boundaries_2026() {
        // 29 March 2026 01:00 UTC and 25 October 2026 01:00 UTC.
        let start = Day::parse("2026-03-29").unwrap().0 * 86_400 + 3600;
        let end = Day::parse("2026-10-25").unwrap().0 * 86_400 + 3600;
        assert_eq!(paris_offset_secs(start - 1), 3600);
        assert_eq!(paris_offset_secs(start), 7200);
        assert_eq!(paris_offset_secs(end - 1), 7200);
        assert_eq!(paris_offset_secs(end), 3600);
    }
}
