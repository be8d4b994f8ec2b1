//! Profiles, the credential chain and the caller's identity: each failure says what is
//! wrong and how to fix it.

use aws_config::SdkConfig;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use crate::error::{error_chain, AppError};
use crate::http::transport::Mode;
use crate::url_redact::redacted;

use super::regions::KNOWN_REGIONS;

/// A named profile must exist in the shared config or credentials file; aws-config would
/// otherwise only report that no credentials were found.
pub(super) async fn check_profile_exists(name: &str) -> Result<(), AppError> {
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

pub(super) async fn check_credentials(
    base: &SdkConfig,
    profile: Option<&str>,
) -> Result<(), AppError> {
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

pub(super) fn identity_error<E>(
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
