//! Checks on the VPC networking container workloads run in.

pub mod ecr_endpoints_without_s3_gateway;
pub mod private_subnet_without_image_path;
pub mod subnet_ip_exhaustion;
