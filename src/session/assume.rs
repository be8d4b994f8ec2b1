//! Member accounts' sessions, reached through their roles (fleet runs).

use std::sync::Arc;

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use crate::error::{error_chain, one_line};
use crate::http::slots::Rank;
use crate::http::transport::{AccountLimit, Mode};
use crate::{fleet, gap, sync};

use super::Session;

impl Session {
    /// The session of a member account, reached through `target`'s role. Live, the role is
    /// assumed once now (a failure is returned, to be reported as that account's coverage
    /// gap) and again by the SDK's credential cache before the credentials expire, however
    /// long the run. A replay answers from the outcome the recording kept. The account has
    /// at most `limit` calls in flight, and `rank` for the run's slots.
    pub async fn assume(
        &self,
        target: &fleet::Target,
        external_id: Option<&str>,
        session_name: &str,
        recorded: Option<&fleet::Assumed>,
        limit: usize,
        rank: Rank,
    ) -> Result<Session, AssumeFailure> {
        let base = match &self.mode {
            Mode::Replay(_) => match recorded {
                Some(fleet::Assumed::Ok) => self.base.clone(),
                Some(fleet::Assumed::Failed {
                    error_code,
                    message,
                }) => {
                    let code = error_code.clone();
                    let status = match code.as_deref() {
                        Some(c) if gap::ACCESS_DENIED.contains(&c) => {
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
                        error_code: Some(gap::GapCode::NotInRecording.into()),
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
            account_limit: Some(Arc::new(AccountLimit {
                calls: tokio::sync::Semaphore::new(limit.max(1)),
                rank,
            })),
            retry_quotas: super::retry::RetryQuotas::default(),
        })
    }
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
                let (status, error_code, chain) = gap::classify(sdk);
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
                    CredentialsError::ProviderTimedOut(_) => gap::GapCode::Timeout.as_str(),
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
        match sync::lock(&self.first).take() {
            Some(c) => aws_credential_types::provider::future::ProvideCredentials::ready(Ok(c)),
            None => self.provider.provide_credentials(),
        }
    }
}
