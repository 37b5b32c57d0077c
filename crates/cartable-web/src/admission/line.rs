//! The waiting line, without HTTP and without a clock (times are passed in as
//! milliseconds), so that its rules are tested exactly:
//!
//! - first come, first served within a school; schools take turns (round
//!   robin), so 3,000 pupils of one lycée do not starve a 300-pupil collège;
//! - three lanes: teachers and staff first, then pupils (and unknown
//!   visitors), then parents' visits, which yield two minutes to pupils (a
//!   parent is served as if they had arrived two minutes later: behind the
//!   class about to start, but never starved by a line that keeps growing);
//! - people are let in at a *rate* (per second), the one the capacity probe
//!   measures the password checks can sustain; a rate rather than a number
//!   of people inside, because between the door and the password check a
//!   person types for a while, and that time must not count as load;
//! - a place is kept across refreshes and for a few minutes without one;
//!   someone whose turn comes while they are away is skipped without using
//!   up a turn, and goes first when they come back.

use std::collections::{HashMap, VecDeque};

use super::newcomers::{self, RecentArrivals};

pub type Millis = u64;

/// A school's line; 0 when the visitor did not say which school.
pub type SchoolKey = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    /// Teachers and school staff: a class is about to start.
    Priority = 0,
    /// Pupils and visitors we know nothing about.
    Normal = 1,
    /// Parents' visits: served as if they had come `casual_yield_ms` later.
    Casual = 2,
}

impl Lane {
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(c: u8) -> Option<Lane> {
        match c {
            0 => Some(Lane::Priority),
            1 => Some(Lane::Normal),
            2 => Some(Lane::Casual),
            _ => None,
        }
    }
}

/// The slowest the door ever lets people in, per second.
pub const MIN_RATE: f64 = 0.5;
/// Time constant of the smoothed rate (ms): the probe's cuts last a tick or
/// two; a wait shown lasts tens of seconds.
const RATE_SMOOTHING_MS: f64 = 5_000.0;
/// Schools whose recent arrivals a wait shown counts at most (a node serves
/// hundreds).
const MAX_SCHOOLS_COUNTED: usize = 5_000;

#[derive(Debug, Clone)]
pub struct LineConfig {
    /// A waiting place is kept this long without a refresh.
    pub keep_place_ms: Millis,
    /// An admitted person must come back within their refresh interval plus
    /// this, or their turn passes (and is given to the next person).
    pub pickup_slack_ms: Millis,
    /// An entry pass is valid this long after admission.
    pub pass_valid_ms: Millis,
    /// Turns that may be given at once after a quiet moment, in seconds of
    /// the rate.
    pub burst_secs: f64,
    /// Login attempts one pass allows (typos), then back to the line.
    pub max_attempts: u8,
    /// Refresh interval bounds shown to waiting browsers.
    pub min_refresh_ms: Millis,
    pub max_refresh_ms: Millis,
    /// Window over which the admission rate (for the metrics) and the recent
    /// arrivals (for the newcomers a wait shown expects) are counted.
    pub rate_window_ms: Millis,
    /// Tickets kept in memory at most (beyond: shed).
    pub max_tickets: usize,
    /// How long a parent's visit yields to pupils.
    pub casual_yield_ms: Millis,
}

impl Default for LineConfig {
    fn default() -> Self {
        LineConfig {
            keep_place_ms: 5 * 60_000,
            pickup_slack_ms: 3_000,
            pass_valid_ms: 10 * 60_000,
            burst_secs: 0.5,
            max_attempts: 5,
            // One second: the head of a sudden crowd (all arrived within a
            // fraction of a second, all told the shortest refresh) comes back
            // in groups of one second of turns, not two; each group's logins
            // queue for the hash together, and that queue is their login time.
            min_refresh_ms: 1_000,
            max_refresh_ms: 15_000,
            rate_window_ms: 20_000,
            max_tickets: 500_000,
            casual_yield_ms: 120_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting {
        last_seen: Millis,
        refresh_ms: Millis,
    },
    /// Their turn came; it is kept for them until they come back.
    Called { at: Millis, pickup_by: Millis },
    /// Their turn came while they were away.
    Missed { last_seen: Millis },
    /// Inside the gate with a valid pass.
    Admitted { at: Millis, attempts: u8 },
}

#[derive(Debug, Clone)]
struct Ticket {
    lane: Lane,
    school: SchoolKey,
    first_seen: Millis,
    state: State,
}

/// What a visit with a ticket finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    /// No such ticket (forgotten, used up, or never issued).
    Unknown,
    Waiting(Place),
    /// Inside; `waited_ms` is set on the first visit after a wait.
    Admitted {
        waited_ms: Option<Millis>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub seq: u64,
    /// People who will be let in before this one (1 = next).
    pub position: u64,
    pub eta_ms: Millis,
    pub refresh_ms: Millis,
}

/// The outcome of asking to come in without a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    Admitted {
        seq: u64,
    },
    Waiting(Place),
    /// Too many tickets in memory: refuse (503) rather than grow.
    Full,
}

#[derive(Default)]
struct LaneQueue {
    by_school: HashMap<SchoolKey, VecDeque<u64>>,
    /// Schools with someone waiting, in serving order.
    turns: VecDeque<SchoolKey>,
    len: usize,
}

impl LaneQueue {
    fn push_back(&mut self, school: SchoolKey, seq: u64) {
        let q = self.by_school.entry(school).or_default();
        if q.is_empty() {
            self.turns.push_back(school);
        }
        q.push_back(seq);
        self.len += 1;
    }

    /// Back at the head of their school's line (a turn missed while away).
    fn push_front(&mut self, school: SchoolKey, seq: u64) {
        let q = self.by_school.entry(school).or_default();
        if q.is_empty() {
            self.turns.push_front(school);
        }
        q.push_front(seq);
        self.len += 1;
    }

    /// Who `pop` would return.
    fn peek(&self) -> Option<u64> {
        let school = self.turns.front()?;
        self.by_school.get(school)?.front().copied()
    }

    /// How many wait here who arrived before `t` (each school's line is in
    /// arrival order).
    fn arrived_before(&self, t: Millis, first_seen: impl Fn(u64) -> Millis) -> u64 {
        self.by_school
            .values()
            .map(|q| q.partition_point(|seq| first_seen(*seq) < t) as u64)
            .sum()
    }

    /// The next person of the next school in turn.
    fn pop(&mut self) -> Option<u64> {
        let school = self.turns.pop_front()?;
        let q = self.by_school.get_mut(&school)?;
        let seq = q.pop_front()?;
        self.len -= 1;
        if q.is_empty() {
            self.by_school.remove(&school);
        } else {
            self.turns.push_back(school);
        }
        Some(seq)
    }

    /// How many of `school` wait here.
    fn waiting_in(&self, school: SchoolKey) -> usize {
        self.by_school.get(&school).map_or(0, VecDeque::len)
    }

    /// The schools whose turn comes before `school`'s in this round.
    fn turns_before(&self, school: SchoolKey) -> std::collections::HashSet<SchoolKey> {
        self.turns
            .iter()
            .take_while(|s| **s != school)
            .copied()
            .collect()
    }

    /// How many of their own school wait ahead of `seq`.
    fn index_in_school(&self, school: SchoolKey, seq: u64) -> usize {
        self.by_school
            .get(&school)
            .map_or(0, |q| match q.binary_search(&seq) {
                Ok(i) | Err(i) => i,
            })
    }

    /// How many of this lane go before `seq` of `school`: with schools taking
    /// turns, each other school lets in at most as many as are ahead in ours
    /// (plus one if its turn comes before ours).
    fn ahead_of(&self, school: SchoolKey, seq: u64) -> u64 {
        if !self.by_school.contains_key(&school) {
            return 0;
        }
        let index = self.index_in_school(school, seq);
        let my_turn = self.turns.iter().position(|s| *s == school).unwrap_or(0);
        let mut ahead = index as u64;
        for (turn, other) in self.turns.iter().enumerate() {
            if *other == school {
                continue;
            }
            let len = self.waiting_in(*other);
            let rounds = index + usize::from(turn < my_turn);
            ahead += len.min(rounds) as u64;
        }
        ahead
    }
}

pub struct Line {
    cfg: LineConfig,
    next_seq: u64,
    tickets: HashMap<u64, Ticket>,
    lanes: [LaneQueue; 3],
    /// People let in per second (set by the capacity probe).
    rate: f64,
    /// The set rate averaged over the seconds before `rate_set_at`, for
    /// the waits shown ([`Line::eta_rate`]).
    smoothed_rate: f64,
    rate_set_at: Millis,
    /// Turns available now (a token bucket refilled at `rate`).
    allowance: f64,
    refilled_at: Millis,
    /// Called, not back yet.
    called: usize,
    /// When recent turns came, for the admission rate.
    recent_calls: VecDeque<Millis>,
    /// Since when someone has been waiting without a break: the age of the
    /// crowd, for how many more are expected ([`newcomers`]).
    busy_since: Option<Millis>,
    /// Who took a place in line recently, for the newcomers who will go
    /// ahead of someone already waiting.
    recent_arrivals: RecentArrivals,
    /// (deadline, seq) for Called tickets, in call order.
    pickups: VecDeque<(Millis, u64)>,
    /// (admitted at, seq), for pass expiry, in order.
    admissions: VecDeque<(Millis, u64)>,
    /// (last seen, seq) of missed turns, to forget them.
    missed: VecDeque<(Millis, u64)>,
    /// Counters since start, for the metrics.
    pub totals: LineTotals,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineTotals {
    pub admitted_at_once: u64,
    pub admitted_after_wait: u64,
    pub queued: u64,
    pub missed_turns: u64,
    pub abandoned: u64,
    pub shed: u64,
}

impl Line {
    pub fn new(cfg: LineConfig, rate: f64) -> Line {
        let allowance = (rate * cfg.burst_secs).max(1.0);
        Line {
            cfg,
            next_seq: 1,
            tickets: HashMap::new(),
            lanes: Default::default(),
            rate: rate.max(MIN_RATE),
            smoothed_rate: rate.max(MIN_RATE),
            rate_set_at: 0,
            allowance,
            refilled_at: 0,
            called: 0,
            recent_calls: VecDeque::new(),
            busy_since: None,
            recent_arrivals: RecentArrivals::default(),
            pickups: VecDeque::new(),
            admissions: VecDeque::new(),
            missed: VecDeque::new(),
            totals: LineTotals::default(),
        }
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }

    pub fn set_rate(&mut self, rate: f64, now: Millis) {
        self.refill(now);
        self.smoothed_rate = self.smoothed_rate_at(now);
        self.rate_set_at = now.max(self.rate_set_at);
        self.rate = rate.max(MIN_RATE);
        self.pump(now);
    }

    /// People whose turn came and who have not come back for it yet.
    pub fn called(&self) -> usize {
        self.called
    }

    fn refill(&mut self, now: Millis) {
        let elapsed = now.saturating_sub(self.refilled_at) as f64 / 1000.0;
        let cap = (self.rate * self.cfg.burst_secs).max(1.0);
        self.allowance = (self.allowance + elapsed * self.rate).min(cap);
        self.refilled_at = now.max(self.refilled_at);
    }

    pub fn waiting(&self) -> usize {
        self.lanes.iter().map(|l| l.len).sum()
    }

    /// Someone without a ticket asks to come in.
    pub fn arrive(&mut self, now: Millis, lane: Lane, school: SchoolKey) -> Arrival {
        self.pump(now);
        if self.tickets.len() >= self.cfg.max_tickets {
            self.totals.shed += 1;
            return Arrival::Full;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.waiting() == 0 && self.allowance >= 1.0 {
            self.tickets.insert(
                seq,
                Ticket {
                    lane,
                    school,
                    first_seen: now,
                    state: State::Waiting {
                        last_seen: now,
                        refresh_ms: 0,
                    },
                },
            );
            self.admit(seq, now);
            self.totals.admitted_at_once += 1;
            return Arrival::Admitted { seq };
        }
        let refresh_ms = self.cfg.min_refresh_ms;
        self.tickets.insert(
            seq,
            Ticket {
                lane,
                school,
                first_seen: now,
                state: State::Waiting {
                    last_seen: now,
                    refresh_ms,
                },
            },
        );
        self.lanes[lane as usize].push_back(school, seq);
        self.recent_arrivals.push(now, lane, school);
        self.totals.queued += 1;
        self.note_busy(now);
        match self.visit(now, seq) {
            Visit::Waiting(place) => Arrival::Waiting(place),
            // The pump let them in at once (a turn was free).
            _ => Arrival::Admitted { seq },
        }
    }

    /// The holder of ticket `seq` is back (a refresh, or the login form).
    pub fn visit(&mut self, now: Millis, seq: u64) -> Visit {
        self.pump(now);
        let Some(ticket) = self.tickets.get(&seq) else {
            return Visit::Unknown;
        };
        match ticket.state {
            State::Waiting { .. } => {
                let place = self.place_of(seq, now);
                if let Some(State::Waiting {
                    last_seen,
                    refresh_ms,
                }) = self.tickets.get_mut(&seq).map(|t| &mut t.state)
                {
                    *last_seen = now;
                    *refresh_ms = place.refresh_ms;
                }
                Visit::Waiting(place)
            }
            State::Called { at, .. } => {
                let first_seen = ticket.first_seen;
                self.called -= 1;
                self.set_state(seq, State::Admitted { at, attempts: 0 });
                self.admissions.push_back((now, seq));
                self.totals.admitted_after_wait += 1;
                Visit::Admitted {
                    waited_ms: Some(at.saturating_sub(first_seen)),
                }
            }
            State::Missed { .. } => {
                // Their turn passed while they were away: first in line again.
                let (lane, school) = (ticket.lane, ticket.school);
                self.set_state(
                    seq,
                    State::Waiting {
                        last_seen: now,
                        refresh_ms: self.cfg.min_refresh_ms,
                    },
                );
                self.lanes[lane as usize].push_front(school, seq);
                self.pump(now);
                self.visit(now, seq)
            }
            State::Admitted { at, .. } => {
                if now.saturating_sub(at) > self.cfg.pass_valid_ms {
                    self.forget(seq);
                    Visit::Unknown
                } else {
                    Visit::Admitted { waited_ms: None }
                }
            }
        }
    }

    /// A login attempt with this pass has finished (the hash is done).
    pub fn attempt_done(&mut self, now: Millis, seq: u64, signed_in: bool) {
        let Some(ticket) = self.tickets.get_mut(&seq) else {
            return;
        };
        if let State::Admitted { attempts, .. } = &mut ticket.state {
            *attempts = attempts.saturating_add(1);
            if signed_in || *attempts >= self.cfg.max_attempts {
                self.forget(seq);
            }
        }
        self.pump(now);
    }

    /// Whether `seq` holds a valid pass now.
    pub fn has_pass(&self, seq: u64, now: Millis) -> bool {
        matches!(
            self.tickets.get(&seq).map(|t| t.state),
            Some(State::Admitted { at, .. }) if now.saturating_sub(at) <= self.cfg.pass_valid_ms
        )
    }

    /// People let in per second, measured over the recent window.
    pub fn admission_rate(&self, now: Millis) -> f64 {
        let window = self.cfg.rate_window_ms.max(1);
        let since = now.saturating_sub(window);
        let n = self.recent_calls.iter().filter(|t| **t >= since).count();
        n as f64 * 1000.0 / window as f64
    }

    /// Gives the turns the rate allows, and handles the deadlines.
    pub fn pump(&mut self, now: Millis) {
        self.expire(now);
        self.refill(now);
        while self.allowance >= 1.0 {
            let Some(seq) = self.next_in_line() else {
                break;
            };
            let Some(ticket) = self.tickets.get(&seq) else {
                continue;
            };
            let State::Waiting {
                last_seen,
                refresh_ms,
            } = ticket.state
            else {
                continue;
            };
            if now.saturating_sub(last_seen) > self.cfg.keep_place_ms {
                self.totals.abandoned += 1;
                self.tickets.remove(&seq);
                continue;
            }
            if now.saturating_sub(last_seen) > refresh_ms + self.cfg.pickup_slack_ms {
                // Away (no refresh when one was due): skip without using a
                // turn; they go first when they come back.
                self.totals.missed_turns += 1;
                self.set_state(seq, State::Missed { last_seen });
                self.missed.push_back((last_seen, seq));
                continue;
            }
            let pickup_by = now + refresh_ms + self.cfg.pickup_slack_ms;
            self.set_state(seq, State::Called { at: now, pickup_by });
            self.allowance -= 1.0;
            self.called += 1;
            self.note_call(now);
            self.pickups.push_back((pickup_by, seq));
        }
        self.note_busy(now);
    }

    fn note_busy(&mut self, now: Millis) {
        if self.waiting() == 0 {
            // The crowd is over: the next one is guessed from its own
            // arrivals, not from this one's.
            if self.busy_since.take().is_some() {
                self.recent_arrivals.clear();
            }
        } else if self.busy_since.is_none() {
            self.busy_since = Some(now);
        }
    }

    /// Turns per second to promise: the set rate averaged over the last
    /// seconds (exponentially, [`RATE_SMOOTHING_MS`]). The probe cuts the
    /// rate for a tick or two whenever logins bunch up, and a wait shown
    /// lasts tens of seconds. (Counting the turns given since the line
    /// formed instead was tried: over a crowd's first seconds it reads the
    /// bunching of its start, and the drill's later arrivals were promised
    /// waits a third too long.)
    fn eta_rate(&self, now: Millis) -> f64 {
        self.smoothed_rate_at(now)
    }

    /// The set rate, averaged with weights fading over [`RATE_SMOOTHING_MS`]:
    /// the rate set last has held since then.
    fn smoothed_rate_at(&self, now: Millis) -> f64 {
        let held = now.saturating_sub(self.rate_set_at) as f64;
        let fade = (-held / RATE_SMOOTHING_MS).exp();
        self.rate + (self.smoothed_rate - self.rate) * fade
    }

    fn admit(&mut self, seq: u64, now: Millis) {
        self.set_state(
            seq,
            State::Admitted {
                at: now,
                attempts: 0,
            },
        );
        self.allowance -= 1.0;
        self.note_call(now);
        self.admissions.push_back((now, seq));
    }

    fn note_call(&mut self, now: Millis) {
        self.recent_calls.push_back(now);
        let since = now.saturating_sub(self.cfg.rate_window_ms);
        while self.recent_calls.front().is_some_and(|t| *t < since) {
            self.recent_calls.pop_front();
        }
    }

    fn next_in_line(&mut self) -> Option<u64> {
        if let Some(seq) = self.lanes[Lane::Priority as usize].pop() {
            return Some(seq);
        }
        let normal = self.lanes[Lane::Normal as usize].peek();
        let casual = self.lanes[Lane::Casual as usize].peek();
        let casual_first = match (normal, casual) {
            (Some(n), Some(c)) => {
                self.first_seen(c) + self.cfg.casual_yield_ms <= self.first_seen(n)
            }
            (None, Some(_)) => true,
            _ => false,
        };
        let lane = if casual_first {
            Lane::Casual
        } else {
            Lane::Normal
        };
        self.lanes[lane as usize].pop()
    }

    /// When `seq` first asked; 0 for a ticket already forgotten (the pump
    /// skips those).
    fn first_seen(&self, seq: u64) -> Millis {
        self.tickets.get(&seq).map_or(0, |t| t.first_seen)
    }

    fn expire(&mut self, now: Millis) {
        self.recent_arrivals
            .forget_before(now.saturating_sub(self.cfg.rate_window_ms));
        while let Some(&(deadline, seq)) = self.pickups.front() {
            if deadline > now {
                break;
            }
            self.pickups.pop_front();
            if let Some(State::Called { pickup_by, .. }) = self.tickets.get(&seq).map(|t| t.state) {
                if pickup_by == deadline {
                    // The turn was not used: give it to the next person.
                    self.called -= 1;
                    self.allowance += 1.0;
                    self.totals.missed_turns += 1;
                    self.set_state(seq, State::Missed { last_seen: now });
                    self.missed.push_back((now, seq));
                }
            }
        }
        while let Some(&(at, seq)) = self.admissions.front() {
            if now.saturating_sub(at) <= self.cfg.pass_valid_ms {
                break;
            }
            self.admissions.pop_front();
            if let Some(State::Admitted {
                at: admitted_at, ..
            }) = self.tickets.get(&seq).map(|t| t.state)
            {
                if now.saturating_sub(admitted_at) > self.cfg.pass_valid_ms {
                    self.tickets.remove(&seq);
                }
            }
        }
        while let Some(&(seen, seq)) = self.missed.front() {
            if now.saturating_sub(seen) <= self.cfg.keep_place_ms {
                break;
            }
            self.missed.pop_front();
            if let Some(State::Missed { last_seen }) = self.tickets.get(&seq).map(|t| t.state) {
                if last_seen == seen {
                    self.tickets.remove(&seq);
                    self.totals.abandoned += 1;
                }
            }
        }
    }

    fn place_of(&self, seq: u64, now: Millis) -> Place {
        let ticket = &self.tickets[&seq];
        let lane_len = |l: Lane| self.lanes[l as usize].len as u64;
        let my_lane = &self.lanes[ticket.lane as usize];
        let in_lane = my_lane.ahead_of(ticket.school, seq);
        // Parents count as arrived `casual_yield_ms` later than they did.
        let first_seen = |seq| self.first_seen(seq);
        let mine = ticket.first_seen;
        let yield_ms = self.cfg.casual_yield_ms;
        let ahead = match ticket.lane {
            Lane::Priority => in_lane,
            Lane::Normal => {
                lane_len(Lane::Priority)
                    + in_lane
                    + self.lanes[Lane::Casual as usize]
                        .arrived_before((mine + 1).saturating_sub(yield_ms), first_seen)
            }
            Lane::Casual => {
                lane_len(Lane::Priority)
                    + in_lane
                    + self.lanes[Lane::Normal as usize].arrived_before(mine + yield_ms, first_seen)
            }
        };
        let position = ahead + 1;
        let newcomers = self.newcomers_ahead(ticket, seq, now);
        // All who could come: the guess over a wait without end.
        let most = newcomers(f64::INFINITY);
        let eta_ms =
            newcomers::wait_with_newcomers(position as f64, self.eta_rate(now), most, newcomers)
                as Millis;
        let refresh_ms = (eta_ms / 3).clamp(self.cfg.min_refresh_ms, self.cfg.max_refresh_ms);
        Place {
            seq,
            position,
            eta_ms,
            refresh_ms,
        }
    }

    /// How many not in line yet are expected to come and go ahead of `seq`
    /// over a wait of `wait_ms` (the returned function), if the crowd goes on
    /// as it came ([`newcomers`]): teachers; for a pupil, other schools'
    /// pupils up to as many as are ahead in their own school; for a parent,
    /// the pupils arriving before the parent's yield runs out. The schools
    /// are looked at once here, not at each round of the wait's fixed point.
    fn newcomers_ahead(&self, ticket: &Ticket, seq: u64, now: Millis) -> impl Fn(f64) -> f64 {
        let age = self
            .busy_since
            .map_or(0.0, |since| now.saturating_sub(since) as f64);
        let window = self.cfg.rate_window_ms as f64;
        let recent = &self.recent_arrivals;
        let teachers = recent.in_lane(Lane::Priority);
        let yield_left = (ticket.first_seen + self.cfg.casual_yield_ms).saturating_sub(now) as f64;
        let pupils_recent = recent.in_lane(Lane::Normal);
        // (recent arrivals, room left before the pupil) of each other school
        // that still has room: as many turns as the pupil has people ahead in
        // their own school, one more for a school whose turn comes first (as
        // in `ahead_of`), less those of it already waiting. At most
        // `MAX_SCHOOLS_COUNTED` schools, so this estimate's own work stays
        // bounded (`ahead_of` walks the schools waiting, as before).
        let mut others: Vec<(f64, f64)> = Vec::new();
        if ticket.lane == Lane::Normal {
            let pupils = &self.lanes[Lane::Normal as usize];
            let rounds = pupils.index_in_school(ticket.school, seq) as f64;
            let first = pupils.turns_before(ticket.school);
            others.extend(
                recent
                    .pupils()
                    .filter(|(school, _)| *school != ticket.school)
                    .take(MAX_SCHOOLS_COUNTED)
                    .map(|(school, n)| {
                        let bonus = if first.contains(&school) { 1.0 } else { 0.0 };
                        (n, rounds + bonus - pupils.waiting_in(school) as f64)
                    })
                    .filter(|(_, room)| *room > 0.0),
            );
        }
        let lane = ticket.lane;
        move |wait_ms: f64| {
            let again = |horizon_ms: f64| newcomers::times_again(horizon_ms, age, window);
            match lane {
                Lane::Priority => 0.0,
                Lane::Normal => {
                    let times = again(wait_ms);
                    teachers * times
                        + others
                            .iter()
                            .map(|(n, room)| (n * times).min(*room))
                            .sum::<f64>()
                }
                Lane::Casual => {
                    teachers * again(wait_ms) + pupils_recent * again(wait_ms.min(yield_left))
                }
            }
        }
    }

    fn set_state(&mut self, seq: u64, state: State) {
        if let Some(t) = self.tickets.get_mut(&seq) {
            t.state = state;
        }
    }

    fn forget(&mut self, seq: u64) {
        if let Some(t) = self.tickets.remove(&seq) {
            if let State::Called { .. } = t.state {
                self.called -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One person per second, no burst.
    fn line() -> Line {
        Line::new(LineConfig::default(), 1.0)
    }

    fn waiting(a: Arrival) -> Place {
        match a {
            Arrival::Waiting(p) => p,
            other => panic!("expected to wait, got {other:?}"),
        }
    }

    fn admitted(a: Arrival) -> u64 {
        match a {
            Arrival::Admitted { seq } => seq,
            other => panic!("expected to come in, got {other:?}"),
        }
    }

    fn place(l: &mut Line, seq: u64, now: Millis) -> Place {
        match l.visit(now, seq) {
            Visit::Waiting(p) => p,
            other => panic!("expected to wait, got {other:?}"),
        }
    }

    fn is_in(l: &mut Line, seq: u64, now: Millis) -> bool {
        matches!(l.visit(now, seq), Visit::Admitted { .. })
    }

    #[test]
    fn free_capacity_lets_people_in_at_once() {
        let mut l = Line::new(
            LineConfig {
                burst_secs: 1.0,
                ..LineConfig::default()
            },
            2.0,
        );
        admitted(l.arrive(0, Lane::Normal, 1));
        admitted(l.arrive(0, Lane::Normal, 1));
        let p = waiting(l.arrive(0, Lane::Normal, 1));
        assert_eq!(p.position, 1);
        // Half a second later, at 2 per second, their turn came.
        assert!(is_in(&mut l, p.seq, 500));
    }

    #[test]
    fn first_come_first_served_within_a_school() {
        let mut l = line();
        admitted(l.arrive(0, Lane::Normal, 1));
        let a = waiting(l.arrive(10, Lane::Normal, 1));
        let b = waiting(l.arrive(20, Lane::Normal, 1));
        assert_eq!((a.position, b.position), (1, 2));
        // At 1 s, a's turn came (kept for a): b is next.
        assert_eq!(place(&mut l, b.seq, 1_000).position, 1);
        assert_eq!(
            l.visit(1_020, a.seq),
            Visit::Admitted {
                waited_ms: Some(990)
            }
        );
        assert!(l.has_pass(a.seq, 1_020));
        assert!(!is_in(&mut l, b.seq, 1_500));
        assert!(is_in(&mut l, b.seq, 2_000));
    }

    #[test]
    fn schools_take_turns() {
        let mut l = line();
        admitted(l.arrive(0, Lane::Normal, 1));
        // A big school arrives first, then a small one.
        let big: Vec<Place> = (0..5)
            .map(|i| waiting(l.arrive(1 + i, Lane::Normal, 100)))
            .collect();
        let small = waiting(l.arrive(10, Lane::Normal, 200));
        // The small school's pupil is second, not sixth.
        assert_eq!(small.position, 2);
        // The big school's fifth: its four and the small school's one go first.
        assert_eq!(place(&mut l, big[4].seq, 11).position, 6);
        assert!(is_in(&mut l, big[0].seq, 1_000));
        assert!(!is_in(&mut l, big[1].seq, 2_000));
        assert!(is_in(&mut l, small.seq, 2_000));
        assert!(is_in(&mut l, big[1].seq, 3_000));
    }

    #[test]
    fn teachers_go_first_and_a_parents_visit_yields_to_pupils() {
        let mut l = Line::new(
            LineConfig {
                casual_yield_ms: 3_000,
                ..LineConfig::default()
            },
            1.0,
        );
        admitted(l.arrive(0, Lane::Normal, 1));
        let parent = waiting(l.arrive(1, Lane::Casual, 1));
        let pupils: Vec<Place> = (0..4)
            .map(|i| waiting(l.arrive(2 + i, Lane::Normal, 1)))
            .collect();
        let teacher = waiting(l.arrive(10, Lane::Priority, 1));
        assert_eq!(teacher.position, 1);
        assert_eq!(place(&mut l, parent.seq, 11).position, 6, "behind them all");
        let mut all: Vec<u64> = vec![parent.seq, teacher.seq];
        all.extend(pupils.iter().map(|p| p.seq));
        let mut late = None;
        let mut order = Vec::new();
        for t in 1..=7u64 {
            let now = t * 1_000;
            if t == 5 {
                // Arrives more than the yield after the parent: behind them.
                let p = waiting(l.arrive(4_500, Lane::Normal, 1));
                assert_eq!(p.position, 3, "the last early pupil, the parent, then them");
                assert_eq!(place(&mut l, parent.seq, 4_501).position, 2);
                all.push(p.seq);
                late = Some(p.seq);
            }
            let mut came_in = Vec::new();
            for seq in all.iter().copied().filter(|s| !order.contains(s)) {
                if is_in(&mut l, seq, now) {
                    came_in.push(seq);
                }
            }
            assert_eq!(came_in.len(), 1, "one turn per second at {now}");
            order.extend(came_in);
        }
        assert_eq!(
            order,
            vec![
                teacher.seq,
                pupils[0].seq,
                pupils[1].seq,
                pupils[2].seq,
                pupils[3].seq,
                parent.seq,
                late.unwrap(),
            ]
        );
    }

    #[test]
    fn a_turn_not_picked_up_goes_to_the_next_and_the_absent_go_first_on_return() {
        let mut l = line();
        admitted(l.arrive(0, Lane::Normal, 1));
        let away = waiting(l.arrive(0, Lane::Normal, 1));
        let present = waiting(l.arrive(0, Lane::Normal, 1));
        // `away`'s turn comes at 1 s and is kept for them until 6 s;
        // `present` is next at 2 s.
        assert_eq!(place(&mut l, present.seq, 1_000).position, 1);
        assert_eq!(l.called(), 1);
        assert!(is_in(&mut l, present.seq, 2_000));
        // Not picked up: the unused turn is given back at 6 s.
        l.pump(6_001);
        assert_eq!(l.called(), 0);
        // A minute later the line is busy again, and `away` comes back.
        admitted(l.arrive(60_000, Lane::Normal, 1));
        let newcomer = waiting(l.arrive(60_000, Lane::Normal, 1));
        assert_eq!(place(&mut l, away.seq, 60_001).position, 1);
        assert_eq!(place(&mut l, newcomer.seq, 60_002).position, 2);
        assert!(is_in(&mut l, away.seq, 61_000));
    }

    #[test]
    fn someone_long_gone_is_skipped_without_using_a_turn() {
        let mut l = line();
        admitted(l.arrive(0, Lane::Normal, 1));
        let ahead: Vec<Place> = (0..5)
            .map(|_| waiting(l.arrive(0, Lane::Normal, 1)))
            .collect();
        let gone = waiting(l.arrive(0, Lane::Normal, 1));
        let present = waiting(l.arrive(0, Lane::Normal, 1));
        for (i, p) in ahead.iter().enumerate() {
            let now = 1_000 * (i as u64 + 1);
            // Everyone but `gone` refreshes as told (every second here).
            for q in ahead[i..].iter().chain([&present]) {
                let _ = l.visit(now - 1, q.seq);
            }
            assert!(is_in(&mut l, p.seq, now));
        }
        // At 6 s it is `gone`'s turn, but they have not refreshed for 6 s:
        // the turn goes to `present` at once.
        assert!(is_in(&mut l, present.seq, 6_000));
        // Back within five minutes, `gone` is first in line.
        assert_eq!(place(&mut l, gone.seq, 6_001).position, 1);
    }

    #[test]
    fn places_are_forgotten_after_five_minutes_without_refresh() {
        let mut l = line();
        admitted(l.arrive(0, Lane::Normal, 1));
        let a = waiting(l.arrive(0, Lane::Normal, 1));
        assert_eq!(l.visit(6 * 60_000 + 10_000, a.seq), Visit::Unknown);
    }

    #[test]
    fn a_pass_allows_a_few_attempts_then_expires() {
        let mut l = line();
        let seq = admitted(l.arrive(0, Lane::Normal, 1));
        for i in 0..4 {
            l.attempt_done(i, seq, false);
            assert!(l.has_pass(seq, i));
        }
        l.attempt_done(5, seq, false);
        assert!(!l.has_pass(seq, 5));
        let seq = admitted(l.arrive(1_000, Lane::Normal, 1));
        assert!(l.has_pass(seq, 1_000 + 9 * 60_000));
        assert_eq!(l.visit(1_000 + 11 * 60_000, seq), Visit::Unknown);
    }

    #[test]
    fn a_successful_login_uses_up_the_pass() {
        let mut l = line();
        let seq = admitted(l.arrive(0, Lane::Normal, 1));
        l.attempt_done(1, seq, true);
        assert_eq!(l.visit(2, seq), Visit::Unknown);
    }

    #[test]
    fn the_estimated_wait_is_the_place_over_the_rate() {
        let mut l = Line::new(LineConfig::default(), 2.0);
        admitted(l.arrive(0, Lane::Normal, 1));
        let people: Vec<Place> = (0..30)
            .map(|_| waiting(l.arrive(0, Lane::Normal, 1)))
            .collect();
        assert_eq!(people[29].position, 30);
        assert_eq!(people[29].eta_ms, 15_000);
        assert_eq!(people[29].refresh_ms, 5_000);
        assert_eq!(people[0].refresh_ms, LineConfig::default().min_refresh_ms);
    }

    #[test]
    fn the_estimated_wait_follows_the_rate_over_seconds_not_a_sudden_change() {
        let mut l = line();
        admitted(l.arrive(0, Lane::Normal, 1));
        let people: Vec<Place> = (0..30)
            .map(|_| waiting(l.arrive(0, Lane::Normal, 1)))
            .collect();
        // Ten seconds at one per second, everyone refreshing.
        for t in 1..=10u64 {
            for p in &people {
                let _ = l.visit(t * 1_000, p.seq);
            }
        }
        // The probe now claims ten per second: the promise stays near what
        // was seen (one per second), not ten times shorter.
        l.set_rate(10.0, 10_000);
        let last = place(&mut l, people[29].seq, 10_000);
        let ratio = last.eta_ms as f64 / (last.position as f64 * 1000.0);
        assert!((0.8..=1.25).contains(&ratio), "{last:?}");
    }

    #[test]
    fn a_parent_is_told_of_the_pupils_still_to_come_within_the_yield() {
        let mut l = line();
        admitted(l.arrive(0, Lane::Normal, 1));
        // Pupils of one school for ten seconds, twice what the door lets in.
        let mut pupils = Vec::new();
        for i in 0..200u64 {
            pupils.push(waiting(l.arrive(i * 50, Lane::Normal, 1)));
        }
        let parent = waiting(l.arrive(10_000, Lane::Casual, 1));
        let pupil = waiting(l.arrive(10_000, Lane::Normal, 1));
        // The pupil's own school's later arrivals go behind: the place over
        // the rate (the rate here: one per second).
        assert_eq!(pupil.eta_ms, pupil.position * 1_000, "{pupil:?}");
        // The parent is behind the pupils waiting now and, if the crowd goes
        // on as it came, behind the next ten seconds' pupils too.
        assert_eq!(parent.position, pupil.position);
        assert!(
            parent.eta_ms >= (parent.position + 150) * 1_000,
            "{parent:?}"
        );
    }

    #[test]
    fn memory_is_bounded() {
        let mut l = Line::new(
            LineConfig {
                max_tickets: 3,
                ..LineConfig::default()
            },
            1.0,
        );
        let _ = l.arrive(0, Lane::Normal, 1);
        let _ = l.arrive(0, Lane::Normal, 1);
        let _ = l.arrive(0, Lane::Normal, 1);
        assert_eq!(l.arrive(0, Lane::Normal, 1), Arrival::Full);
    }

    /// A crowd of `crowd` from schools of different sizes arriving at five
    /// times the rate, everyone refreshing when told: (shown − real) / real
    /// of each first wait shown (the "honest estimated wait"),
    /// sorted; the rate held constant so that only the line's own estimate
    /// is judged.
    fn simulated_eta_errors(schools: &[u64], crowd: u64) -> Vec<f64> {
        // Five times the rate (20/s): one arrival every 10 ms.
        simulated_eta_errors_with(schools, |t| (t / 10).min(crowd))
    }

    /// As `simulated_eta_errors`, the arrivals by `arrived_by(t)`: how many
    /// have come by `t` ms (non-decreasing; the crowd is over when it stops
    /// growing and the line is empty).
    fn simulated_eta_errors_with(schools: &[u64], arrived_by: impl Fn(Millis) -> u64) -> Vec<f64> {
        let crowd = arrived_by(3_600_000);
        let rate = 20.0;
        let mut l = Line::new(LineConfig::default(), rate);
        let total: u64 = schools.iter().sum();
        // (seq, first eta, next visit)
        let mut waiting: Vec<(u64, Millis, Millis)> = Vec::new();
        let mut errors = Vec::new();
        let (mut arrived, mut t) = (0u64, 0 as Millis);
        while t < 3_600_000 && (arrived < crowd || !waiting.is_empty()) {
            // Schools by size.
            while arrived < arrived_by(t) {
                let mut k = (arrived * 7919) % total;
                let school = schools
                    .iter()
                    .position(|n| {
                        if k < *n {
                            true
                        } else {
                            k -= n;
                            false
                        }
                    })
                    .unwrap_or(0) as SchoolKey;
                if let Arrival::Waiting(p) = l.arrive(t, Lane::Normal, school + 1) {
                    waiting.push((p.seq, p.eta_ms, t + p.refresh_ms));
                }
                arrived += 1;
            }
            let mut still = Vec::new();
            for (seq, eta, at) in waiting.drain(..) {
                if at > t {
                    still.push((seq, eta, at));
                    continue;
                }
                match l.visit(t, seq) {
                    Visit::Waiting(p) => still.push((seq, eta, t + p.refresh_ms)),
                    Visit::Admitted {
                        waited_ms: Some(real),
                    } if real > 500 => {
                        errors.push((eta as f64 - real as f64) / real as f64);
                    }
                    _ => {}
                }
            }
            waiting = still;
            t += 50;
        }
        errors.sort_by(f64::total_cmp);
        errors
    }

    /// Arrivals that rise to `peak` per second over `half` ms and fall back
    /// to none over as long again: how many have come by `t` ms.
    fn rising_and_falling(peak: f64, half: Millis) -> impl Fn(Millis) -> u64 {
        move |t| {
            let (t, h) = (t.min(2 * half) as f64, half as f64);
            let per_s_ms = if t <= h {
                peak * t * t / (2.0 * h)
            } else {
                peak * h / 2.0 + peak * (2.0 * (t - h) - (t * t - h * h) / (2.0 * h))
            };
            (per_s_ms / 1000.0) as u64
        }
    }

    #[test]
    fn the_wait_shown_holds_over_a_crowd_that_rises_and_falls() {
        // A morning rather than a wall: arrivals climb past the rate (20/s)
        // and fall away, so "the crowd goes on as it came" overestimates the
        // newcomers once the peak is past. At a steady rate that costs little
        // (a bias of 4 to 12%); what the drill's morning shows beyond that
        // comes from the door's rate moving while people wait.
        for (peak, half) in [(40.0, 120_000), (30.0, 120_000), (60.0, 60_000)] {
            let errors = simulated_eta_errors_with(&[1], rising_and_falling(peak, half));
            assert!(median_abs(&errors) < 0.05, "one school, peak {peak}/s");
            let schools = [905, 600, 453, 397, 356, 116, 109, 45];
            let errors = simulated_eta_errors_with(&schools, rising_and_falling(peak, half));
            assert!(errors.len() > 1_000, "{}", errors.len());
            let (abs, bias) = (median_abs(&errors), errors[errors.len() / 2]);
            assert!(
                abs < 0.15 && bias.abs() < 0.15,
                "peak {peak}/s over {half} ms: median error {abs:.3}, bias {bias:.3}"
            );
        }
        // A département's 160 schools of 200 to 1,100 pupils, over 8
        // minutes, and in the drill's own curve over 15 (its peak 1.5 times
        // the rate): the drill's morning showed waits over a minute 41% too
        // long, which these do not (within 10%), so that came from something
        // they leave out.
        let schools: Vec<u64> = (0..160).map(|i| 200 + (i * 37) % 900).collect();
        for (name, errors) in [
            (
                "rising and falling",
                simulated_eta_errors_with(&schools, rising_and_falling(25.0, 240_000)),
            ),
            (
                "Beta(5, 3)",
                simulated_eta_errors_with(&schools, beta53(12_000.0, 900_000)),
            ),
        ] {
            let (abs, bias) = (median_abs(&errors), errors[errors.len() / 2]);
            assert!(
                abs < 0.15 && bias.abs() < 0.15,
                "160 schools, {name}: median error {abs:.3}, bias {bias:.3}"
            );
        }
    }

    /// The drill's morning (`bench/src/drill/arrivals.rs`): `n` arrivals over
    /// `d` ms as a Beta(5, 3) bump, which falls after its peak (8:00) faster
    /// than it rose. Its distribution function, for the integers 5 and 3.
    fn beta53(n: f64, d: Millis) -> impl Fn(Millis) -> u64 {
        move |t| {
            let x = (t.min(d) as f64) / d as f64;
            let c = 21.0 * x.powi(5) * (1.0 - x).powi(2) + 7.0 * x.powi(6) * (1.0 - x) + x.powi(7);
            (n * c) as u64
        }
    }

    fn median_abs(errors: &[f64]) -> f64 {
        let mut abs: Vec<f64> = errors.iter().map(|e| e.abs()).collect();
        abs.sort_by(f64::total_cmp);
        abs[abs.len() / 2]
    }

    #[test]
    fn the_wait_shown_counts_the_newcomers_of_other_schools() {
        // One school: the place over the rate, exactly.
        let errors = simulated_eta_errors(&[1], 3_000);
        assert!(errors.len() > 2_000, "{}", errors.len());
        let abs = median_abs(&errors);
        assert!(abs < 0.05, "one school: median error {abs:.3}");
        // Schools of 1,000 to 100, and the drill's eight: the newcomers of
        // the small schools take turns during a big school's wait. Without
        // counting them, waits came out a quarter longer than shown
        // (median error 0.25 to 0.28, all of it bias). Counted as the crowd
        // came so far, the bias is gone; what is left is not knowing when
        // the crowd stops (the first shown too short, the last too long).
        for (schools, crowd) in [
            (&[1_000, 500, 300, 100, 100][..], 3_000),
            (&[905, 600, 453, 397, 356, 116, 109, 45], 3_000),
            (&[905, 600, 453, 397, 356, 116, 109, 45], 600),
            (&[905, 600, 453, 397, 356, 116, 109, 45], 12_000),
        ] {
            let errors = simulated_eta_errors(schools, crowd);
            let (abs, bias) = (median_abs(&errors), errors[errors.len() / 2]);
            assert!(
                abs < 0.2 && bias.abs() < 0.05,
                "{} schools, {crowd} people: median error {abs:.3}, bias {bias:.3}",
                schools.len()
            );
        }
    }
}
