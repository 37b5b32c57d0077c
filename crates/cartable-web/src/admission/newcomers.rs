//! Who is likely to come and still go ahead: the part of the estimated wait
//! that the places in line alone do not show.
//!
//! With schools taking turns, a pupil of a big school waits behind the
//! *newcomers* of smaller schools too: each other school gets as many turns
//! before them as they have people ahead in their own school's line, whether
//! those people are there yet or not. Teachers arriving later go ahead of
//! everyone, and a parent lets pupils arriving up to two minutes after them go
//! first. Measured in the drill, the first wait shown to a crowd's first
//! seconds was half the real one for that reason alone.
//!
//! How many more will come is not known; the guess here is that the crowd
//! goes on as it came: each school's arrivals since the crowd formed (within
//! the rate window; forgotten when the line empties) come again at the same
//! pace, over the wait but for no longer than the crowd has lasted. A crowd
//! that stops early makes this pessimistic for its last arrivals, a crowd that
//! grows optimistic for its first; both err less than assuming nobody else
//! comes.

use std::collections::{HashMap, VecDeque};

use super::line::{Lane, Millis, SchoolKey};

/// People who took a place in line recently, by lane and school.
#[derive(Default)]
pub(crate) struct RecentArrivals {
    /// (when, lane, school), in arrival order, within the window.
    log: VecDeque<(Millis, Lane, SchoolKey)>,
    /// Pupils by school (the normal lane), as in `log`.
    pupils: HashMap<SchoolKey, u32>,
    /// By lane, as in `log`.
    by_lane: [u32; 3],
}

impl RecentArrivals {
    pub(crate) fn push(&mut self, now: Millis, lane: Lane, school: SchoolKey) {
        self.log.push_back((now, lane, school));
        self.by_lane[lane as usize] += 1;
        if lane == Lane::Normal {
            *self.pupils.entry(school).or_default() += 1;
        }
    }

    /// Forgets the arrivals before `since`.
    pub(crate) fn forget_before(&mut self, since: Millis) {
        while let Some(&(t, lane, school)) = self.log.front() {
            if t >= since {
                break;
            }
            self.log.pop_front();
            self.by_lane[lane as usize] -= 1;
            if lane == Lane::Normal {
                if let Some(n) = self.pupils.get_mut(&school) {
                    *n -= 1;
                    if *n == 0 {
                        self.pupils.remove(&school);
                    }
                }
            }
        }
    }

    /// Forgets everyone (the crowd is over).
    pub(crate) fn clear(&mut self) {
        self.log.clear();
        self.pupils.clear();
        self.by_lane = [0; 3];
    }

    /// Arrivals in `lane`, recently.
    pub(crate) fn in_lane(&self, lane: Lane) -> f64 {
        f64::from(self.by_lane[lane as usize])
    }

    /// Pupils of each school, recently.
    pub(crate) fn pupils(&self) -> impl Iterator<Item = (SchoolKey, f64)> + '_ {
        self.pupils.iter().map(|(s, n)| (*s, f64::from(*n)))
    }
}

/// The wait (ms) of someone with `ahead` people before them now, at `rate`
/// turns per second, when those counted in `newcomers(wait)` will also come
/// and go first: the `w` where `w = (ahead + newcomers(w)) / rate`.
/// `newcomers` grows with the wait, concave and bounded (by `most`), so that
/// `w` is one point between the wait without newcomers and the wait with all
/// of them; found by halving (substitution crawls when arrivals are close
/// to the rate).
pub(crate) fn wait_with_newcomers(
    ahead: f64,
    rate: f64,
    most: f64,
    newcomers: impl Fn(f64) -> f64,
) -> f64 {
    let rate = rate.max(f64::MIN_POSITIVE);
    let wait = |extra: f64| (ahead + extra) / rate * 1000.0;
    let (mut low, mut high) = (wait(0.0), wait(most.max(0.0)));
    // 30 halvings: a wait of hours to within a few milliseconds.
    for _ in 0..30 {
        if high - low < 1.0 {
            break;
        }
        let mid = (low + high) / 2.0;
        if wait(newcomers(mid)) > mid {
            low = mid;
        } else {
            high = mid;
        }
    }
    high
}

/// How many times the recent arrivals (those of the last `window_ms`) are
/// expected again over the next `horizon_ms`, for a crowd `age_ms` old: at
/// the rate they came, for as long as the crowd has lasted at most.
pub(crate) fn times_again(horizon_ms: f64, age_ms: f64, window_ms: f64) -> f64 {
    let period = age_ms.min(window_ms);
    if period <= 0.0 {
        return 0.0;
    }
    horizon_ms.clamp(0.0, age_ms) / period
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_counts_by_lane_and_school_and_forgets() {
        let mut r = RecentArrivals::default();
        r.push(0, Lane::Normal, 1);
        r.push(10, Lane::Normal, 1);
        r.push(20, Lane::Normal, 2);
        r.push(30, Lane::Casual, 1);
        assert_eq!(r.in_lane(Lane::Normal), 3.0);
        assert_eq!(r.in_lane(Lane::Casual), 1.0);
        let mut p: Vec<_> = r.pupils().collect();
        p.sort_by_key(|(s, _)| *s);
        assert_eq!(p, vec![(1, 2.0), (2, 1.0)]);
        r.forget_before(15);
        let p: Vec<_> = r.pupils().collect();
        assert_eq!(p, vec![(2, 1.0)]);
        assert_eq!(r.in_lane(Lane::Normal), 1.0);
        r.forget_before(1_000);
        assert_eq!(r.pupils().count(), 0);
        assert_eq!(r.in_lane(Lane::Casual), 0.0);
    }

    #[test]
    fn the_wait_settles_where_the_newcomers_stop_counting() {
        // 100 ahead at 10/s: 10 s; 50 more are bound to come over any wait
        // of 5 s or more: 15 s.
        let w = wait_with_newcomers(100.0, 10.0, 50.0, |w| if w >= 5_000.0 { 50.0 } else { 0.0 });
        assert!((w - 15_000.0).abs() < 2.0, "{w}");
        // Nobody else: the place over the rate.
        assert_eq!(wait_with_newcomers(100.0, 10.0, 0.0, |_| 0.0), 10_000.0);
        // Newcomers at 0.95 of the rate for two minutes (a parent's yield):
        // substituting six times stopped at half the wait; halving finds it.
        let w = wait_with_newcomers(100.0, 10.0, 1_140.0, |w| 9.5 * w.min(120_000.0) / 1000.0);
        let exact = (100.0 + 1_140.0) / 10.0 * 1000.0;
        assert!((w - exact).abs() < 2.0, "{w} against {exact}");
        // A crowd 10 s old, a window of 20 s: half as many again over a
        // wait of 5 s, as many again (not more) over a wait of 50 s.
        assert_eq!(times_again(5_000.0, 10_000.0, 20_000.0), 0.5);
        assert_eq!(times_again(50_000.0, 10_000.0, 20_000.0), 1.0);
        // A crowd 60 s old, the window's 20 s: three times over a minute.
        assert_eq!(times_again(60_000.0, 60_000.0, 20_000.0), 3.0);
        assert_eq!(times_again(50_000.0, 0.0, 20_000.0), 0.0);
    }
}
