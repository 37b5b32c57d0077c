//! When pupils arrive.
//!
//! A school morning, compressed: the real window 7:30 → 8:15 is mapped onto
//! `[0, duration]`, and arrival times follow a Beta(5, 3) bump over it. Its
//! mode is at 2/3 of the window, i.e. 8:00; about 88% of arrivals fall
//! between 7:45 and 8:10 (scaled), a few come early, almost none after 8:12.
//! At the peak the rate is about 2.3 times the average (N / duration).
//!
//! Beta(5, 3) is drawn as the 5th smallest of 7 uniform numbers (an order
//! statistic), which needs no distribution library.

use rand::Rng;

/// Minutes after midnight of the window's ends, and of the peak.
pub const WINDOW_START_MIN: f64 = 7.0 * 60.0 + 30.0;
pub const WINDOW_END_MIN: f64 = 8.0 * 60.0 + 15.0;

/// `n` arrival offsets in seconds, sorted, in `[0, duration_s]`.
pub fn morning(n: usize, duration_s: f64, rng: &mut impl Rng) -> Vec<f64> {
    let mut out: Vec<f64> = (0..n)
        .map(|_| {
            let mut u: [f64; 7] = std::array::from_fn(|_| rng.gen::<f64>());
            u.sort_by(f64::total_cmp);
            u[4] * duration_s
        })
        .collect();
    out.sort_by(f64::total_cmp);
    out
}

/// `n` arrivals at a steady `rate_per_s`, from 0.
pub fn steady(n: usize, rate_per_s: f64) -> Vec<f64> {
    let rate = rate_per_s.max(0.001);
    (0..n).map(|i| i as f64 / rate).collect()
}

/// The wall-clock time of the morning that an offset stands for ("7:58").
pub fn clock_label(offset_s: f64, duration_s: f64) -> String {
    let span = WINDOW_END_MIN - WINDOW_START_MIN;
    let m = WINDOW_START_MIN + offset_s / duration_s.max(1e-9) * span;
    let m = m.round() as i64;
    format!("{}:{:02}", m / 60, m % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn most_arrivals_between_745_and_810() {
        let mut rng = StdRng::seed_from_u64(7);
        let d = 900.0;
        let a = morning(20_000, d, &mut rng);
        assert!(a.windows(2).all(|w| w[0] <= w[1]));
        assert!(a[0] >= 0.0 && *a.last().unwrap() <= d);
        let span = WINDOW_END_MIN - WINDOW_START_MIN;
        let at = |min: f64| (min - WINDOW_START_MIN) / span * d;
        let core = a
            .iter()
            .filter(|&&t| t >= at(465.0) && t <= at(490.0))
            .count();
        let share = core as f64 / a.len() as f64;
        assert!(share > 0.8 && share < 0.95, "{share}");
        // The busiest minute is around 8:00.
        let mut per_min = vec![0usize; 46];
        for t in &a {
            per_min[(t / d * span) as usize] += 1;
        }
        let busiest = per_min
            .iter()
            .enumerate()
            .max_by_key(|(_, c)| **c)
            .unwrap()
            .0;
        assert!((26..=34).contains(&busiest), "{busiest}");
        assert_eq!(clock_label(d * 2.0 / 3.0, d), "8:00");
    }

    #[test]
    fn steady_rate() {
        let a = steady(5, 2.0);
        assert_eq!(a, vec![0.0, 0.5, 1.0, 1.5, 2.0]);
    }
}
