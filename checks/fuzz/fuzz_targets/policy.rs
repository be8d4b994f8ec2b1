//! IAM policy documents as they arrive from IAM, endpoint policies and trust policies:
//! any bytes must parse or fail with an error, and every query must answer, never panic.
#![no_main]

use checks::policy::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = Policy::parse(text) else {
        return;
    };
    let _ = policy.allows_all_actions();
    let _ = policy.allows("s3:GetObject", "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/a");
    let _ = policy.allows("sts:AssumeRole", "*");
    let _ = policy.trust_principals();
    let _ = policy.allows_anyone();
    let _ = policy.anyone_may_assume();
    for host in policy.federated_oidc_hosts() {
        let _ = policy.oidc_trust(host);
    }
    let _ = policy.oidc_trust("https://oidc.eks.us-east-1.amazonaws.com/id/ABC");
});
