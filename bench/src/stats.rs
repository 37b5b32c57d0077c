//! Summary statistics of a handful of timings.

/// Median, 90th percentile (nearest rank), minimum and maximum.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    pub p90: f64,
    pub min: f64,
    pub max: f64,
}

pub fn summarize(samples: &[f64]) -> Summary {
    if samples.is_empty() {
        return Summary::default();
    }
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    let rank = ((0.9 * n as f64).ceil() as usize).clamp(1, n);
    Summary {
        n,
        median,
        p90: s[rank - 1],
        min: s[0],
        max: s[n - 1],
    }
}

/// Rounds for display and JSON: 3 decimals.
pub fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `a / b`, or 0 when `b` is 0 (a baseline too small to measure).
pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p90() {
        let s = summarize(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((s.median, s.min, s.max, s.p90), (3.0, 1.0, 5.0, 5.0));
        let s = summarize(&(1..=20).map(f64::from).collect::<Vec<_>>());
        assert_eq!((s.median, s.p90), (10.5, 18.0));
        assert_eq!(summarize(&[]).n, 0);
    }
}
