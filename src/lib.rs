//! awsaudit: the binary's library. The model, graph and checks live in the SDK-free `checks`
//! crate; this crate is the rest of a run, one folder per stage, in the order data flows
//! (`run/` calls them in that order):
//!
//! - `cli`: the command line
//! - `session/`: credentials, regions, assume-role, Organizations
//! - `collect/`: the inventory, one module per service, and the coverage of every call
//! - `http/`: the transport under every SDK client (live, record, replay, simulate, pacing)
//! - `report/`: the report, suppressions, baseline, `audit merge`
//! - `render/`: one file per format
//! - `output/`: files, S3 objects, the webhook
//!
//! Leaves any stage may use: `atomic_file`, `clock`, `error`, `fleet` (targets, shards, what a fleet
//! recording keeps), `gap`, `progress`, `scratch` (what a fleet keeps on disk until its end),
//! `stop`, `sync`, `toml_file`, `url_redact`. Outside the run: `crosswalk` (`audit
//! crosswalk`, the controls `audit explain` lists).

pub mod atomic_file;
pub mod cli;
pub mod clock;
pub mod collect;
pub mod crosswalk;
pub mod error;
pub mod fleet;
pub mod gap;
pub mod http;
pub mod output;
pub mod progress;
pub mod render;
pub mod report;
pub mod run;
pub mod scratch;
pub mod session;
pub mod stop;
pub mod sync;
pub mod toml_file;
pub mod url_redact;

#[cfg(test)]
mod hostile_input;
