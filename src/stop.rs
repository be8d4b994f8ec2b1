//! Ending a run early: `--timeout`, Ctrl-C or SIGTERM. The collection is not dropped; every
//! call still waiting or in flight ends at once as a coverage gap, so the run finishes with
//! everything it had collected, the checks that needed the rest report unknown, and the
//! report says it is incomplete and why.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::gap::GapCode;

/// Why a run was stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// `--timeout` ran out.
    Timeout(Duration),
    /// A signal: `SIGINT` (Ctrl-C) or `SIGTERM` (a scheduler stopping the task).
    Signal(&'static str),
}

impl StopReason {
    /// The error code of the coverage gaps it leaves.
    pub fn code(&self) -> GapCode {
        match self {
            StopReason::Timeout(_) => GapCode::RunTimeout,
            StopReason::Signal(_) => GapCode::Interrupted,
        }
    }

    /// One line for the report: `--timeout 30s reached`, `interrupted by SIGINT`.
    pub fn describe(&self) -> String {
        match self {
            StopReason::Timeout(d) => format!("--timeout {} reached", format_duration(*d)),
            StopReason::Signal(s) => format!("interrupted by {s}"),
        }
    }
}

/// `90s`, `10m`, `1h30m`, `45` (seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let bad = || {
        format!("`{text}` is not a duration: use seconds (`90`), or units s, m, h (`90s`, `10m`, `1h30m`)")
    };
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(secs) = t.parse::<u64>() {
        return check(Duration::from_secs(secs), text);
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(bad()),
        };
        let n: u64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    if !digits.is_empty() {
        return Err(bad());
    }
    check(Duration::from_secs(total), text)
}

fn check(d: Duration, text: &str) -> Result<Duration, String> {
    if d.is_zero() {
        return Err(format!("`{text}`: a timeout must be at least one second"));
    }
    if d > Duration::from_secs(7 * 24 * 3600) {
        return Err(format!("`{text}`: a timeout must be at most a week (168h)"));
    }
    Ok(d)
}

fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, 0) => format!("{h}h{m}m"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

/// A run's stop switch, shared by the collector and whoever may stop it.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    reason: Arc<OnceLock<StopReason>>,
    token: CancellationToken,
}

impl Stop {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops the run; the first reason given is the one reported. Returns whether this
    /// call stopped it.
    pub fn stop(&self, why: StopReason) -> bool {
        let first = self.reason.set(why).is_ok();
        self.token.cancel();
        first
    }

    pub fn reason(&self) -> Option<StopReason> {
        self.reason.get().cloned()
    }

    /// Resolves when the run is stopped.
    pub async fn wait(&self) -> StopReason {
        self.token.cancelled().await;
        self.reason()
            .expect("the reason is set before the token is cancelled")
    }
}

/// Ends the collection on `--timeout`, Ctrl-C or SIGTERM, keeping what it has; a second
/// signal exits at once.
pub fn watch(runtime: &tokio::runtime::Runtime, stop: &Stop, timeout: Option<std::time::Duration>) {
    if let Some(d) = timeout {
        let stop = stop.clone();
        runtime.spawn(async move {
            tokio::time::sleep(d).await;
            if stop.stop(StopReason::Timeout(d)) {
                eprintln!(
                    "warning: {}: ending the collection and reporting what it has",
                    StopReason::Timeout(d).describe()
                );
            }
        });
    }
    let stop = stop.clone();
    runtime.spawn(async move {
        #[cfg(unix)]
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let mut signals = 0;
        loop {
            #[cfg(unix)]
            let name = tokio::select! {
                r = tokio::signal::ctrl_c() => { if r.is_err() { return; } "SIGINT" }
                _ = async {
                    match term.as_mut() {
                        Some(t) => { t.recv().await; }
                        None => std::future::pending::<()>().await,
                    }
                } => "SIGTERM",
            };
            #[cfg(not(unix))]
            let name = match tokio::signal::ctrl_c().await {
                Ok(()) => "SIGINT",
                Err(_) => return,
            };
            signals += 1;
            if signals > 1 {
                eprintln!("error: {name} again: exiting without a report");
                std::process::exit(130);
            }
            stop.stop(StopReason::Signal(name));
            eprintln!("warning: {name}: ending the collection and reporting what it has (again to exit at once)");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        for bad in [
            "",
            "0",
            "0s",
            "10x",
            "m",
            "1.5h",
            "-3",
            "200h",
            "99999999999999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(
            StopReason::Timeout(Duration::from_secs(5400)).describe(),
            "--timeout 1h30m reached"
        );
    }

    #[tokio::test]
    async fn the_first_reason_is_kept() {
        let stop = Stop::new();
        assert!(stop.reason().is_none());
        assert!(stop.stop(StopReason::Signal("SIGINT")));
        assert!(!stop.stop(StopReason::Timeout(Duration::from_secs(1))));
        assert_eq!(stop.wait().await, StopReason::Signal("SIGINT"));
    }
}
