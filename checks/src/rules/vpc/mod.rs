//! Checks on the VPC networking container workloads run in.

pub mod ecr_endpoints_without_s3_gateway;
pub mod no_logs_path;
pub mod no_secrets_path;
pub mod private_subnet_without_image_path;
pub mod s3_endpoint_policy_blocks_ecr;
pub mod subnet_ip_exhaustion;
