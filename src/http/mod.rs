//! HTTP between the collector and AWS: one transport under every SDK client, which sends
//! live, records, or replays (through the simulator when asked), paced under AWS's rate
//! buckets and counted.
//!
//! - `transport`: the SDK's HTTP client: pacing, limits, per-attempt timeouts, the mode
//! - `recording`: the recording format: request keys, exchanges, the manifest, bounded reads
//! - `record`: `--record`, written beside the target and swapped into place
//! - `replay`: `--replay`, served by request key
//! - `redact`: what a recording keeps of a response body (no request id, no secret value)
//! - `simulate`: `--simulate`, a simulated AWS in front of a replay
//! - `throttling`: AWS's published token buckets and the pacer
//! - `slots`: the run-wide limit on calls in flight, served by account rank
//! - `stats`: calls, retries and throttles per operation
//! - `synthetic`: a recording written from given exchanges (tests/synth.py's back end)

pub mod record;
pub mod recording;
mod redact;
pub mod replay;
pub mod simulate;
pub mod slots;
pub mod stats;
pub mod synthetic;
pub mod throttling;
pub mod transport;
