//! How many people per second may come through the door, measured rather
//! than guessed: the rate grows while people wait and the password hashes
//! still start promptly (and the runtime answers on time), and shrinks as
//! soon as hashes queue or the runtime lags. The rule of TCP congestion
//! control (additive increase, multiplicative decrease) with queueing delay
//! as the congestion signal, so each node finds its own capacity, whatever
//! its cores, its hash cost, or what else it is doing.

/// One reading of the signals, taken every tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signals {
    /// Mean time the hashes finished during the tick waited for a thread (ms);
    /// None when no hash finished.
    pub hash_queue_ms: Option<f64>,
    /// How late the tick itself fired (ms): the async runtime's own queueing.
    pub runtime_lag_ms: f64,
    /// Whether anyone is in the waiting room (the rate is what holds them).
    pub people_waiting: bool,
}

#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// Hashes may wait this long before the rate shrinks.
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
    /// Ticks to wait after a decrease before the next one (the queue needs
    /// time to drain; cutting every tick would collapse the rate).
    cooldown: u32,
}

impl CapacityProbe {
    pub fn new(cfg: ProbeConfig, initial: f64) -> CapacityProbe {
        let rate = initial.clamp(cfg.min_rate, cfg.max_rate);
        CapacityProbe {
            cfg,
            rate,
            cooldown: 0,
        }
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Updates the rate from one tick's signals and returns it.
    pub fn observe(&mut self, s: Signals) -> f64 {
        let congested = s
            .hash_queue_ms
            .is_some_and(|q| q > self.cfg.target_hash_queue_ms)
            || s.runtime_lag_ms > self.cfg.target_runtime_lag_ms;
        self.cooldown = self.cooldown.saturating_sub(1);
        if congested {
            if self.cooldown == 0 {
                self.rate *= 0.8;
                self.cooldown = 4;
            }
        } else if s.people_waiting {
            // Only grow a rate that holds people back: an idle node learns
            // nothing about its capacity.
            self.rate += (self.rate * 0.03).max(0.3);
        }
        self.rate = self.rate.clamp(self.cfg.min_rate, self.cfg.max_rate);
        self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe() -> CapacityProbe {
        CapacityProbe::new(
            ProbeConfig {
                target_hash_queue_ms: 150.0,
                target_runtime_lag_ms: 50.0,
                min_rate: 0.5,
                max_rate: 500.0,
            },
            40.0,
        )
    }

    fn tick(hash: Option<f64>, people_waiting: bool) -> Signals {
        Signals {
            hash_queue_ms: hash,
            runtime_lag_ms: 1.0,
            people_waiting,
        }
    }

    #[test]
    fn grows_while_people_wait_and_hashes_start_promptly() {
        let mut p = probe();
        for _ in 0..20 {
            p.observe(tick(Some(5.0), true));
        }
        assert!(p.rate() > 60.0, "{}", p.rate());
    }

    #[test]
    fn does_not_grow_when_nobody_waits() {
        let mut p = probe();
        for _ in 0..20 {
            p.observe(tick(Some(5.0), false));
        }
        assert_eq!(p.rate(), 40.0);
    }

    #[test]
    fn shrinks_when_hashes_queue_or_the_runtime_lags_but_not_below_the_floor() {
        let mut p = probe();
        p.observe(tick(Some(900.0), true));
        assert_eq!(p.rate(), 32.0);
        // Not again during the cooldown: the queue needs time to drain.
        p.observe(tick(Some(900.0), true));
        assert_eq!(p.rate(), 32.0);
        for _ in 0..500 {
            p.observe(tick(Some(900.0), true));
        }
        assert_eq!(p.rate(), 0.5);
        let mut q = probe();
        q.observe(Signals {
            hash_queue_ms: None,
            runtime_lag_ms: 400.0,
            people_waiting: true,
        });
        assert!(q.rate() < 40.0);
    }

    #[test]
    fn settles_near_what_the_hashes_sustain() {
        // A simulated node: 2 threads of 30 ms (66 hashes/s), everyone admitted
        // hashes at once; the queue delay follows the backlog.
        let mut p = probe();
        let capacity = 66.0;
        let mut backlog: f64 = 0.0;
        let mut rates = Vec::new();
        for _ in 0..400 {
            let admitted = p.rate() * 0.25;
            backlog = (backlog + admitted - capacity * 0.25).max(0.0);
            let delay_ms = backlog / capacity * 1000.0;
            rates.push(p.observe(tick(Some(delay_ms), true)));
        }
        let late = &rates[200..];
        let mean = late.iter().sum::<f64>() / late.len() as f64;
        assert!((45.0..=90.0).contains(&mean), "{mean}");
    }
}
