//! Command-line interface.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  the run completed; no finding at or above --fail-on
  1  the run completed with findings at or above --fail-on
  2  usage, configuration or I/O error (bad flag, profile, credentials, region, endpoint,
     recording or output path); nothing was reported
  3  the report was written but collection was incomplete (access denied, throttled past
     retries, unavailable operations): see its coverage gaps; checks that needed the
     missing data report 'not evaluated', never pass
  4  the report was written but --webhook delivery failed after its retries; the
     undelivered batches are kept and sent first by the next run (takes precedence)

Examples:
  audit --replay mocks/demo                      audit the bundled demo recording offline
  audit --profile prod --region eu-west-1        audit one region with a named profile
  audit --all-regions --format json -o out.json  every enabled region, JSON report
  audit explain ELB001                           what a check finds and how to fix it";

/// Audits live AWS container platforms (ECS, EKS, ELBv2, VPC networking, IAM) for the
/// misconfigurations that take workloads down or leave them exposed. Read-only: it only
/// calls Describe, List and Get operations.
#[derive(Debug, Parser)]
#[command(name = "audit", version, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub audit: AuditArgs,

    /// More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the checks: code, name, severity and what each finds.
    Checks {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Print a check's documentation: what it finds, why it matters, how to confirm and fix.
    Explain {
        /// Check code (ELB001) or name (awsvpc-service-on-instance-target-group).
        check: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Format {
    /// Findings grouped by severity, then unknowns, coverage gaps and a summary.
    Table,
    /// The versioned JSON report (schema: src/report.schema.json).
    Json,
    /// One finding per line as JSON, for log pipelines.
    Jsonl,
    /// One finding per row, with a header.
    Csv,
    /// A Markdown report a ticket or pull request comment can embed.
    Markdown,
    /// SARIF 2.1.0, for code scanning dashboards (results located by resource ARN).
    Sarif,
    /// AWS Security Finding Format, for Security Hub's BatchImportFindings.
    Asff,
    /// OCSF Detection Findings (class 2004), for Security Lake and SIEMs.
    Ocsf,
}

impl Format {
    /// The file a format is written to under `--output-dir`.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Table => "report.txt",
            Format::Json => "report.json",
            Format::Jsonl => "findings.jsonl",
            Format::Csv => "findings.csv",
            Format::Markdown => "report.md",
            Format::Sarif => "report.sarif",
            Format::Asff => "findings.asff.json",
            Format::Ocsf => "findings.ocsf.json",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Markdown => "markdown",
            Format::Sarif => "sarif",
            Format::Asff => "asff",
            Format::Ocsf => "ocsf",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Never,
    Info,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MinSeverity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl From<MinSeverity> for checks::Severity {
    fn from(m: MinSeverity) -> Self {
        use checks::Severity as S;
        match m {
            MinSeverity::Info => S::Info,
            MinSeverity::Low => S::Low,
            MinSeverity::Medium => S::Medium,
            MinSeverity::High => S::High,
            MinSeverity::Critical => S::Critical,
        }
    }
}

impl FailOn {
    pub fn threshold(self) -> Option<checks::Severity> {
        use checks::Severity as S;
        match self {
            FailOn::Never => None,
            FailOn::Info => Some(S::Info),
            FailOn::Low => Some(S::Low),
            FailOn::Medium => Some(S::Medium),
            FailOn::High => Some(S::High),
            FailOn::Critical => Some(S::Critical),
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Named profile from ~/.aws/config (SSO, credential_process, assume-role profiles
    /// all work). Defaults to AWS_PROFILE, then the default credential chain.
    // Not `env = "AWS_PROFILE"`: clap would count an exported AWS_PROFILE as a flag that
    // conflicts with --replay. aws-config reads AWS_PROFILE itself.
    #[arg(long, conflicts_with = "replay")]
    pub profile: Option<String>,

    /// Region to audit; repeat for several. Defaults to AWS_REGION or the profile's region.
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,

    /// Audit every region enabled for the account (asks EC2 DescribeRegions).
    #[arg(long, conflicts_with = "regions")]
    pub all_regions: bool,

    /// Send every AWS call to this endpoint (an emulator such as moto). Defaults to
    /// AWS_ENDPOINT_URL when set.
    #[arg(long, value_name = "URL", conflicts_with = "replay")]
    pub endpoint_url: Option<String>,

    /// Report format; repeat (or separate with commas) for several, each with its own
    /// --output in the same order, or all under --output-dir. Default: table.
    #[arg(
        long = "format",
        value_enum,
        value_name = "FORMAT",
        value_delimiter = ','
    )]
    pub formats: Vec<Format>,

    /// Write the report to FILE (atomically) instead of stdout; one per --format.
    #[arg(short, long = "output", value_name = "FILE")]
    pub outputs: Vec<PathBuf>,

    /// Write every --format into DIR under its standard name (report.json, findings.csv…).
    #[arg(long, value_name = "DIR", conflicts_with = "outputs")]
    pub output_dir: Option<PathBuf>,

    /// A previous JSON report: mark each finding `new` or `unchanged` and list the
    /// findings that are gone as `resolved` (or `unverified` when this run could not
    /// look again).
    #[arg(long, value_name = "REPORT.json")]
    pub baseline: Option<PathBuf>,

    /// Suppressions file (TOML): accepted risks, each with a reason and an optional
    /// expiry date; suppressed findings are listed apart, not dropped.
    #[arg(long, value_name = "FILE")]
    pub suppressions: Option<PathBuf>,

    /// POST new (and, with --baseline, resolved) findings as JSON batches to URL, with
    /// retries; undelivered batches are kept and sent first by the next run.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,

    /// Where undelivered webhook batches wait (default: ~/.local/state/awsaudit/webhook/…).
    #[arg(long, value_name = "DIR", requires = "webhook")]
    pub webhook_spool: Option<PathBuf>,

    /// Attempts per webhook batch.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20), requires = "webhook")]
    pub webhook_attempts: u32,

    /// Seconds to wait for the webhook's answer to one POST.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300), requires = "webhook")]
    pub webhook_timeout: u64,

    /// Report only findings that are not in the --baseline.
    #[arg(long, requires = "baseline")]
    pub only_new: bool,

    /// Most AWS calls in flight at once, across all regions.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Attempts per AWS call, the first included (adaptive retry with backoff on
    /// throttling and transient errors).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,

    /// Run only these checks: codes, names or globs, comma-separated or repeated
    /// (`--checks ELB001,VPC*`).
    #[arg(long, value_name = "CHECK", value_delimiter = ',')]
    pub checks: Vec<String>,

    /// Skip these checks: codes, names or globs (`--skip EKS001,*-ip-*`).
    #[arg(long, value_name = "CHECK", value_delimiter = ',')]
    pub skip: Vec<String>,

    /// Report only findings at or above this severity.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub min_severity: Option<MinSeverity>,

    /// Exit with code 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Never)]
    pub fail_on: FailOn,

    /// Record every AWS exchange into DIR (credentials, signatures and request ids are
    /// never stored; secret-looking values are redacted).
    #[arg(long, value_name = "DIR", conflicts_with = "replay")]
    pub record: Option<PathBuf>,

    /// Audit a recording instead of AWS: no credentials, no network.
    #[arg(long, value_name = "DIR")]
    pub replay: Option<PathBuf>,
}
