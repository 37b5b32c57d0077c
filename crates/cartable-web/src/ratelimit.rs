//! Rate limits per action, keyed by account and by client address.
//!
//! Abuse is not load: a pupil who clicks "rendre" 50 times in a minute, or a
//! script trying passwords, is slowed down; a school of 800 pupils behind one
//! NAT address at 8:00 is not. Hence two ceilings per action: a modest one per
//! account, and a high one per address (IPv6 grouped by /64, since one home
//! or school gets a whole /64).
//!
//! Each limit is a GCRA (the "generic cell rate algorithm" of ATM networks, a
//! token bucket kept as one timestamp per key): `burst` requests at once, then
//! one every `interval`. Hand-written: 40 lines, where a crate would bring a
//! keyed store we still need to bound and sweep ourselves.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The address a limit is keyed on: IPv4 as is, IPv6 by its /64.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Rate {
    /// Requests allowed at once.
    pub burst: u32,
    /// Then one per interval.
    pub interval: Duration,
}

impl Rate {
    pub const fn per_minute(burst: u32, per_minute: u32) -> Rate {
        Rate {
            burst,
            interval: Duration::from_millis(60_000 / per_minute as u64),
        }
    }
}

/// Keys kept at most per limiter; beyond, expired keys are swept, and if none
/// expired the request is let through untracked rather than growing memory.
const MAX_KEYS: usize = 200_000;

pub struct Limiter<K> {
    rate: Rate,
    /// Per key: the theoretical arrival time of the next request.
    tat: Mutex<HashMap<K, Instant>>,
}

impl<K: std::hash::Hash + Eq + Clone> Limiter<K> {
    pub fn new(rate: Rate) -> Limiter<K> {
        Limiter {
            rate,
            tat: Mutex::new(HashMap::new()),
        }
    }

    /// Ok, or how long to wait before this key may try again.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let interval = self.rate.interval;
        let tolerance = interval * self.rate.burst.saturating_sub(1);
        let mut map = self.tat.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_KEYS && !map.contains_key(key) {
            map.retain(|_, tat| *tat > now);
            if map.len() >= MAX_KEYS {
                return Ok(());
            }
        }
        let tat = map.get(key).copied().unwrap_or(now).max(now);
        let allow_at = tat.checked_sub(tolerance).unwrap_or(now);
        if allow_at > now {
            return Err(allow_at - now);
        }
        map.insert(key.clone(), tat + interval);
        Ok(())
    }
}

/// The actions with a limit, their codes (metrics, error codes) and rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Login,
    HandIn,
    Message,
    Search,
    /// Taking a place in the waiting room (a flood of cookie-less requests
    /// must not fill the line).
    Queue,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::HandIn => "handin",
            Action::Message => "message",
            Action::Search => "search",
            Action::Queue => "queue",
        }
    }

    /// Per account.
    fn account_rate(self) -> Rate {
        match self {
            // Wrong passwords already pause the account (auth's soft lock);
            // this bounds a script replaying a right one.
            Action::Login => Rate::per_minute(30, 20),
            Action::HandIn => Rate::per_minute(20, 20),
            Action::Message => Rate::per_minute(20, 10),
            Action::Search => Rate::per_minute(60, 60),
            Action::Queue => Rate::per_minute(60, 60),
        }
    }

    /// Per address: a whole school behind one NAT must fit.
    fn address_rate(self) -> Rate {
        match self {
            Action::Login => Rate::per_minute(1_500, 1_200),
            Action::HandIn => Rate::per_minute(1_500, 1_200),
            Action::Message => Rate::per_minute(600, 600),
            Action::Search => Rate::per_minute(3_000, 3_000),
            Action::Queue => Rate::per_minute(3_000, 3_000),
        }
    }

    const ALL: [Action; 5] = [
        Action::Login,
        Action::HandIn,
        Action::Message,
        Action::Search,
        Action::Queue,
    ];
}

/// All limiters of the node.
pub struct RateLimits {
    /// Off only for tests that replay a corpus through one account.
    enabled: bool,
    by_account: HashMap<Action, Limiter<String>>,
    by_address: HashMap<Action, Limiter<IpAddr>>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            enabled: true,
            by_account: Action::ALL
                .into_iter()
                .map(|a| (a, Limiter::new(a.account_rate())))
                .collect(),
            by_address: Action::ALL
                .into_iter()
                .map(|a| (a, Limiter::new(a.address_rate())))
                .collect(),
        }
    }
}

impl RateLimits {
    /// No limits: for tests that post a whole corpus as one pupil.
    pub fn off() -> RateLimits {
        RateLimits {
            enabled: false,
            ..RateLimits::default()
        }
    }

    /// Checks the address first (cheap to refuse a flood), then the account.
    pub fn check(
        &self,
        action: Action,
        account: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<(), Duration> {
        if !self.enabled {
            return Ok(());
        }
        let now = Instant::now();
        if let Some(ip) = ip {
            self.by_address[&action].check(&client_key(ip), now)?;
        }
        if let Some(account) = account {
            self.by_account[&action].check(&account.to_string(), now)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_interval() {
        let l = Limiter::new(Rate {
            burst: 3,
            interval: Duration::from_secs(10),
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check(&"a", t0).is_ok());
        }
        let wait = l.check(&"a", t0).unwrap_err();
        assert_eq!(wait, Duration::from_secs(10));
        // Another key is not affected.
        assert!(l.check(&"b", t0).is_ok());
        assert!(l.check(&"a", t0 + Duration::from_secs(10)).is_ok());
        assert!(l.check(&"a", t0 + Duration::from_secs(10)).is_err());
    }

    #[test]
    fn ipv6_is_grouped_by_64_and_mapped_v4_is_v4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_school_nat_logs_in_a_whole_morning_but_one_account_is_slowed() {
        let limits = RateLimits::default();
        let nat: IpAddr = "203.0.113.7".parse().unwrap();
        // 800 pupils behind one address log in at once.
        for i in 0..800 {
            let account = format!("eleve{i}");
            assert!(limits
                .check(Action::Login, Some(&account), Some(nat))
                .is_ok());
        }
        // One account trying again and again is limited.
        let mut refused = 0;
        for _ in 0..40 {
            if limits
                .check(Action::Login, Some("eleve1"), Some(nat))
                .is_err()
            {
                refused += 1;
            }
        }
        assert!(refused >= 10, "{refused}");
    }
}
