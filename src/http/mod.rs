//! HTTP between the collector and AWS: one transport under every SDK client, which sends
//! live, records, or replays (through the simulator when asked), paced under AWS's rate
//! buckets and counted.
//!
//! - `transport`: the SDK's HTTP client: pacing, limits, per-attempt timeouts, the mode
//! - `recording`: request keys, the recorder, the replayer
//! - `redact`: what a recording keeps of a response body (no request id, no secret value)
//! - `simulate`: `--simulate`, a simulated AWS in front of a replay
//! - `throttling`: AWS's published token buckets and the pacer
//! - `stats`: calls, retries and throttles per operation

pub mod recording;
mod redact;
pub mod simulate;
pub mod stats;
pub mod throttling;
pub mod transport;
