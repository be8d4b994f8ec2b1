//! Container image references: where an image is pulled from, and the private ECR
//! repository, tag and digest a reference names. Checks of ECS workloads and of ECR
//! repositories read images through these, so they agree on what a reference means.

use std::sync::LazyLock;

use regex::Regex;

use super::partition_of;

/// Where an image is pulled from, as far as the pull path is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSource<'s> {
    /// A private ECR registry in `region` (reachable through that region's ECR endpoints).
    Ecr { region: &'s str },
    /// A public registry only reachable over the internet (Docker Hub, ECR Public, ghcr.io…).
    Public,
    /// Any other registry: it may live inside the VPC or behind a private route.
    Other,
}

static ECR_HOST: LazyLock<Regex> = LazyLock::new(|| {
    // Classic (`.amazonaws.com`, `.amazonaws.com.cn`) and dual-stack (`dkr-ecr….on.aws`)
    // hosts: the registry's account, then its region in one of the two forms.
    Regex::new(
        r"^(\d{12})\.(?:dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|dkr-ecr(?:-fips)?\.([a-z0-9-]+)\.on\.aws)$",
    )
    .expect("the ECR host pattern is valid")
});

/// Registries that serve only from the public internet. ECR interface endpoints do not serve
/// ECR Public; no VPC endpoint serves the others.
const PUBLIC_REGISTRIES: [&str; 14] = [
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
    "public.ecr.aws",
    "ghcr.io",
    "quay.io",
    "gcr.io",
    "registry.k8s.io",
    "mcr.microsoft.com",
    "registry.gitlab.com",
    "nvcr.io",
    "docker.elastic.co",
    "cgr.dev",
];
const PUBLIC_REGISTRY_SUFFIXES: [&str; 3] = [".gcr.io", ".pkg.dev", ".azurecr.io"];

/// Classifies an image reference (`nginx:latest`, `ghcr.io/o/app@sha256:…`,
/// `123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1`).
pub fn image_source(image: &str) -> ImageSource<'_> {
    // Docker's rule: the first path component is a registry host only when it contains a
    // dot or a port, or is `localhost`; otherwise the image is on Docker Hub.
    let Some((host, _)) = registry_host(image) else {
        return ImageSource::Public;
    };
    if let Some((_, region)) = ecr_host(host) {
        return ImageSource::Ecr { region };
    }
    let host_lower = host.to_ascii_lowercase();
    if PUBLIC_REGISTRIES.contains(&host_lower.as_str())
        || PUBLIC_REGISTRY_SUFFIXES
            .iter()
            .any(|s| host_lower.ends_with(s))
    {
        ImageSource::Public
    } else {
        ImageSource::Other
    }
}

/// Docker's rule: the first path component of a reference is a registry host only when it
/// contains a dot or a port, or is `localhost`; otherwise the image is on Docker Hub. The
/// host (without its port) and the rest of the reference.
fn registry_host(image: &str) -> Option<(&str, &str)> {
    match image.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            Some((first.split(':').next().unwrap_or(first), rest))
        }
        _ => None,
    }
}

/// The account and region of a private ECR registry host.
fn ecr_host(host: &str) -> Option<(&str, &str)> {
    let caps = ECR_HOST.captures(host)?;
    let account = caps.get(1)?.as_str();
    let region = caps.get(2).or_else(|| caps.get(3))?.as_str();
    Some((account, region))
}

/// The tag of an image reference, `None` when it has none. A digest (`@sha256:…`) is not a
/// tag, and a colon before the last `/` is a registry port.
pub fn image_tag(image: &str) -> Option<&str> {
    let name = image.split('@').next().unwrap_or(image);
    let last = name.rsplit('/').next().unwrap_or(name);
    last.split_once(':').map(|(_, t)| t)
}

/// An image in a private ECR repository, as a reference names it
/// (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO[:tag][@digest]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcrImage<'s> {
    /// The registry's account.
    pub account: &'s str,
    pub region: &'s str,
    /// The repository name, namespaces included (`team/web`).
    pub repository: &'s str,
    pub tag: Option<&'s str>,
    pub digest: Option<&'s str>,
}

impl EcrImage<'_> {
    /// The repository's ARN (`arn:aws:ecr:REGION:ACCOUNT:repository/REPO`).
    pub fn repository_arn(&self) -> String {
        format!(
            "arn:{}:ecr:{}:{}:repository/{}",
            partition_of(self.region),
            self.region,
            self.account,
            self.repository
        )
    }
}

/// The private ECR repository an image reference names, or `None` for any other registry.
pub fn ecr_image(image: &str) -> Option<EcrImage<'_>> {
    let (host, path) = registry_host(image)?;
    let (account, region) = ecr_host(host)?;
    let (name, digest) = match path.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (path, None),
    };
    let tag = image_tag(name);
    let repository = match tag {
        Some(t) => &name[..name.len() - t.len() - 1],
        None => name,
    };
    (!repository.is_empty()).then_some(EcrImage {
        account,
        region,
        repository,
        tag,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_image_registries() {
        let ecr = |r| ImageSource::Ecr { region: r };
        for (image, want) in [
            ("nginx:latest", ImageSource::Public),
            ("nginx", ImageSource::Public),
            ("library/nginx@sha256:abc", ImageSource::Public),
            ("docker.io/library/nginx:1", ImageSource::Public),
            ("public.ecr.aws/nginx/nginx:1", ImageSource::Public),
            ("ghcr.io/org/app:2", ImageSource::Public),
            ("europe-docker.pkg.dev/p/r/app:1", ImageSource::Public),
            (
                "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1",
                ecr("us-east-1"),
            ),
            (
                "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/web",
                ecr("cn-north-1"),
            ),
            (
                "111122223333.dkr.ecr-fips.us-east-2.amazonaws.com/web:1",
                ecr("us-east-2"),
            ),
            (
                "111122223333.dkr-ecr.eu-west-1.on.aws/web:1",
                ecr("eu-west-1"),
            ),
            ("registry.internal.example:5000/app:1", ImageSource::Other),
            ("localhost/app", ImageSource::Other),
            // Not an account id: not ECR.
            (
                "abc.dkr.ecr.us-east-1.amazonaws.com/web",
                ImageSource::Other,
            ),
        ] {
            assert_eq!(image_source(image), want, "{image}");
        }
    }

    #[test]
    fn names_the_ecr_repository_tag_and_digest() {
        let image =
            ecr_image("111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/web:1.4.2").unwrap();
        assert_eq!(
            (
                image.account,
                image.region,
                image.repository,
                image.tag,
                image.digest
            ),
            ("111122223333", "eu-west-1", "team/web", Some("1.4.2"), None)
        );
        assert_eq!(
            image.repository_arn(),
            "arn:aws:ecr:eu-west-1:111122223333:repository/team/web"
        );
        let pinned =
            ecr_image("111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1@sha256:0123").unwrap();
        assert_eq!(
            (pinned.repository, pinned.tag, pinned.digest),
            ("web", Some("1"), Some("sha256:0123"))
        );
        let bare = ecr_image("111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/web").unwrap();
        assert_eq!((bare.repository, bare.tag), ("web", None));
        assert_eq!(
            bare.repository_arn(),
            "arn:aws-cn:ecr:cn-north-1:111122223333:repository/web"
        );
        let dual = ecr_image("111122223333.dkr-ecr.eu-west-1.on.aws/web@sha256:ab").unwrap();
        assert_eq!(
            (dual.region, dual.repository, dual.tag),
            ("eu-west-1", "web", None)
        );
        for other in [
            "nginx:latest",
            "public.ecr.aws/nginx/nginx:1",
            "registry.local:5000/web:1",
            "111122223333.dkr.ecr.us-east-1.amazonaws.com/",
        ] {
            assert_eq!(ecr_image(other), None, "{other}");
        }
        assert_eq!(image_tag("registry.local:5000/team/app"), None);
        assert_eq!(image_tag("app:latest@sha256:0123abcd"), Some("latest"));
    }
}
