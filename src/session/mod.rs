//! The session: one SDK configuration (profile, credentials, endpoint, retries, timeouts)
//! and the service clients built from it, each over a [`Transport`] for its region.
//!
//! Credentials and profiles are resolved by aws-config exactly as for every AWS tool; the
//! credential providers keep aws-config's own HTTP client, so STS/SSO exchanges that carry
//! credentials are never recorded. Nothing else in the program knows whether responses come
//! from AWS, an emulator or a recording.
//!
//! - `credentials`: profiles, the credential chain, the caller's identity, and what to say
//!   when any of them is wrong
//! - `regions`: which regions exist, are enabled and are audited
//! - `assume`: member accounts' sessions through their roles (fleet runs)
//! - `organizations`: the organization's accounts (`--org`)
//! - `retry`: each (service, region)'s client-side retry quota, held by the session

mod assume;
mod credentials;
mod organizations;
mod regions;
mod retry;

pub use assume::AssumeFailure;
pub use regions::{region_enabled, region_statuses};

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_async::time::SystemTimeSource;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::stalled_stream_protection::StalledStreamProtectionConfig;

use crate::error::AppError;
pub use crate::http::slots::Rank;
use crate::http::slots::Slots;
use crate::http::stats::Stats;
use crate::http::throttling::{Limits, Pacer};
use crate::http::transport::{
    AccountLimit, Gate, Mode, OpTagger, Transport, TransportParts, UnreadableBody,
};
use crate::url_redact::redacted;

use credentials::{check_credentials, check_profile_exists, identity_error};
use regions::validate_region_syntax;

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
    /// account cannot hold every slot of the run-wide limit, and its rank for those slots.
    account_limit: Option<Arc<AccountLimit>>,
    /// Each (service, region)'s client-side retry quota.
    retry_quotas: retry::RetryQuotas,
}

macro_rules! service_client {
    ($fn_name:ident, $krate:ident, $service:literal) => {
        pub fn $fn_name(&self, region: &str) -> $krate::Client {
            let partition = self.retry_quotas.partition($service, &self.account, region);
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
    service_client!(ecr, aws_sdk_ecr, "ecr");
    service_client!(elbv2, aws_sdk_elasticloadbalancingv2, "elbv2");
    service_client!(ec2, aws_sdk_ec2, "ec2");
    service_client!(iam, aws_sdk_iam, "iam");
    service_client!(sts, aws_sdk_sts, "sts");
    service_client!(scheduler, aws_sdk_scheduler, "scheduler");
    service_client!(secretsmanager, aws_sdk_secretsmanager, "secretsmanager");
    service_client!(ssm, aws_sdk_ssm, "ssm");
    service_client!(kms, aws_sdk_kms, "kms");
    service_client!(eventbridge, aws_sdk_eventbridge, "events");
    service_client!(organizations, aws_sdk_organizations, "organizations");
    service_client!(
        autoscaling,
        aws_sdk_applicationautoscaling,
        "application-autoscaling"
    );

    /// Lets go of the account's retry quotas once its collection and checks are done (see
    /// `retry`); a later call into the account starts a fresh one.
    pub fn release_retry_quotas(&self) {
        self.retry_quotas.release();
    }

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
                global: Slots::new(opts.concurrency.max(1)),
                pacer,
                // Timed by the transport from when the attempt is sent (http::transport::fetch):
                // the SDK's attempt timeout would also count the wait for the pacer.
                call_timeout: opts.call_timeout,
            }),
            account_limit: None,
            retry_quotas: retry::RetryQuotas::default(),
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
