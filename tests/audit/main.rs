//! Integration tests of the real `audit` binary, offline: every recorded scenario in mocks/
//! replayed and snapshotted, and every kind of bad input. One test binary (as ripgrep does)
//! so the SDK-heavy crate links once; one module per subject, sharing `support`.

mod support;

mod bad_input;
mod baseline;
mod cli;
mod faults;
mod fleet;
mod html;
mod layout;
mod outputs;
mod owners;
mod recording;
mod scale;
mod scenarios;
mod stopping;
mod suppressions;
mod webhook;
