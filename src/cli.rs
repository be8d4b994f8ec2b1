//! Command-line interface.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::{fleet, stop};

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  the run completed; no finding at or above --fail-on
  1  the run completed with findings at or above --fail-on
  2  usage, configuration or I/O error (bad flag, profile, credentials, region, endpoint,
     recording or output path, a --skip or suppression that would leave nothing to
     report); nothing was reported
  3  the report was written but collection was incomplete (access denied, throttled past
     retries, unavailable operations, --timeout reached, interrupted): see its coverage
     gaps; checks that needed the missing data report 'not evaluated', never pass
  4  the report was written but --webhook delivery failed after its retries (the
     undelivered batches are kept and sent first by the next run), or this run moved a
     refused batch to the spool's dead-letter/ or a bad file to its quarantine/ (takes
     precedence)

Examples:
  audit --replay mocks/demo                      audit the bundled demo recording offline
  audit --profile prod --region eu-west-1        audit one region with a named profile
  audit --all-regions --format json -o out.json  every enabled region, JSON report
  audit explain ELB001                           what a check finds and how to fix it
  audit --org --role-name awsaudit-member --all-regions --format json,sarif \\
        --output s3://reports-bucket/awsaudit/    every account of the organization
  audit --org --role-name awsaudit-member --shard 0/4 --format json -o shard0.json
  audit merge shard*.json --format json -o fleet.json   combine the shard reports";

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
    /// List every AWS operation an audit calls (all read-only): its page or batch size, and
    /// which calls' answers it asks about.
    Operations {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Map the checks to the controls teams already run: every Security Hub FSBP control of
    /// the container platform with the check answering it (or why none does), and each
    /// check's FSBP, AWS Config and Prowler ids.
    Crosswalk {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Write a recording from exchanges given as JSON lines on stdin (tests/synth.py's back
    /// end; see src/http/synthetic.rs).
    #[command(hide = true)]
    WriteRecording {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Print a check's documentation: what it finds, why it matters, how to confirm and fix,
    /// and the controls of other catalogs it answers.
    Explain {
        /// Check code (ELB001) or name (awsvpc-service-on-instance-target-group).
        check: String,
    },
    /// Combine the JSON reports of `--shard K/N` runs into one report: rejects overlapping
    /// shards or accounts, shard numbers `--shard` would not take and counters that would
    /// overflow, and reports missing shards as coverage gaps (exit 3).
    Merge {
        /// The shard reports (JSON, as written by --format json).
        #[arg(value_name = "REPORT.json", required = true)]
        reports: Vec<PathBuf>,

        #[command(flatten)]
        output: OutputArgs,

        /// Exit with code 1 when a merged finding is at or above this severity.
        #[arg(long, value_enum, default_value_t = FailOn::Never)]
        fail_on: FailOn,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
    /// Markdown: the README's table of checks, the table of operations, checks/CROSSWALK.md.
    Markdown,
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
    /// One self-contained HTML page: totals, where the checks looked, every finding with
    /// a diagram of its evidence; filters and search. Nothing is fetched when it opens.
    Html,
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
            Format::Html => "report.html",
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
            Format::Html => "html",
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

/// Where the rendered reports go.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OutputArgs {
    /// Report format; repeat (or separate with commas) for several, each with its own
    /// --output in the same order, or all under --output-dir. Default: table.
    #[arg(
        long = "format",
        value_enum,
        value_name = "FORMAT",
        value_delimiter = ','
    )]
    pub formats: Vec<Format>,

    /// Write the report to FILE (atomically) instead of stdout; one per --format (`-` for
    /// stdout, for one of them). An s3://BUCKET/KEY writes one object; s3://BUCKET/PREFIX/
    /// (trailing slash) writes every --format under PREFIX with its standard name.
    #[arg(short, long = "output", value_name = "FILE|S3-URL")]
    pub outputs: Vec<String>,

    /// Write every --format into DIR (or s3://BUCKET/PREFIX) under its standard name
    /// (report.json, findings.csv…; with --shard K/N: report.shard-K-of-N.json…).
    #[arg(long, value_name = "DIR|S3-URL", conflicts_with = "outputs")]
    pub output_dir: Option<String>,
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

    /// Audit every region enabled for the account (asks EC2 DescribeRegions); in a fleet
    /// run, every region enabled in each account.
    #[arg(long, conflicts_with = "regions")]
    pub all_regions: bool,

    /// Audit the account this role belongs to, through the role (assumed with the
    /// credentials of --profile or the default chain).
    #[arg(long, value_name = "ARN", conflicts_with_all = ["replay", "role_name"], help_heading = "Fleet")]
    pub role_arn: Option<String>,

    /// Assume arn:PARTITION:iam::ACCOUNT:role/NAME in each account of --accounts or --org.
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with = "replay",
        help_heading = "Fleet"
    )]
    pub role_name: Option<String>,

    /// The accounts to audit through --role-name (12-digit ids, comma-separated or
    /// repeated). With --replay of a fleet recording: audit only these of its accounts.
    #[arg(
        long,
        value_name = "ID",
        value_delimiter = ',',
        conflicts_with = "org",
        help_heading = "Fleet"
    )]
    pub accounts: Vec<String>,

    /// Audit every ACTIVE account of the AWS Organization through --role-name (asks
    /// organizations:ListAccounts: run from the management account or a delegated
    /// administrator).
    #[arg(
        long,
        requires = "role_name",
        conflicts_with = "replay",
        help_heading = "Fleet"
    )]
    pub org: bool,

    /// Leave these accounts out of --accounts, --org or a replayed fleet recording.
    #[arg(long, value_name = "ID", value_delimiter = ',', help_heading = "Fleet")]
    pub exclude_accounts: Vec<String>,

    /// The external id the member roles' trust policy requires. Prefer the environment
    /// variable: command lines are visible to other processes.
    #[arg(
        long,
        value_name = "ID",
        env = "AWSAUDIT_EXTERNAL_ID",
        hide_env_values = true,
        help_heading = "Fleet"
    )]
    pub external_id: Option<String>,

    /// The role session name, as CloudTrail shows it in every member account
    /// (default: awsaudit-<unix seconds>).
    #[arg(long, value_name = "NAME", help_heading = "Fleet")]
    pub session_name: Option<String>,

    /// Most AWS calls in flight at once in any one account, so that one busy account
    /// cannot hold every slot of --concurrency.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256), help_heading = "Fleet")]
    pub account_concurrency: u16,

    /// Most member accounts collected at once (default: twice as many as it takes to fill
    /// --concurrency at --account-concurrency each, 8 with the defaults). The rest wait their
    /// turn; each account is checked as soon as it is collected and then dropped, so memory
    /// grows with the findings, not with the organization's resources.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..), help_heading = "Fleet")]
    pub accounts_in_flight: Option<u16>,

    /// Audit only shard K of N (K counts from 0, like JOB_COMPLETION_INDEX and
    /// AWS_BATCH_JOB_ARRAY_INDEX): the accounts whose stable hash falls in it. `audit merge`
    /// combines the N reports.
    #[arg(long, value_name = "K/N", help_heading = "Fleet")]
    pub shard: Option<fleet::Shard>,

    /// Send every AWS call to this endpoint (an emulator such as moto). Defaults to
    /// AWS_ENDPOINT_URL when set.
    #[arg(long, value_name = "URL", conflicts_with = "replay")]
    pub endpoint_url: Option<String>,

    #[command(flatten)]
    pub output: OutputArgs,

    /// A previous JSON report: mark each finding `new` or `unchanged` and list the
    /// findings that are gone as `resolved` (or `unverified` when this run could not
    /// look again).
    #[arg(long, value_name = "REPORT.json")]
    pub baseline: Option<PathBuf>,

    /// Suppressions file (TOML): accepted risks, each with a reason and an optional
    /// expiry date; suppressed findings are listed apart, not dropped.
    #[arg(long, value_name = "FILE")]
    pub suppressions: Option<PathBuf>,

    /// Tag key that names a resource's owner; repeat for fallbacks (the first key found
    /// wins). A finding's owner is the value on its resource, else on the resource it
    /// belongs to (a service's cluster, a subnet's VPC, a nodegroup's EKS cluster…).
    #[arg(long = "owner-tag", value_name = "KEY", value_parser = owner_tag_key)]
    pub owner_tags: Vec<String>,

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

    /// Most AWS calls in flight at once, across all regions and accounts. Calls are also
    /// paced under AWS's published rate limits, so this bounds sockets and memory, not the
    /// load on AWS.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Attempts per AWS call, the first included (retries back off exponentially with
    /// jitter on throttling and transient errors; calls are paced under AWS's published
    /// rate limits, and slowed further where AWS throttles).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,

    /// End the collection after this long (`90s`, `10m`, `1h30m`): what was collected by
    /// then is checked and reported, marked incomplete (exit 3). Ctrl-C and SIGTERM do the
    /// same; a second one exits at once (130) without a report.
    #[arg(long, value_name = "DURATION", value_parser = stop::parse_duration)]
    pub timeout: Option<std::time::Duration>,

    /// How long one attempt of an AWS call may take before it is abandoned and retried.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = stop::parse_duration)]
    pub call_timeout: std::time::Duration,

    /// Replay through a simulated AWS: a latency per call, AWS's published rate limits
    /// answering with real throttling errors, and scripted faults (TOML; see the README).
    /// For testing and benchmarking; only with --replay.
    #[arg(long, value_name = "FILE", requires = "replay")]
    pub simulate: Option<PathBuf>,

    /// Run only these checks: codes, names or globs, comma-separated or repeated
    /// (`--checks ELB001,VPC*`).
    #[arg(long, value_name = "CHECK", value_delimiter = ',')]
    pub checks: Vec<String>,

    /// Skip these checks: codes, names or globs (`--skip EKS001,*-ip-*`). Skipping every
    /// check is an error: its empty report would read as all clear.
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

/// An `--owner-tag` key: what AWS accepts as a tag key (1 to 128 characters).
fn owner_tag_key(key: &str) -> Result<String, String> {
    match key.chars().count() {
        0 => Err("a tag key cannot be empty".into()),
        1..=128 => Ok(key.to_string()),
        _ => Err("a tag key has at most 128 characters".into()),
    }
}
