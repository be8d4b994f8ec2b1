//! The session: one SDK configuration (profile, credentials, endpoint, retries, timeouts)
//! and the service clients built from it, each over a [`Transport`] for its region.
//!
//! Credentials and profiles are resolved by aws-config exactly as for every AWS tool; the
//! credential providers keep aws-config's own HTTP client, so STS/SSO exchanges that carry
//! credentials are never recorded. Nothing else in the program knows whether responses come
//! from AWS, an emulator or a recording.

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sdk_ecs::config::retry::RetryPartition;
use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_async::time::SystemTimeSource;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::stalled_stream_protection::StalledStreamProtectionConfig;

use checks::model::partition_of;

use crate::error::AppError;
use crate::http::stats::Stats;
use crate::http::throttling::{Limits, Pacer};
use crate::http::transport::{Gate, Mode, OpTagger, Transport, TransportParts, UnreadableBody};
use crate::url_redact::redacted;

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub profile: Option<String>,
    pub regions: Vec<String>,
    pub all_regions: bool,
    pub endpoint_url: Option<String>,
    /// Attempts per call, including the first.
    pub max_attempts: u32,
    pub mode: Mode,
    /// Most AWS calls in flight at once, across the run.
    pub concurrency: usize,
    /// How long one attempt of a call may take before it is abandoned (and retried).
    pub call_timeout: Duration,
    /// A fleet run: requested regions must exist, but whether each is enabled is asked of
    /// each member account (a disabled one is a coverage gap there, not an error here).
    pub fleet: bool,
}

pub struct Session {
    base: SdkConfig,
    mode: Mode,
    live_http: Option<SharedHttpClient>,
    pub stats: Arc<Stats>,
    pub account: String,
    /// A member account reached through a role: its exchanges are recorded under its id.
    member: bool,
    pub regions: Vec<String>,
    /// The region the session's identity was asked in (the first region, or the profile's).
    pub home_region: String,
    /// Pacing and the run-wide limit, shared by every account of the run.
    pub gate: Arc<Gate>,
    /// At most this many calls of this account in flight (fleet runs), so one throttled
    /// account cannot hold every slot of the run-wide limit.
    account_limit: Option<Arc<tokio::sync::Semaphore>>,
}

macro_rules! service_client {
    ($fn_name:ident, $krate:ident, $service:literal) => {
        pub fn $fn_name(&self, region: &str) -> $krate::Client {
            // AWS throttles per account, region and API: each (service, account, region)
            // gets its own retry token bucket, so one account's throttling never uses up
            // another's retries.
            let partition =
                RetryPartition::new(format!("{}/{}/{}", $service, self.account, region));
            let conf = $krate::config::Builder::from(&self.base)
                .region(Region::new(region.to_string()))
                .http_client(self.transport($service, region))
                .interceptor(OpTagger)
                .retry_classifier(UnreadableBody)
                // A request waits in the transport for the pacer and a free slot before its
                // body is read; the SDK would take that wait for a stalled upload and fail
                // the call. Stalled downloads are still caught, as is --call-timeout.
                .stalled_stream_protection(
                    StalledStreamProtectionConfig::enabled()
                        .upload_enabled(false)
                        .build(),
                )
                .retry_partition(partition)
                .build();
            $krate::Client::from_conf(conf)
        }
    };
}

impl Session {
    service_client!(ecs, aws_sdk_ecs, "ecs");
    service_client!(eks, aws_sdk_eks, "eks");
    service_client!(elbv2, aws_sdk_elasticloadbalancingv2, "elbv2");
    service_client!(ec2, aws_sdk_ec2, "ec2");
    service_client!(iam, aws_sdk_iam, "iam");
    service_client!(sts, aws_sdk_sts, "sts");
    service_client!(scheduler, aws_sdk_scheduler, "scheduler");
    service_client!(eventbridge, aws_sdk_eventbridge, "events");
    service_client!(organizations, aws_sdk_organizations, "organizations");
    service_client!(
        autoscaling,
        aws_sdk_applicationautoscaling,
        "application-autoscaling"
    );

    fn transport(&self, service: &'static str, region: &str) -> Transport {
        Transport::new(
            TransportParts {
                account: self.member.then(|| self.account.clone()),
                pace_account: self.account.clone(),
                mode: self.mode.clone(),
                live: self.live_http.clone(),
                stats: self.stats.clone(),
                gate: self.gate.clone(),
                account_limit: self.account_limit.clone(),
            },
            service,
            region,
        )
    }

    /// Resolves configuration, credentials, the account and the regions; every problem is
    /// an [`AppError::Config`] that says what is wrong and how to fix it.
    pub async fn connect(opts: SessionOptions, stats: Arc<Stats>) -> Result<Self, AppError> {
        for r in &opts.regions {
            validate_region_syntax(r)?;
        }
        if let Some(url) = &opts.endpoint_url {
            validate_endpoint(url)?;
        }
        // Standard retries (exponential backoff with jitter). Rate adaptation is the pacer's
        // (crate::http::throttling): per AWS bucket, where the SDK's adaptive mode slows a whole
        // service of a region after one throttle, and recovers slowly (35 s instead of 3 s
        // for the demo with two throttles per DescribeServices call, measured).
        let retry = RetryConfig::standard()
            .with_max_attempts(opts.max_attempts.max(1))
            .with_initial_backoff(Duration::from_millis(200));
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(opts.call_timeout.min(Duration::from_secs(30)))
            .build();

        let (base, live_http, home_region) = match &opts.mode {
            Mode::Replay(replayer) => {
                // Regions are checked against the recording before anything is asked of it,
                // and the identity is asked where it was recorded: the first region.
                let recorded = &replayer.manifest.regions;
                if let Some(r) = opts.regions.iter().find(|r| !recorded.contains(r)) {
                    return Err(AppError::Config(format!(
                        "region `{r}` is not in the recording (it has: {})",
                        recorded.join(", ")
                    )));
                }
                let home = recorded.first().cloned().ok_or_else(|| {
                    AppError::Config("the recording's manifest lists no regions".into())
                })?;
                // No profile files, environment or network: fixed dummy credentials sign
                // requests the replayer answers.
                let base = SdkConfig::builder()
                    .behavior_version(BehaviorVersion::latest())
                    .region(Region::new(home.clone()))
                    .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                        "replay", "replay", None, None, "replay",
                    )))
                    .retry_config(retry)
                    .timeout_config(timeouts)
                    .sleep_impl(TokioSleep::new())
                    .time_source(SystemTimeSource::new())
                    .build();
                (base, None, home)
            }
            Mode::Live | Mode::Record(_) => {
                // An explicit --profile, else the one AWS_PROFILE names, must exist.
                let env_profile = std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty());
                if let Some(p) = opts.profile.as_ref().or(env_profile.as_ref()) {
                    check_profile_exists(p).await?;
                }
                let mut loader = aws_config::defaults(BehaviorVersion::latest())
                    .retry_config(retry)
                    .timeout_config(timeouts);
                if let Some(p) = &opts.profile {
                    loader = loader.profile_name(p);
                }
                if let Some(r) = opts.regions.first() {
                    loader = loader.region(Region::new(r.clone()));
                }
                if let Some(url) = &opts.endpoint_url {
                    loader = loader.endpoint_url(url);
                }
                let base = loader.load().await;
                check_credentials(&base, opts.profile.as_deref()).await?;
                let home = match base.region() {
                    Some(r) => r.to_string(),
                    None if opts.all_regions => "us-east-1".to_string(),
                    None => {
                        return Err(AppError::Config(
                            "no region configured: pass --region REGION (repeatable), --all-regions, set AWS_REGION, or set `region` in your profile".into(),
                        ))
                    }
                };
                validate_region_syntax(&home)?;
                let http = aws_smithy_http_client::Builder::new()
                    .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                        aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
                    ))
                    .build_https();
                (base, Some(http), home)
            }
        };

        // A plain replay has no rate limits to keep under; a live run, and a replay through
        // the simulator, pace under the figures AWS publishes.
        let pacer = match &opts.mode {
            Mode::Replay(r) if r.simulator.is_none() => None,
            _ => Some(Pacer::new(Limits::published().clone())),
        };
        let mut session = Session {
            base,
            mode: opts.mode.clone(),
            live_http,
            stats,
            account: String::new(),
            member: false,
            regions: Vec::new(),
            home_region: home_region.clone(),
            gate: Arc::new(Gate {
                global: tokio::sync::Semaphore::new(opts.concurrency.max(1)),
                pacer,
                // Timed by the transport from when the attempt is sent (http::transport::fetch):
                // the SDK's attempt timeout would also count the wait for the pacer.
                call_timeout: opts.call_timeout,
            }),
            account_limit: None,
        };
        // Who the caller is and which regions are enabled are independent questions:
        // asked at once, they cost one round trip before the collection starts, not two.
        // The identity's error, when both fail, is the one that explains the other.
        let (account, described) = tokio::join!(
            session.caller_account(&home_region, opts.endpoint_url.as_deref()),
            session.describe_regions(&home_region)
        );
        session.account = account?;
        session.regions = session.resolve_regions(&opts, &home_region, described)?;
        Ok(session)
    }

    /// The session of a member account, reached through `target`'s role. Live, the role is
    /// assumed once now (a failure is returned, to be reported as that account's coverage
    /// gap) and again by the SDK's credential cache before the credentials expire, however
    /// long the run. A replay answers from the outcome the recording kept.
    pub async fn assume(
        &self,
        target: &crate::fleet::Target,
        external_id: Option<&str>,
        session_name: &str,
        recorded: Option<&crate::fleet::Assumed>,
        limit: usize,
    ) -> Result<Session, AssumeFailure> {
        let base = match &self.mode {
            Mode::Replay(_) => match recorded {
                Some(crate::fleet::Assumed::Ok) => self.base.clone(),
                Some(crate::fleet::Assumed::Failed {
                    error_code,
                    message,
                }) => {
                    let code = error_code.clone();
                    let status = match code.as_deref() {
                        Some(c) if crate::collect::ACCESS_DENIED.contains(&c) => {
                            checks::model::CallStatus::AccessDenied
                        }
                        _ => checks::model::CallStatus::Failed,
                    };
                    return Err(AssumeFailure {
                        status,
                        error_code: code,
                        message: message.clone(),
                    });
                }
                None => {
                    return Err(AssumeFailure {
                        status: checks::model::CallStatus::Failed,
                        error_code: Some(crate::gap::GapCode::NotInRecording.into()),
                        message: format!(
                            "the recording holds no role assumption for account {}",
                            target.account
                        ),
                    })
                }
            },
            Mode::Live | Mode::Record(_) => {
                let mut builder = aws_config::sts::AssumeRoleProvider::builder(&target.role_arn)
                    .session_name(session_name)
                    .configure(&self.base);
                if let Some(id) = external_id {
                    builder = builder.external_id(id);
                }
                let provider = builder.build().await;
                let first = provider
                    .provide_credentials()
                    .await
                    .map_err(|e| AssumeFailure::from_credentials_error(&e))?;
                let credentials = SharedCredentialsProvider::new(FirstThenRefresh {
                    first: std::sync::Mutex::new(Some(first)),
                    provider,
                });
                self.base
                    .to_builder()
                    .credentials_provider(credentials)
                    .build()
            }
        };
        Ok(Session {
            base,
            mode: self.mode.clone(),
            live_http: self.live_http.clone(),
            stats: self.stats.clone(),
            account: target.account.clone(),
            member: true,
            regions: Vec::new(),
            home_region: self.home_region.clone(),
            gate: self.gate.clone(),
            account_limit: Some(Arc::new(tokio::sync::Semaphore::new(limit.max(1)))),
        })
    }

    /// The ACTIVE accounts of the organization (organizations:ListAccounts, every page).
    pub async fn organization_accounts(
        &self,
        partition: &str,
        role_name: &str,
    ) -> Result<Vec<crate::fleet::Target>, AppError> {
        let client = self.organizations(&self.home_region);
        let mut pages = client.list_accounts().into_paginator().send();
        let mut targets = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                AppError::Config(format!(
                    "--org: organizations:ListAccounts failed in account {}: {}; run from the organization's management account or a delegated administrator, or name the accounts with --accounts",
                    self.account,
                    error_chain(&e)
                ))
            })?;
            for a in page.accounts() {
                let active = a
                    .state()
                    .map(|s| s.as_str() == "ACTIVE")
                    .or_else(|| {
                        #[allow(deprecated)]
                        a.status().map(|s| s.as_str() == "ACTIVE")
                    })
                    .unwrap_or(false);
                if let (true, Some(id)) = (active, a.id()) {
                    targets.push(crate::fleet::Target {
                        account: id.to_string(),
                        name: a.name().map(str::to_string),
                        role_arn: crate::fleet::role_arn(partition, id, role_name),
                    });
                }
            }
        }
        Ok(targets)
    }

    async fn caller_account(
        &self,
        region: &str,
        endpoint: Option<&str>,
    ) -> Result<String, AppError> {
        let out = self.sts(region).get_caller_identity().send().await;
        match out {
            Ok(o) => o.account().map(str::to_string).ok_or_else(|| {
                AppError::Config("sts:GetCallerIdentity returned no account id".into())
            }),
            Err(e) => Err(identity_error(&e, region, endpoint, &self.mode)),
        }
    }

    /// Asks EC2 which regions exist and which are enabled for the account (not in a replay:
    /// the recording says which regions it holds).
    async fn describe_regions(&self, home: &str) -> Option<DescribedRegions> {
        if let Mode::Replay(_) = &self.mode {
            return None;
        }
        Some(
            self.ec2(home)
                .describe_regions()
                .all_regions(true)
                .send()
                .await,
        )
    }

    fn resolve_regions(
        &self,
        opts: &SessionOptions,
        home: &str,
        described: Option<DescribedRegions>,
    ) -> Result<Vec<String>, AppError> {
        let Some(described) = described else {
            let recorded = match &self.mode {
                Mode::Replay(replayer) => replayer.manifest.regions.clone(),
                _ => unreachable!("regions are described in every mode but replay"),
            };
            if opts.regions.is_empty() || opts.all_regions {
                return Ok(recorded);
            }
            // Every requested region was checked against the recording in `connect`.
            return Ok(dedup(&opts.regions));
        };
        let known: Option<Vec<(String, String)>> = match described {
            Ok(out) => Some(region_statuses(&out)),
            Err(e) => {
                if opts.all_regions {
                    return Err(AppError::Config(format!(
                        "--all-regions needs ec2:DescribeRegions, which failed: {}",
                        error_chain(&e)
                    )));
                }
                // Without EC2's word, fall back to the regions this build knows.
                if let Some(r) = opts
                    .regions
                    .iter()
                    .find(|r| !KNOWN_REGIONS.contains(&r.as_str()))
                {
                    return Err(AppError::Config(format!(
                        "unknown region `{r}`: ec2:DescribeRegions could not confirm it ({}) and it is not a region awsaudit knows",
                        error_chain(&e)
                    )));
                }
                tracing::warn!(
                    "could not verify regions with ec2:DescribeRegions: {}",
                    error_chain(&e)
                );
                None
            }
        };
        let enabled = region_enabled;
        if opts.all_regions {
            let mut regions: Vec<String> = known
                .unwrap_or_default()
                .into_iter()
                .filter(|(n, s)| enabled(s) && partition_of(n) == partition_of(home))
                .map(|(n, _)| n)
                .collect();
            regions.sort();
            return Ok(regions);
        }
        let requested = if opts.regions.is_empty() {
            vec![home.to_string()]
        } else {
            dedup(&opts.regions)
        };
        if let Some(known) = known.filter(|k| !k.is_empty()) {
            for r in &requested {
                match known.iter().find(|(n, _)| n == r) {
                    None => {
                        return Err(AppError::Config(format!(
                            "unknown region `{r}`: EC2 lists no such region for account {}",
                            self.account
                        )))
                    }
                    // A fleet asks each member account whether the region is enabled there.
                    Some((_, s)) if !enabled(s) && !opts.fleet => {
                        return Err(AppError::Config(format!(
                            "region `{r}` is not enabled for account {} (opt-in status: {s})",
                            self.account
                        )))
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(requested)
    }
}

type DescribedRegions = Result<
    aws_sdk_ec2::operation::describe_regions::DescribeRegionsOutput,
    SdkError<aws_sdk_ec2::operation::describe_regions::DescribeRegionsError, HttpResponse>,
>;

/// Each region EC2 DescribeRegions lists, with its opt-in status.
pub fn region_statuses(
    out: &aws_sdk_ec2::operation::describe_regions::DescribeRegionsOutput,
) -> Vec<(String, String)> {
    out.regions()
        .iter()
        .filter_map(|r| {
            Some((
                r.region_name()?.to_string(),
                r.opt_in_status()
                    .unwrap_or("opt-in-not-required")
                    .to_string(),
            ))
        })
        .collect()
}

/// Whether a DescribeRegions opt-in status means the region is enabled.
pub fn region_enabled(status: &str) -> bool {
    status != "not-opted-in"
}

/// Why a member account's role could not be assumed, as a coverage entry records it.
#[derive(Debug, Clone)]
pub struct AssumeFailure {
    pub status: checks::model::CallStatus,
    pub error_code: Option<String>,
    pub message: String,
}

impl AssumeFailure {
    fn from_credentials_error(e: &CredentialsError) -> Self {
        // The STS error, when there is one, carries the code AWS answered with.
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = cur {
            if let Some(sdk) = err.downcast_ref::<SdkError<
                aws_sdk_sts::operation::assume_role::AssumeRoleError,
                HttpResponse,
            >>() {
                let (status, error_code, chain) = crate::collect::classify(sdk);
                // AWS's own sentence says who may not assume what; the chain is the fallback.
                let message = sdk
                    .as_service_error()
                    .and_then(|e| e.message())
                    .map_or(chain, one_line);
                return AssumeFailure {
                    status,
                    error_code,
                    message,
                };
            }
            cur = err.source();
        }
        AssumeFailure {
            status: checks::model::CallStatus::Failed,
            error_code: Some(
                match e {
                    CredentialsError::InvalidConfiguration(_) => "InvalidConfiguration",
                    CredentialsError::ProviderTimedOut(_) => crate::gap::GapCode::Timeout.as_str(),
                    _ => "CredentialsError",
                }
                .into(),
            ),
            message: error_chain(e),
        }
    }
}

/// The credentials of the first assumption (made to find out whether the role can be
/// assumed at all), then fresh ones from the provider whenever the SDK's credential cache
/// finds them near expiry.
#[derive(Debug)]
struct FirstThenRefresh {
    first: std::sync::Mutex<Option<Credentials>>,
    provider: aws_config::sts::AssumeRoleProvider,
}

impl ProvideCredentials for FirstThenRefresh {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        match crate::sync::lock(&self.first).take() {
            Some(c) => aws_credential_types::provider::future::ProvideCredentials::ready(Ok(c)),
            None => self.provider.provide_credentials(),
        }
    }
}

fn dedup(v: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in v {
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    out
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`.
pub fn validate_region_syntax(r: &str) -> Result<(), AppError> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re =
        RE.get_or_init(|| regex::Regex::new(r"^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$").expect("valid"));
    if re.is_match(r) {
        Ok(())
    } else {
        Err(AppError::Config(format!(
            "invalid region `{r}`: expected a region name such as us-east-1"
        )))
    }
}

fn validate_endpoint(url: &str) -> Result<(), AppError> {
    let shown = redacted(url);
    let uri: http::Uri = url
        .parse()
        .map_err(|e| AppError::Config(format!("invalid --endpoint-url `{shown}`: {e}")))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(_)) => Ok(()),
        _ => Err(AppError::Config(format!(
            "invalid --endpoint-url `{shown}`: expected http://HOST[:PORT] or https://HOST[:PORT]"
        ))),
    }
}

/// A named profile must exist in the shared config or credentials file; aws-config would
/// otherwise only report that no credentials were found.
async fn check_profile_exists(name: &str) -> Result<(), AppError> {
    let fs = aws_types::os_shim_internal::Fs::real();
    let env = aws_types::os_shim_internal::Env::real();
    let files = aws_runtime::env_config::file::EnvConfigFiles::default();
    let set = aws_config::profile::load(&fs, &env, &files, None)
        .await
        .map_err(|e| {
            AppError::Config(format!(
                "cannot read the AWS config files: {}",
                error_chain(&e)
            ))
        })?;
    if set.get_profile(name).is_some() {
        return Ok(());
    }
    let mut known: Vec<&str> = set.profiles().collect();
    known.sort_unstable();
    let known = if known.is_empty() {
        "no profiles are defined".to_string()
    } else {
        format!("defined profiles: {}", known.join(", "))
    };
    Err(AppError::Config(format!(
        "profile `{name}` does not exist in ~/.aws/config or ~/.aws/credentials ({known})"
    )))
}

const NO_CREDENTIALS_HINT: &str = "configure credentials with `aws configure`, `aws sso login --profile NAME` or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, pick a profile with --profile or AWS_PROFILE, or try the bundled demo: `audit --replay mocks/demo`";

async fn check_credentials(base: &SdkConfig, profile: Option<&str>) -> Result<(), AppError> {
    let Some(provider) = base.credentials_provider() else {
        return Err(AppError::Config(format!(
            "no AWS credentials found: {NO_CREDENTIALS_HINT}"
        )));
    };
    match provider.provide_credentials().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let detail = error_chain(&e);
            let which = match profile {
                Some(p) => format!("profile `{p}`"),
                None => match std::env::var("AWS_PROFILE") {
                    Ok(p) if !p.is_empty() => format!("profile `{p}` (from AWS_PROFILE)"),
                    _ => "the default credential chain".to_string(),
                },
            };
            let msg = match &e {
                CredentialsError::CredentialsNotLoaded(_) => {
                    format!("no AWS credentials found for {which}: {NO_CREDENTIALS_HINT}")
                }
                // Instance metadata is the chain's last resort, asked only when nothing else
                // is configured: its failure (403 where IMDS is off, an unreadable instance
                // role) means no usable credentials, and the same advice applies.
                _ if from_instance_metadata(&e) => {
                    // The cause alone: the wrapper only says credentials failed to load.
                    let cause = std::error::Error::source(&e).map_or(detail, error_chain);
                    format!(
                        "no AWS credentials found for {which} (instance metadata: {cause}): {NO_CREDENTIALS_HINT}"
                    )
                }
                _ if detail.contains("was not defined") || detail.contains("could not find") => {
                    format!(
                        "{which} does not exist in ~/.aws/config or ~/.aws/credentials ({detail})"
                    )
                }
                _ => format!("could not load credentials for {which}: {detail}"),
            };
            Err(AppError::Config(msg))
        }
    }
}

/// Whether a credentials error came from the instance metadata provider: an IMDS client
/// error anywhere in its causes, or one of the provider's own messages, which carry no type.
fn from_instance_metadata(e: &CredentialsError) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.is::<aws_config::imds::client::error::ImdsError>()
            || err.to_string().contains("IMDS")
        {
            return true;
        }
        cur = err.source();
    }
    false
}

fn identity_error<E>(
    e: &SdkError<E, HttpResponse>,
    region: &str,
    endpoint: Option<&str>,
    mode: &Mode,
) -> AppError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = error_chain(e);
    if let Mode::Replay(_) = mode {
        return AppError::Config(format!(
            "the recording cannot answer sts:GetCallerIdentity in {region}: {detail}"
        ));
    }
    let target = endpoint
        .map(|u| redacted(u).into_owned())
        .or_else(|| {
            std::env::var("AWS_ENDPOINT_URL")
                .ok()
                .filter(|u| !u.is_empty())
                .map(|u| redacted(&u).into_owned())
        })
        .unwrap_or_else(|| format!("https://sts.{region}.amazonaws.com"));
    match e {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
            if !KNOWN_REGIONS.contains(&region) =>
        {
            AppError::Config(format!(
                "unknown region `{region}`: cannot reach {target} ({detail})"
            ))
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => AppError::Config(format!(
            "cannot reach AWS at {target} (region {region}): {detail}"
        )),
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("unknown error");
            AppError::Config(format!(
                "AWS rejected the credentials ({code}) at {target}: {}; refresh them (e.g. `aws sso login`) or pick another --profile",
                se.err().message().unwrap_or("no message")
            ))
        }
        _ => AppError::Config(format!(
            "sts:GetCallerIdentity failed at {target}: {detail}"
        )),
    }
}

/// Regions this build knows, for validating region names when EC2 cannot be asked.
/// EC2 DescribeRegions is the authority; this list only backs it up.
pub const KNOWN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eusc-de-east-1",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// An error and its causes on one line (`dispatch failure: io error: connection refused`),
/// without the Debug dump `DisplayErrorContext` appends.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        // Wrappers often repeat their source's text; keep each piece once.
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    one_line(&parts.join(": "))
}

/// Collapses an error chain to one line and bounds its length.
pub fn one_line(s: &str) -> String {
    let mut out: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.len() > 400 {
        let mut cut = 400;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}
