//! The collector: inventories every requested region (and IAM once per account) under one
//! bounded concurrency limit, and records how every (account, region, operation) ended.
//!
//! A failed call is never an empty list: the caller gets `None`, the failure lands in the
//! coverage with its error code and message, and the checks that need the data report
//! *unknown* for that scope.

mod autoscaling;
mod ec2;
mod ecs;
mod eks;
mod elbv2;
mod iam;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use checks::model::{CallStatus, CoverageEntry, Inventory, Scope, GLOBAL_REGION};
use tokio::sync::Semaphore;

use crate::aws::{error_chain, Session};
use crate::progress::Progress;
use crate::recording::RecordingError;

/// Shared state of one collection run.
pub struct Collector {
    pub session: Arc<Session>,
    limit: Semaphore,
    ok: Mutex<BTreeSet<(String, String, String, String)>>,
    failures: Mutex<Vec<CoverageEntry>>,
    progress: Progress,
}

/// Error codes that mean the credentials may not make the call.
const ACCESS_DENIED: [&str; 6] = [
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "AuthorizationError",
    "Forbidden",
];

/// Error codes that mean the operation or service is not offered here.
const NOT_AVAILABLE: [&str; 7] = [
    "UnknownOperationException",
    "InvalidAction",
    "UnsupportedOperation",
    "OptInRequired",
    "SubscriptionRequiredException",
    "NotImplemented",
    "UnsupportedOperationException",
];

/// How a failed call is recorded.
pub fn classify<E>(err: &SdkError<E, HttpResponse>) -> (CallStatus, Option<String>, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = error_chain(err);
    match err {
        SdkError::ServiceError(se) => {
            let http = se.raw().status().as_u16();
            let code = se.err().code().map(str::to_string);
            let status = match code.as_deref() {
                Some(c) if ACCESS_DENIED.contains(&c) => CallStatus::AccessDenied,
                Some(c) if NOT_AVAILABLE.contains(&c) => CallStatus::NotAvailable,
                None if http == 404 || http == 501 => CallStatus::NotAvailable,
                _ if http == 403 && code.is_none() => CallStatus::AccessDenied,
                _ => CallStatus::Failed,
            };
            let code = code.or_else(|| Some(format!("HTTP {http}")));
            (status, code, message)
        }
        SdkError::ResponseError(re) => {
            let http = re.raw().status().as_u16();
            let status = if http == 404 || http == 501 {
                CallStatus::NotAvailable
            } else {
                CallStatus::Failed
            };
            (
                status,
                Some(format!("MalformedResponse (HTTP {http})")),
                message,
            )
        }
        SdkError::DispatchFailure(_) if missing_from_recording(err) => {
            (CallStatus::Failed, Some("NotInRecording".into()), message)
        }
        SdkError::DispatchFailure(_) => {
            (CallStatus::Failed, Some("DispatchFailure".into()), message)
        }
        SdkError::TimeoutError(_) => (CallStatus::Failed, Some("Timeout".into()), message),
        _ => (
            CallStatus::Failed,
            Some("ConstructionFailure".into()),
            message,
        ),
    }
}

/// Whether a failure is the replayer having no response for the request.
fn missing_from_recording(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(RecordingError::MissingKey { .. }) = e.downcast_ref::<RecordingError>() {
            return true;
        }
        cur = e.source();
    }
    false
}

impl Collector {
    pub fn new(session: Arc<Session>, concurrency: usize, progress: Progress) -> Arc<Self> {
        Arc::new(Collector {
            session,
            limit: Semaphore::new(concurrency.max(1)),
            ok: Mutex::new(BTreeSet::new()),
            failures: Mutex::new(Vec::new()),
            progress,
        })
    }

    /// Runs one logical operation (a call, or a whole paginated listing) under the
    /// concurrency limit and records its outcome. `resource` narrows a failure's scope.
    pub async fn call<T, E, F>(
        &self,
        scope: &Scope,
        service: &str,
        operation: &str,
        resource: Option<&str>,
        fut: F,
    ) -> Option<T>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let result = {
            let _permit = self.limit.acquire().await.expect("semaphore never closed");
            fut.await
        };
        self.progress.tick();
        match result {
            Ok(v) => {
                self.ok.lock().expect("coverage lock").insert((
                    scope.account.clone(),
                    scope.region.clone(),
                    service.to_string(),
                    operation.to_string(),
                ));
                Some(v)
            }
            Err(e) => {
                let (status, error_code, message) = classify(&e);
                tracing::info!(
                    account = %scope.account,
                    region = %scope.region,
                    "{service}:{operation}{} {status:?}: {message}",
                    resource.map(|r| format!(" ({r})")).unwrap_or_default()
                );
                self.failures
                    .lock()
                    .expect("coverage lock")
                    .push(CoverageEntry {
                        account: scope.account.clone(),
                        region: scope.region.clone(),
                        service: service.to_string(),
                        operation: operation.to_string(),
                        scope: resource.map(str::to_string),
                        status,
                        error_code,
                        message: Some(message),
                    });
                None
            }
        }
    }

    /// Inventories every region of the session, and IAM once for the account.
    pub async fn run(self: &Arc<Self>) -> Inventory {
        let account = self.session.account.clone();
        let mut tasks = Vec::new();
        for region in self.session.regions.clone() {
            let c = self.clone();
            let scope = Scope::new(&account, &region);
            tasks.push(tokio::spawn(async move { c.region(scope).await }));
        }
        let global = {
            let c = self.clone();
            let scope = Scope::new(&account, GLOBAL_REGION);
            tokio::spawn(async move { iam::collect(&c, &scope).await })
        };
        let mut inv = Inventory::default();
        for t in tasks {
            match t.await {
                Ok(part) => inv.merge(part),
                Err(e) => tracing::error!("a region's collection panicked: {e}"),
            }
        }
        match global.await {
            Ok(part) => inv.merge(part),
            Err(e) => tracing::error!("IAM collection panicked: {e}"),
        }
        inv.coverage.entries = self.coverage_entries();
        inv.sort();
        inv
    }

    async fn region(self: Arc<Self>, scope: Scope) -> Inventory {
        let (ecs, scaling, eks, elb, net) = tokio::join!(
            ecs::collect(&self, &scope),
            autoscaling::collect(&self, &scope),
            eks::collect(&self, &scope),
            elbv2::collect(&self, &scope),
            ec2::collect(&self, &scope),
        );
        let mut inv = Inventory::default();
        inv.merge(ecs);
        inv.merge(scaling);
        inv.merge(eks);
        inv.merge(elb);
        inv.merge(net);
        // Networking limits of the instance types nodegroups use, batched per region.
        let types: BTreeSet<String> = inv
            .eks_nodegroups
            .iter()
            .flat_map(|n| n.instance_types.iter().cloned())
            .collect();
        inv.instance_types = ec2::instance_types(&self, &scope, types).await;
        inv
    }

    fn coverage_entries(&self) -> Vec<CoverageEntry> {
        let mut entries: Vec<CoverageEntry> = self
            .ok
            .lock()
            .expect("coverage lock")
            .iter()
            .map(|(account, region, service, operation)| CoverageEntry {
                account: account.clone(),
                region: region.clone(),
                service: service.clone(),
                operation: operation.clone(),
                scope: None,
                status: CallStatus::Ok,
                error_code: None,
                message: None,
            })
            .collect();
        entries.extend(self.failures.lock().expect("coverage lock").iter().cloned());
        entries.sort_by(|a, b| {
            (
                &a.account,
                &a.region,
                &a.service,
                &a.operation,
                &a.scope,
                a.status,
            )
                .cmp(&(
                    &b.account,
                    &b.region,
                    &b.service,
                    &b.operation,
                    &b.scope,
                    b.status,
                ))
        });
        entries
    }
}

/// Formats an SDK timestamp as RFC 3339.
/// A tag list as a map (entries without a key are dropped; a missing value is empty).
pub fn tag_map<'a>(
    tags: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> std::collections::BTreeMap<String, String> {
    tags.into_iter()
        .filter_map(|(k, v)| Some((k?.to_string(), v.unwrap_or_default().to_string())))
        .collect()
}

pub fn rfc3339(t: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
}
