//! OpenID Connect providers as IAM names them: `arn:PARTITION:iam::ACCOUNT:oidc-provider/HOST`,
//! where `HOST` is the issuer URL without its scheme. EKS clusters' issuers
//! (`https://oidc.eks.REGION.amazonaws.com/id/ID`) are the ones the checks care about; a
//! trust policy, a provider record and a cluster may spell the same host in different cases.

/// An issuer URL or provider host as shown to people: no scheme, no trailing slash, case
/// kept (EKS issuer IDs are upper case, and a provider must be created with the same URL).
pub fn display_host(text: &str) -> String {
    let text = text.trim();
    let rest = match text.get(..8) {
        Some(scheme) if scheme.eq_ignore_ascii_case("https://") => &text[8..],
        _ => text,
    };
    rest.trim_end_matches('/').to_string()
}

/// An issuer URL or provider host in one comparable form: [`display_host`], lowercase.
pub fn normalise_host(text: &str) -> String {
    display_host(text).to_ascii_lowercase()
}

/// The account and host of `arn:PARTITION:iam::ACCOUNT:oidc-provider/HOST`.
pub fn oidc_provider_parts(arn: &str) -> Option<(&str, &str)> {
    let (head, host) = arn.split_once(":oidc-provider/")?;
    let account = head.rsplit(':').next()?;
    (!host.is_empty() && head.starts_with("arn:")).then_some((account, host))
}

/// The `<host>` of a principal `…:oidc-provider/<host>`, however the part before is written.
pub(super) fn oidc_host(principal: &str) -> Option<&str> {
    let (_, host) = principal.split_once(":oidc-provider/")?;
    (!host.is_empty()).then_some(host)
}

/// Whether `host` (normalised) is an EKS cluster's OIDC issuer:
/// `oidc.eks.REGION.amazonaws.com/id/ID` (`.amazonaws.com.cn` in China).
pub fn is_eks_issuer_host(host: &str) -> bool {
    let Some(rest) = host.strip_prefix("oidc.eks.") else {
        return false;
    };
    let Some((domain, id)) = rest.split_once("/id/") else {
        return false;
    };
    !id.is_empty()
        && !id.contains('/')
        && (domain.ends_with(".amazonaws.com") || domain.ends_with(".amazonaws.com.cn"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "oidc.eks.us-east-1.amazonaws.com/id/5C0FFEE5C0FFEE";

    #[test]
    fn hosts_and_provider_arns() {
        assert!(is_eks_issuer_host(&normalise_host(&format!(
            "https://{HOST}/"
        ))));
        assert_eq!(display_host(&format!(" HTTPS://{HOST}/ ")), HOST);
        assert!(is_eks_issuer_host(
            "oidc.eks.cn-north-1.amazonaws.com.cn/id/abc"
        ));
        assert!(!is_eks_issuer_host("token.actions.githubusercontent.com"));
        assert!(!is_eks_issuer_host("oidc.eks.us-east-1.amazonaws.com/id/"));
        assert!(!is_eks_issuer_host("oidc.eks.evil.example.com/id/abc"));
        let provider = format!("arn:aws:iam::111122223333:oidc-provider/{HOST}");
        assert_eq!(oidc_provider_parts(&provider), Some(("111122223333", HOST)));
        assert_eq!(oidc_provider_parts("arn:aws:iam::1:saml-provider/x"), None);
        assert_eq!(oidc_provider_parts("x:oidc-provider/h"), None);
        assert_eq!(oidc_host("x:oidc-provider/h"), Some("h"));
    }
}
