//! How many people per second may come through the door, measured rather
//! than guessed. Everyone let in is about to spend one password hash (a login
//! or an activation), so the door lets in what the hashing threads sustain:
//! their number divided by the time a hash takes *here and now* (measured on
//! every hash, so it includes whatever else the machine is doing), with some
//! headroom. Two corrections on top, both from measured delays:
//! - when hashes queue beyond the target delay, the rate is cut in proportion
//!   until the queue drains (twice the target delay: half the rate);
//! - when the async runtime itself lags (the pages, not the hashes, are what
//!   the machine cannot keep up with), a multiplier shrinks by a fifth at a
//!   time and grows back slowly (additive increase, multiplicative decrease).
//!
//! Why not probe the rate upwards until hashes queue (TCP-style)? People let
//! in come back for their turn one refresh later and then type a password:
//! the effect of a rate shows seconds late, and a probe that grows "while
//! nothing queues" overshoots during that delay and then starves the door
//! (the drill showed both).

/// One reading of the signals, taken every tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signals {
    /// Hashes the threads can finish per second at the measured hash time.
    pub hash_service_per_s: f64,
    /// Mean time the hashes finished during the tick waited for a thread (ms);
    /// None when no hash finished.
    pub hash_queue_ms: Option<f64>,
    /// The work queued right now, in ms before a hash arriving now would
    /// start (queued hashes × mean hash time ÷ threads).
    pub hash_backlog_ms: f64,
    /// How late the tick itself fired (ms): the async runtime's own queueing.
    pub runtime_lag_ms: f64,
}

#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// Share of the hash capacity offered at the door (below 1: a queue at
    /// full load grows without bound).
    pub headroom: f64,
    /// Hashes may wait this long before the rate is cut.
    pub target_hash_queue_ms: f64,
    /// The runtime may lag this much before the rate shrinks.
    pub target_runtime_lag_ms: f64,
    pub min_rate: f64,
    pub max_rate: f64,
}

#[derive(Debug, Clone)]
pub struct CapacityProbe {
    cfg: ProbeConfig,
    rate: f64,
    /// Hashes per second the threads sustain, as last measured.
    hash_capacity: f64,
    /// The runtime-lag multiplier (0.05 to 1).
    lag_factor: f64,
    /// Ticks to wait after a lag cut before the next one.
    cooldown: u32,
}

impl CapacityProbe {
    /// Starts from `hash_capacity` (hashes per second, until measured).
    pub fn new(cfg: ProbeConfig, hash_capacity: f64) -> CapacityProbe {
        let rate = (hash_capacity * cfg.headroom).clamp(cfg.min_rate, cfg.max_rate);
        CapacityProbe {
            cfg,
            rate,
            hash_capacity,
            lag_factor: 1.0,
            cooldown: 0,
        }
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }

    pub fn hash_capacity(&self) -> f64 {
        self.hash_capacity
    }

    /// Updates the rate from one tick's signals and returns it.
    pub fn observe(&mut self, s: Signals) -> f64 {
        self.hash_capacity = s.hash_service_per_s;
        self.cooldown = self.cooldown.saturating_sub(1);
        if s.runtime_lag_ms > self.cfg.target_runtime_lag_ms {
            if self.cooldown == 0 {
                self.lag_factor = (self.lag_factor * 0.8).max(0.05);
                self.cooldown = 4;
            }
        } else {
            self.lag_factor = (self.lag_factor + 0.02).min(1.0);
        }
        let delay = s.hash_queue_ms.unwrap_or(0.0).max(s.hash_backlog_ms);
        let drain = if delay > self.cfg.target_hash_queue_ms {
            (self.cfg.target_hash_queue_ms / delay).clamp(0.3, 1.0)
        } else {
            1.0
        };
        self.rate = (s.hash_service_per_s * self.cfg.headroom * self.lag_factor * drain)
            .clamp(self.cfg.min_rate, self.cfg.max_rate);
        self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe() -> CapacityProbe {
        CapacityProbe::new(
            ProbeConfig {
                headroom: 0.85,
                target_hash_queue_ms: 100.0,
                target_runtime_lag_ms: 50.0,
                min_rate: 0.5,
                max_rate: 500.0,
            },
            2000.0 / 30.0,
        )
    }

    /// Two threads of 30 ms: 66.7 hashes per second.
    fn tick() -> Signals {
        Signals {
            hash_service_per_s: 2000.0 / 30.0,
            hash_queue_ms: Some(5.0),
            hash_backlog_ms: 0.0,
            runtime_lag_ms: 1.0,
        }
    }

    #[test]
    fn offers_what_the_threads_sustain_with_headroom() {
        let mut p = probe();
        let r = p.observe(tick());
        assert!((r - 56.7).abs() < 0.1, "{r}");
        // A slower hash (a busy machine) lowers it at once.
        let r = p.observe(Signals {
            hash_service_per_s: 2000.0 / 120.0,
            ..tick()
        });
        assert!((r - 14.2).abs() < 0.1, "{r}");
    }

    #[test]
    fn cuts_in_proportion_to_the_queue_even_before_a_hash_finishes() {
        let mut p = probe();
        let r = p.observe(Signals {
            hash_queue_ms: None,
            hash_backlog_ms: 200.0,
            ..tick()
        });
        assert!((r - 28.3).abs() < 0.1, "twice the target: half, {r}");
        let r = p.observe(Signals {
            hash_queue_ms: Some(5_000.0),
            ..tick()
        });
        assert!((r - 17.0).abs() < 0.1, "never below 30%: {r}");
    }

    #[test]
    fn a_lagging_runtime_shrinks_the_rate_and_it_grows_back_slowly() {
        let mut p = probe();
        let lag = Signals {
            runtime_lag_ms: 400.0,
            ..tick()
        };
        let r1 = p.observe(lag);
        assert!((r1 - 45.3).abs() < 0.1, "{r1}");
        // Not again during the cooldown.
        assert_eq!(p.observe(lag), r1);
        for _ in 0..200 {
            p.observe(lag);
        }
        assert!(p.rate() < 3.0, "{}", p.rate());
        for _ in 0..10 {
            p.observe(tick());
        }
        assert!(p.rate() < 15.0, "{}", p.rate());
        for _ in 0..60 {
            p.observe(tick());
        }
        assert!((p.rate() - 56.7).abs() < 0.1, "{}", p.rate());
    }

    #[test]
    fn never_outside_the_bounds() {
        let mut p = probe();
        let r = p.observe(Signals {
            hash_service_per_s: 1e9,
            ..tick()
        });
        assert_eq!(r, 500.0);
        let r = p.observe(Signals {
            hash_service_per_s: 0.0,
            ..tick()
        });
        assert_eq!(r, 0.5);
    }

    /// A simulated node: 2 threads of 30 ms (66 hashes/s); people let in
    /// come back for their turn `delay_ticks` later (their next refresh)
    /// and all hash then. Returns the rates and the worst queue (ms).
    fn simulate(delay_ticks: usize) -> (Vec<f64>, f64) {
        let mut p = probe();
        let capacity = 2000.0 / 30.0;
        let tick_s = 0.25;
        let mut backlog: f64 = 0.0;
        let mut in_flight = std::collections::VecDeque::from(vec![0.0; delay_ticks]);
        let (mut rates, mut worst) = (Vec::new(), 0.0f64);
        for _ in 0..600 {
            in_flight.push_back(p.rate() * tick_s);
            let arriving = in_flight.pop_front().unwrap_or(0.0);
            let served = (backlog + arriving).min(capacity * tick_s);
            backlog = backlog + arriving - served;
            let delay_ms = backlog / capacity * 1000.0;
            worst = worst.max(delay_ms);
            rates.push(p.observe(Signals {
                hash_queue_ms: Some(delay_ms),
                hash_backlog_ms: delay_ms,
                ..tick()
            }));
        }
        (rates, worst)
    }

    #[test]
    fn settles_near_what_the_hashes_sustain_even_when_people_come_back_late() {
        for delay_ticks in [0, 4, 8, 40] {
            let (rates, worst) = simulate(delay_ticks);
            let late = &rates[300..];
            let mean = late.iter().sum::<f64>() / late.len() as f64;
            assert!((50.0..=60.0).contains(&mean), "delay {delay_ticks}: {mean}");
            assert!(worst < 100.0, "delay {delay_ticks}: queue of {worst} ms");
        }
    }
}
