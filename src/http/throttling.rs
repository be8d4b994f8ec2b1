//! AWS request rate limits: the token buckets AWS publishes for the operations the
//! collector calls (`src/data/aws-throttling.json`), the token bucket itself, and the
//! [`Pacer`] that keeps every (account, region, bucket) under them.
//!
//! AWS throttles each account per region with token buckets: a bucket holds `burst`
//! tokens, refills `per_second`, and a request that finds it empty is refused with a
//! throttling error. Pacing to the published figures before sending means a large account
//! is audited at the rate AWS allows without spending retries, backoff and the SDK's retry
//! quota on refusals. AWS may allow less (another tool in the account draws from the same
//! buckets), so a throttle halves that bucket's pace, and successes restore it.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;

use crate::sync;

/// One published bucket.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BucketDef {
    pub service: String,
    pub name: String,
    /// Operations that draw from it; `*` for every operation of the service.
    pub operations: Vec<String>,
    /// One bucket for all of `operations`, or one per operation.
    pub shared: bool,
    pub burst: f64,
    pub per_second: f64,
    #[serde(default)]
    pub source: Option<String>,
}

impl BucketDef {
    fn matches(&self, service: &str, operation: &str) -> bool {
        self.service == service && self.operations.iter().any(|o| o == "*" || o == operation)
    }

    /// Checks a bucket read from a file: positive, finite figures.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.burst.is_finite() && self.burst >= 1.0) {
            return Err(format!(
                "bucket `{}` of {}: burst must be at least 1",
                self.name, self.service
            ));
        }
        if self.burst > MAX_RATE {
            return Err(format!(
                "bucket `{}` of {}: burst is above {MAX_RATE}",
                self.name, self.service
            ));
        }
        // Below one token in a thousand seconds a wait no longer means anything, and
        // the waits computed from it would leave the range of a duration.
        if !(self.per_second.is_finite() && (MIN_RATE..=MAX_RATE).contains(&self.per_second)) {
            return Err(format!(
                "bucket `{}` of {}: per_second must be between {MIN_RATE} and {MAX_RATE}",
                self.name, self.service
            ));
        }
        if self.operations.is_empty() {
            return Err(format!(
                "bucket `{}` of {}: operations is empty",
                self.name, self.service
            ));
        }
        Ok(())
    }
}

/// The slowest refill a bucket may be given, in tokens per second.
pub const MIN_RATE: f64 = 0.001;
/// The largest burst and the fastest refill a bucket may be given.
pub const MAX_RATE: f64 = 1_000_000.0;

/// `secs` as a duration; a figure past a duration's range is as good as forever (a
/// century), never a panic.
fn seconds(secs: f64) -> Duration {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 86_400);
    Duration::try_from_secs_f64(secs).map_or(CENTURY, |d| d.min(CENTURY))
}

/// The bundled table; its `as_of` and `about` are for readers of the file.
#[derive(Debug, Deserialize)]
struct Table {
    buckets: Vec<BucketDef>,
}

/// A set of bucket definitions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    defs: Vec<BucketDef>,
}

impl Limits {
    /// The figures AWS publishes.
    pub fn published() -> &'static Limits {
        static PUBLISHED: OnceLock<Limits> = OnceLock::new();
        PUBLISHED.get_or_init(|| {
            let table: Table = serde_json::from_str(include_str!("../data/aws-throttling.json"))
                .expect("the bundled throttling table parses");
            Limits {
                defs: table.buckets,
            }
        })
    }

    pub fn new(defs: Vec<BucketDef>) -> Self {
        Limits { defs }
    }

    pub fn defs(&self) -> &[BucketDef] {
        &self.defs
    }

    /// The buckets a call of `operation` draws from, each with its identity within an
    /// (account, region): `service/name` when shared, `service/name/operation` when not.
    pub fn buckets_for<'a>(
        &'a self,
        service: &'a str,
        operation: &'a str,
    ) -> impl Iterator<Item = (String, &'a BucketDef)> + 'a {
        self.defs
            .iter()
            .filter(move |d| d.matches(service, operation))
            .map(move |d| {
                let id = if d.shared {
                    format!("{}/{}", d.service, d.name)
                } else {
                    format!("{}/{}/{operation}", d.service, d.name)
                };
                (id, d)
            })
    }
}

/// A token bucket, full when created. Its refill rate is given with each use: the pacer
/// slows a bucket down when AWS throttles.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    tokens: f64,
    last: Instant,
    burst: f64,
}

/// Rounding slack: a token due at an instant is there at that instant.
const EPSILON: f64 = 1e-6;

/// Sleeps until `at`. The timer works in whole milliseconds and can wake a little before
/// its deadline; a call sent early would find AWS's bucket a fraction of a token short.
pub async fn sleep_until(at: Instant) {
    while Instant::now() < at {
        tokio::time::sleep_until(at).await;
    }
}

impl TokenBucket {
    pub fn new(burst: f64, now: Instant) -> Self {
        TokenBucket {
            tokens: burst,
            last: now,
            burst,
        }
    }

    fn refill(&mut self, now: Instant, per_second: f64) {
        if now > self.last {
            let elapsed = now.duration_since(self.last).as_secs_f64();
            self.tokens = (self.tokens + elapsed * per_second).min(self.burst);
            self.last = now;
        }
    }

    /// How long until a token is there, refilling at `per_second`; zero when one is there
    /// now. A call that draws from several buckets asks each, and takes from all only when
    /// none is short.
    pub fn until_token(&mut self, now: Instant, per_second: f64) -> Duration {
        self.refill(now, per_second);
        if self.tokens + EPSILON >= 1.0 {
            Duration::ZERO
        } else {
            seconds((1.0 - self.tokens) / per_second)
        }
    }

    /// Whether the bucket, refilled at `per_second`, is full at `now`: then it is as a new
    /// one would be, and need not be kept.
    pub fn is_full(&mut self, now: Instant, per_second: f64) -> bool {
        self.refill(now, per_second);
        self.tokens + EPSILON >= self.burst
    }

    /// Takes the token [`TokenBucket::until_token`] found.
    pub fn take(&mut self) {
        self.tokens -= 1.0;
    }

    /// Reserves the next token at `per_second` (at most the bucket's own rate) and returns
    /// when it is there. Reservations queue in the order they are made.
    fn reserve(&mut self, now: Instant, per_second: f64) -> Instant {
        self.refill(now, per_second);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            now
        } else {
            now + seconds(-self.tokens / per_second)
        }
    }
}

#[derive(Debug)]
struct Paced {
    /// The schedule: each call is given the time its token will be there, in the order
    /// calls ask, so waiting calls wake one by one at the bucket's rate.
    schedule: TokenBucket,
    /// The tokens calls actually took, when they were sent. AWS's bucket only knows these:
    /// a call that was late for its slot (it waited for a free connection) finds that the
    /// bucket stopped filling at its burst in the meantime, so the schedule alone would
    /// send some calls a fraction of a token early.
    sent: TokenBucket,
    /// The share of the published rate this bucket is paced at: 1 until AWS throttles.
    factor: f64,
    /// When the pace was last halved: the throttles of calls already in flight then are
    /// answers to the same overload, and do not halve it again.
    slowed_at: Option<Instant>,
    /// The bucket's published rate, a second.
    per_second: f64,
}

impl Paced {
    /// Whether it paces as a new one would: at the published rate, past any slowdown,
    /// with both buckets full.
    fn is_idle(&mut self, now: Instant) -> bool {
        self.factor >= 1.0
            && self.slowed_at.is_none_or(|t| now >= t + SLOWDOWN_WINDOW)
            && self.schedule.is_full(now, self.per_second)
            && self.sent.is_full(now, self.per_second)
    }
}

/// The state of each bucket by id (`ACCOUNT/REGION/BUCKET`), forgetting the buckets that are
/// as new ones: otherwise every account of a fleet leaves its buckets behind for the rest
/// of the run.
#[derive(Debug)]
pub struct BucketMap<V> {
    map: HashMap<String, V>,
    /// The size at which idle entries are next looked for: twice what was kept the last
    /// time, so the sweeps cost O(1) a new bucket.
    sweep_at: usize,
}

/// The fewest entries a sweep is worth making for.
const SWEEP_MIN: usize = 1024;

impl<V> Default for BucketMap<V> {
    fn default() -> Self {
        BucketMap {
            map: HashMap::new(),
            sweep_at: SWEEP_MIN,
        }
    }
}

impl<V> BucketMap<V> {
    /// The state of `id`, made by `new` when there is none. Before one is made in a map
    /// that has doubled since it was last swept, the entries `idle` says are as new ones
    /// are dropped.
    pub fn entry(
        &mut self,
        id: &str,
        new: impl FnOnce() -> V,
        mut idle: impl FnMut(&mut V) -> bool,
    ) -> &mut V {
        if !self.map.contains_key(id) && self.map.len() >= self.sweep_at {
            self.map.retain(|_, v| !idle(v));
            self.sweep_at = (2 * self.map.len()).max(SWEEP_MIN);
        }
        self.map.entry(id.to_string()).or_insert_with(new)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut V> {
        self.map.get_mut(id)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// How long after halving a bucket's pace further throttles are taken as the same event.
const SLOWDOWN_WINDOW: Duration = Duration::from_secs(1);

/// Paces calls under the published buckets of each (account, region): [`Pacer::wait`] for
/// the call's turn, then, just before sending, [`Pacer::take`] its tokens.
#[derive(Debug)]
pub struct Pacer {
    limits: Limits,
    state: Mutex<BucketMap<Paced>>,
}

/// The lowest share of the published rate a run of throttles brings a bucket to.
const MIN_FACTOR: f64 = 1.0 / 16.0;

impl Pacer {
    pub fn new(limits: Limits) -> Self {
        Pacer {
            limits,
            state: Mutex::new(BucketMap::default()),
        }
    }

    /// Waits for the call's turn in every bucket it draws from.
    pub async fn wait(&self, account: &str, region: &str, service: &str, operation: &str) {
        let at = {
            let now = Instant::now();
            let mut state = sync::lock(&self.state);
            let mut at = now;
            for (id, def) in self.limits.buckets_for(service, operation) {
                let p = state.entry(
                    &format!("{account}/{region}/{id}"),
                    || Paced {
                        schedule: TokenBucket::new(def.burst, now),
                        sent: TokenBucket::new(def.burst, now),
                        factor: 1.0,
                        slowed_at: None,
                        per_second: def.per_second,
                    },
                    |p| p.is_idle(now),
                );
                at = at.max(p.schedule.reserve(now, def.per_second * p.factor));
            }
            at
        };
        sleep_until(at).await;
    }

    /// Takes the call's token from every bucket it draws from, as it is sent; or, when one
    /// has none yet, how long until it will.
    pub fn take(
        &self,
        account: &str,
        region: &str,
        service: &str,
        operation: &str,
    ) -> Result<(), Duration> {
        let now = Instant::now();
        let mut state = sync::lock(&self.state);
        let mut short = Duration::ZERO;
        let ids: Vec<(String, f64)> = self
            .limits
            .buckets_for(service, operation)
            .map(|(id, def)| (format!("{account}/{region}/{id}"), def.per_second))
            .collect();
        for (id, per_second) in &ids {
            if let Some(p) = state.get_mut(id) {
                short = short.max(p.sent.until_token(now, per_second * p.factor));
            }
        }
        if !short.is_zero() {
            return Err(short);
        }
        for (id, _) in &ids {
            if let Some(p) = state.get_mut(id) {
                p.sent.take();
            }
        }
        Ok(())
    }

    /// AWS refused a call: its buckets are spent, and paced at half the rate (once per
    /// [`SLOWDOWN_WINDOW`]).
    pub fn throttled(&self, account: &str, region: &str, service: &str, operation: &str) {
        let now = Instant::now();
        let mut state = sync::lock(&self.state);
        for (id, _) in self.limits.buckets_for(service, operation) {
            if let Some(p) = state.get_mut(&format!("{account}/{region}/{id}")) {
                p.schedule.tokens = p.schedule.tokens.min(0.0);
                p.sent.tokens = p.sent.tokens.min(0.0);
                if p.slowed_at.is_none_or(|t| now >= t + SLOWDOWN_WINDOW) {
                    p.factor = (p.factor / 2.0).max(MIN_FACTOR);
                    p.slowed_at = Some(now);
                }
            }
        }
    }

    /// A call went through: the pace creeps back towards the published rate.
    pub fn succeeded(&self, account: &str, region: &str, service: &str, operation: &str) {
        let mut state = sync::lock(&self.state);
        for (id, _) in self.limits.buckets_for(service, operation) {
            if let Some(p) = state.get_mut(&format!("{account}/{region}/{id}")) {
                if p.factor < 1.0 {
                    p.factor = (p.factor * 1.1).min(1.0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pacer of one shared ECS bucket of `burst` tokens, 10 a second.
    fn ecs_read_pacer(burst: f64) -> Pacer {
        Pacer::new(Limits::new(vec![BucketDef {
            service: "ecs".into(),
            name: "read".into(),
            operations: vec!["*".into()],
            shared: true,
            burst,
            per_second: 10.0,
            source: None,
        }]))
    }

    /// What the transport does: wait for the turn, then take the tokens as it sends.
    async fn send(pacer: &Pacer, account: &str, service: &str, operation: &str) {
        pacer.wait(account, "r", service, operation).await;
        while let Err(wait) = pacer.take(account, "r", service, operation) {
            sleep_until(Instant::now() + wait).await;
        }
    }

    #[test]
    fn published_table_is_valid() {
        let l = Limits::published();
        for d in l.defs() {
            d.validate().unwrap();
            assert!(d
                .source
                .as_deref()
                .unwrap_or("")
                .starts_with("https://docs.aws.amazon.com/"));
        }
        // ECS categories share a bucket; EC2 buckets are per action; ELB calls draw from
        // their own bucket and the account-wide one.
        let ids: Vec<String> = l
            .buckets_for("ecs", "DescribeServices")
            .map(|b| b.0)
            .collect();
        assert_eq!(ids, ["ecs/service read"]);
        let ids: Vec<String> = l
            .buckets_for("ec2", "DescribeSubnets")
            .map(|b| b.0)
            .collect();
        assert_eq!(ids, ["ec2/non-mutating/DescribeSubnets"]);
        let ids: Vec<String> = l
            .buckets_for("elbv2", "DescribeTags")
            .map(|b| b.0)
            .collect();
        assert_eq!(ids, ["elbv2/non-mutating/DescribeTags", "elbv2/account"]);
        assert_eq!(l.buckets_for("eks", "DescribeCluster").count(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn pacer_spends_the_burst_then_keeps_the_rate() {
        let pacer = ecs_read_pacer(5.0);
        let start = Instant::now();
        for _ in 0..25 {
            send(&pacer, "1", "ecs", "ListClusters").await;
        }
        // 5 at once, then 20 more at 10/s.
        let took = start.elapsed().as_secs_f64();
        assert!((took - 2.0).abs() < 0.01, "{took}");
        // Other accounts and services are not held back.
        let t = Instant::now();
        send(&pacer, "2", "ecs", "ListClusters").await;
        send(&pacer, "1", "eks", "ListClusters").await;
        assert_eq!(t.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_halves_the_pace_and_success_restores_it() {
        let pacer = Pacer::new(Limits::new(vec![BucketDef {
            service: "ec2".into(),
            name: "nm".into(),
            operations: vec!["*".into()],
            shared: false,
            burst: 1.0,
            per_second: 10.0,
            source: None,
        }]));
        send(&pacer, "1", "ec2", "DescribeVpcs").await;
        // Three calls in flight are refused at once: one overload, one halving.
        for _ in 0..3 {
            pacer.throttled("1", "r", "ec2", "DescribeVpcs");
        }
        let t = Instant::now();
        send(&pacer, "1", "ec2", "DescribeVpcs").await;
        assert!((t.elapsed().as_secs_f64() - 0.2).abs() < 0.01);
        for _ in 0..20 {
            pacer.succeeded("1", "r", "ec2", "DescribeVpcs");
        }
        // The bucket refilled while the last call waited; the next one waits 1/10 s.
        send(&pacer, "1", "ec2", "DescribeVpcs").await;
        let t = Instant::now();
        send(&pacer, "1", "ec2", "DescribeVpcs").await;
        assert!(
            (t.elapsed().as_secs_f64() - 0.1).abs() < 0.01,
            "{:?}",
            t.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_late_for_its_turn_waits_for_a_real_token() {
        let pacer = ecs_read_pacer(2.0);
        // Three turns are handed out at 0, 0 and 0.1 s; the first two calls are sent only at
        // 1 s (they waited for a connection). A bucket of 2 cannot hold the tokens of the
        // second behind it, so the third, whose turn came long ago, must wait 0.1 s.
        for _ in 0..3 {
            pacer.wait("1", "r", "ecs", "X").await;
        }
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(pacer.take("1", "r", "ecs", "X").is_ok());
        assert!(pacer.take("1", "r", "ecs", "X").is_ok());
        let wait = pacer.take("1", "r", "ecs", "X").unwrap_err();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-6, "{wait:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn the_buckets_of_accounts_done_with_are_forgotten_the_others_kept() {
        let pacer = ecs_read_pacer(2.0);
        // An account AWS throttled: paced at half the rate, so not as a new one.
        send(&pacer, "slowed", "ecs", "X").await;
        pacer.throttled("slowed", "r", "ecs", "X");
        // A fleet's accounts, one call each, a second apart in batches of 100: each
        // account's bucket is full again long before the run ends.
        for batch in 0..40 {
            for a in 0..100 {
                send(&pacer, &format!("{batch}-{a}"), "ecs", "X").await;
            }
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        let mut state = sync::lock(&pacer.state);
        assert!(state.len() <= 2 * SWEEP_MIN, "{} buckets kept", state.len());
        let slowed = state
            .get_mut("slowed/r/ecs/read")
            .expect("a slowed bucket is kept");
        assert!(slowed.factor < 1.0);
        // The latest accounts' buckets are still there.
        assert!(state.get_mut("39-99/r/ecs/read").is_some());
    }

    #[test]
    fn server_bucket_refuses_when_empty() {
        let now = Instant::now();
        let mut b = TokenBucket::new(2.0, now);
        for _ in 0..2 {
            assert_eq!(b.until_token(now, 1.0), Duration::ZERO);
            b.take();
        }
        assert_eq!(b.until_token(now, 1.0), Duration::from_secs(1));
        assert_eq!(
            b.until_token(now + Duration::from_secs(1), 1.0),
            Duration::ZERO
        );
    }
}
