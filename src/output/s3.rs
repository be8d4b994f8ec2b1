//! Report destinations in S3 (`--output s3://BUCKET/KEY`, `s3://BUCKET/PREFIX/`).
//!
//! The only writes awsaudit makes, and only of its own reports: one PutObject per rendered
//! format, after the whole audit is done. S3 makes an object visible only once its upload
//! has completed, and the SDK sends a checksum S3 verifies before it accepts the body, so a
//! reader sees the complete report or none (with bucket versioning, the previous one stays
//! as a version). Each bucket is checked with HeadBucket before any audit call, so a wrong
//! bucket, region or permission fails the run at once rather than after the audit.

use std::collections::BTreeMap;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;

use crate::error::error_chain;
use crate::error::AppError;

/// An object a report is written to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct S3Location {
    pub bucket: String,
    pub key: String,
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// `s3://bucket/rest` → (bucket, rest); `None` when `url` is not an S3 URL.
pub fn parse_url(url: &str) -> Option<Result<(String, String), AppError>> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    let valid_bucket = (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && !bucket.starts_with(['-', '.'])
        && !bucket.ends_with(['-', '.']);
    if !valid_bucket {
        return Some(Err(AppError::Config(format!(
            "`{url}`: `{bucket}` is not an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens)"
        ))));
    }
    if key.contains("//") || key.len() > 900 {
        return Some(Err(AppError::Config(format!(
            "`{url}`: the key has an empty path segment or is too long"
        ))));
    }
    Some(Ok((bucket.to_string(), key.to_string())))
}

/// The content type each rendering is stored with.
pub fn content_type(file_name: &str) -> &'static str {
    if file_name.ends_with(".json") || file_name.ends_with(".sarif") {
        "application/json"
    } else if file_name.ends_with(".jsonl") {
        "application/x-ndjson"
    } else if file_name.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else if file_name.ends_with(".md") {
        "text/markdown; charset=utf-8"
    } else {
        "text/plain; charset=utf-8"
    }
}

/// S3 clients, one per bucket region, with credentials from the same chain as the audit
/// (`--profile`, the environment, the instance or task role).
pub struct S3Sink {
    clients: BTreeMap<String, aws_sdk_s3::Client>,
}

impl S3Sink {
    /// Connects and checks that each bucket exists and is reachable (HeadBucket), finding
    /// each bucket's region.
    pub async fn connect(
        profile: Option<&str>,
        endpoint_url: Option<&str>,
        buckets: &[String],
    ) -> Result<Self, AppError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        if let Some(url) = endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let base = loader.load().await;
        let default_region = base
            .region()
            .map_or_else(|| "us-east-1".to_string(), |r| r.to_string());
        // An emulator or a private endpoint serves buckets as paths, not host names.
        let path_style = endpoint_url.is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some();
        let client = |region: &str| {
            let conf = aws_sdk_s3::config::Builder::from(&base)
                .region(Region::new(region.to_string()))
                .force_path_style(path_style)
                .build();
            aws_sdk_s3::Client::from_conf(conf)
        };
        let mut clients = BTreeMap::new();
        for bucket in buckets {
            let first = client(&default_region);
            let region = match first.head_bucket().bucket(bucket).send().await {
                Ok(out) => out
                    .bucket_region()
                    .map_or_else(|| default_region.clone(), str::to_string),
                Err(e) => {
                    // A bucket in another region answers with its region in a header.
                    let elsewhere = e
                        .raw_response()
                        .and_then(|r| r.headers().get("x-amz-bucket-region"))
                        .map(str::to_string)
                        .filter(|r| r != &default_region);
                    match elsewhere {
                        Some(r) => {
                            client(&r)
                                .head_bucket()
                                .bucket(bucket)
                                .send()
                                .await
                                .map_err(|e| bucket_error(bucket, &e))?;
                            r
                        }
                        None => return Err(bucket_error(bucket, &e)),
                    }
                }
            };
            clients.insert(bucket.clone(), client(&region));
        }
        Ok(S3Sink { clients })
    }

    /// Writes one report object.
    pub async fn put(&self, to: &S3Location, body: &str) -> Result<(), String> {
        let client = self
            .clients
            .get(&to.bucket)
            .ok_or_else(|| format!("{to}: bucket was not checked before the audit"))?;
        let name = to.key.rsplit('/').next().unwrap_or(&to.key);
        client
            .put_object()
            .bucket(&to.bucket)
            .key(&to.key)
            .content_type(content_type(name))
            .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Crc32)
            .body(ByteStream::from(body.as_bytes().to_vec()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("{to}: {}", error_chain(&e)))
    }
}

fn bucket_error<E>(
    bucket: &str,
    e: &aws_sdk_s3::error::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
) -> AppError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = e.raw_response().map(|r| r.status().as_u16());
    let why = match (status, e.code()) {
        (Some(404), _) | (_, Some("NotFound" | "NoSuchBucket")) => "the bucket does not exist".to_string(),
        (Some(403), _) => {
            "access denied (the writer needs s3:ListBucket on the bucket and s3:PutObject on the keys)".to_string()
        }
        _ => error_chain(e),
    };
    AppError::Config(format!("--output s3://{bucket}/: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_are_parsed_and_checked() {
        assert!(parse_url("reports/out.json").is_none());
        let (b, k) = parse_url("s3://my-reports/awsaudit/").unwrap().unwrap();
        assert_eq!((b.as_str(), k.as_str()), ("my-reports", "awsaudit/"));
        let (b, k) = parse_url("s3://my-reports").unwrap().unwrap();
        assert_eq!((b.as_str(), k.as_str()), ("my-reports", ""));
        assert!(parse_url("s3://My_Bucket/x").unwrap().is_err());
        assert!(parse_url("s3://ab/x").unwrap().is_err());
        assert!(parse_url("s3://bucket/a//b").unwrap().is_err());
    }

    #[test]
    fn content_types_follow_the_file_name() {
        assert_eq!(content_type("report.json"), "application/json");
        assert_eq!(
            content_type("findings.shard-0-of-2.csv"),
            "text/csv; charset=utf-8"
        );
        assert_eq!(content_type("report.txt"), "text/plain; charset=utf-8");
    }
}
