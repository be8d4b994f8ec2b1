//! Which regions exist, which the account has enabled, and which are audited.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use checks::model::partition_of;

use crate::error::{error_chain, AppError};
use crate::http::transport::Mode;

use super::{dedup, Session, SessionOptions};

impl Session {
    /// Asks EC2 which regions exist and which are enabled for the account (not in a replay:
    /// the recording says which regions it holds).
    pub(super) async fn describe_regions(&self, home: &str) -> Option<DescribedRegions> {
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

    pub(super) fn resolve_regions(
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
