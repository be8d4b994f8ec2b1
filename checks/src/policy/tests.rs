use super::*;

fn parse(text: &str) -> Policy {
    match Policy::parse(text) {
        Ok(p) => p,
        Err(e) => panic!("expected {text} to parse, got: {e}"),
    }
}

fn parse_err(text: &str) -> String {
    match Policy::parse(text) {
        Ok(p) => panic!("expected {text} to fail, got {p:?}"),
        Err(e) => e.to_string(),
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn only_statement(policy: &Policy) -> &Statement {
    assert_eq!(policy.statements.len(), 1, "{policy:?}");
    &policy.statements[0]
}

const HOST: &str = "oidc.eks.us-east-1.amazonaws.com/id/ABC";

fn irsa_trust(condition: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"arn:aws:iam::111122223333:oidc-provider/{HOST}"}},
        "Action":"sts:AssumeRoleWithWebIdentity","Condition":{condition}}}]}}"#
    )
}

#[test]
fn single_statement_object_and_string_fields() {
    let policy = parse(
        r#"{"Statement":{"Sid":"One","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#,
    );
    assert_eq!(policy.version, None);
    let s = only_statement(&policy);
    assert_eq!(s.sid.as_deref(), Some("One"));
    assert_eq!(s.effect, Effect::Allow);
    assert_eq!(s.action, Patterns::Include(strings(&["s3:GetObject"])));
    assert_eq!(
        s.resource,
        Patterns::Include(strings(&["arn:aws:s3:::b/*"]))
    );
    assert_eq!(s.principal, PrincipalClause::Absent);
    assert!(s.condition.is_empty());
}

#[test]
fn list_fields_and_version() {
    let policy = parse(
        r#"{"Version":"2012-10-17","Id":"x","Statement":[
            {"Effect":"Deny","NotAction":["iam:*","sts:*"],"NotResource":["arn:a","arn:b"]},
            {"Effect":"Allow","Action":[],"Resource":[]}]}"#,
    );
    assert_eq!(policy.version.as_deref(), Some("2012-10-17"));
    assert_eq!(policy.id.as_deref(), Some("x"));
    assert_eq!(policy.statements.len(), 2);
    let deny = &policy.statements[0];
    assert_eq!(deny.effect, Effect::Deny);
    assert_eq!(deny.action, Patterns::Exclude(strings(&["iam:*", "sts:*"])));
    assert_eq!(
        deny.resource,
        Patterns::Exclude(strings(&["arn:a", "arn:b"]))
    );
    assert_eq!(policy.statements[1].action, Patterns::Include(vec![]));
}

#[test]
fn empty_statement_list_is_fine() {
    let policy = parse(r#"{"Version":"2012-10-17","Statement":[]}"#);
    assert!(policy.statements.is_empty());
    assert!(!policy.allows_anyone());
    assert!(!policy.allows_all_actions());
    assert!(policy.trust_principals().is_empty());
}

#[test]
fn url_encoded_documents_are_decoded_once() {
    let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ecs-tasks.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
    let policy = parse(encoded);
    let principals = policy.trust_principals();
    assert_eq!(principals.len(), 1);
    assert_eq!(principals[0].kind, &PrincipalKind::Service);
    assert_eq!(principals[0].value, "ecs-tasks.amazonaws.com");

    // Plain JSON is not decoded: a literal %41 inside stays.
    let policy = parse(r#" {"Statement":{"Effect":"Allow","Action":"a:%41"}} "#);
    assert_eq!(
        only_statement(&policy).action,
        Patterns::Include(strings(&["a:%41"]))
    );

    // Decoded once only: a doubly-encoded document does not become JSON.
    assert!(parse_err("%257B%257D").contains("not valid JSON"));
}

#[test]
fn principal_shapes() {
    let policy = parse(
        r#"{"Statement":[
            {"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},
            {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:root","2"],"Service":"ec2.amazonaws.com",
              "CanonicalUser":"abc","Weird":"w"},"Action":"sts:AssumeRole"},
            {"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::1:root"},"Action":"sts:AssumeRole"}]}"#,
    );
    assert_eq!(
        policy.statements[0].principal,
        PrincipalClause::Include(Principals::Anyone)
    );
    let PrincipalClause::Include(Principals::Listed(ids)) = &policy.statements[1].principal else {
        panic!("expected a listed principal");
    };
    let mut got: Vec<(PrincipalKind, &str)> = ids
        .iter()
        .map(|i| (i.kind.clone(), i.value.as_str()))
        .collect();
    got.sort_by(|a, b| a.1.cmp(b.1));
    assert_eq!(
        got,
        vec![
            (PrincipalKind::Aws, "2"),
            (PrincipalKind::CanonicalUser, "abc"),
            (PrincipalKind::Aws, "arn:aws:iam::1:root"),
            (PrincipalKind::Service, "ec2.amazonaws.com"),
            (PrincipalKind::Other("Weird".into()), "w"),
        ]
    );
    assert!(matches!(
        policy.statements[2].principal,
        PrincipalClause::Exclude(Principals::Listed(_))
    ));
    // "*" expands to AWS:*; NotPrincipal is not a trust principal.
    let trusted = policy.trust_principals();
    assert_eq!(trusted.len(), 6);
    assert_eq!(
        (trusted[0].kind, trusted[0].value),
        (&PrincipalKind::Aws, "*")
    );
}

#[test]
fn condition_values_are_normalised() {
    let policy = parse(
        r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{
            "Bool":{"aws:SecureTransport":false},
            "NumericLessThan":{"s3:max-keys":[10, 2.5]},
            "ForAnyValue:StringLikeIfExists":{"aws:TagKeys":["a*","b"]},
            "Null":{"aws:TokenIssueTime":"true"}}}}"#,
    );
    let c = &only_statement(&policy).condition;
    assert_eq!(c.constraints.len(), 4);
    let secure = c.constrains("AWS:SECURETRANSPORT").expect("constraint");
    assert_eq!(secure.operator.base, BaseOperator::Bool);
    assert_eq!(secure.values, strings(&["false"]));
    assert_eq!(
        c.constrains("s3:max-keys").map(|x| x.values.clone()),
        Some(strings(&["10", "2.5"]))
    );
    let tags = c.constrains("aws:tagkeys").expect("constraint");
    assert_eq!(tags.operator.set, Some(SetQualifier::ForAnyValue));
    assert_eq!(tags.operator.base, BaseOperator::StringLike);
    assert!(tags.operator.if_exists);
    assert_eq!(c.key_constraint("aws:TagKeys"), KeyConstraint::Weak);
    assert_eq!(
        c.constrains("aws:TokenIssueTime").map(|x| &x.operator.base),
        Some(&BaseOperator::Null)
    );
    // A condition makes "allow everything" not count as admin.
    assert!(!policy.allows_all_actions());
}

#[test]
fn unknown_condition_operator_is_kept() {
    let policy = parse(
        r#"{"Statement":{"Effect":"Allow","Action":"*","Condition":{"Frobnicate":{"k":"v"}}}}"#,
    );
    let c = &only_statement(&policy).condition;
    assert_eq!(
        c.constraints[0].operator.base,
        BaseOperator::Other("Frobnicate".into())
    );
}

#[test]
fn actions_match_case_insensitively_and_honour_not_action() {
    let policy = parse(
        r#"{"Statement":[
            {"Effect":"Allow","Action":["S3:get*","ecr:BatchGetImage"],"Resource":"*"},
            {"Effect":"Allow","NotAction":"iam:*","Resource":"*"},
            {"Effect":"Deny","Action":"s3:GetObject","Resource":"*"},
            {"Effect":"Allow","Resource":"*"}]}"#,
    );
    let [get, not_iam, deny, none] = policy.statements.as_slice() else {
        panic!("four statements");
    };
    assert!(get.allows_action("s3:GetObject"));
    assert!(get.allows_action("s3:getobject"));
    assert!(get.allows_action("ECR:batchgetimage"));
    assert!(!get.allows_action("s3:PutObject"));
    assert!(not_iam.allows_action("s3:PutObject"));
    assert!(!not_iam.allows_action("iam:CreateUser"));
    assert!(!not_iam.allows_action("IAM:createuser"));
    assert!(deny.covers_action("s3:GetObject"));
    assert!(!deny.allows_action("s3:GetObject"));
    assert!(!none.allows_action("s3:GetObject"));
    // The unconditional Deny wins over the Allow.
    assert!(!policy.allows("s3:GetObject", "arn:aws:s3:::b/k"));
    assert!(policy.allows("s3:GetObjectVersion", "arn:aws:s3:::b/k"));
}

#[test]
fn resources_match_case_sensitively() {
    let policy = parse(
        r#"{"Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue",
            "Resource":"arn:aws:secretsmanager:us-east-1:1:secret:app/*"},
            {"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::private/*"}]}"#,
    );
    let secret = "arn:aws:secretsmanager:us-east-1:1:secret:app/db-AbCdEf";
    assert!(policy.allows("secretsmanager:GetSecretValue", secret));
    assert!(!policy.allows(
        "secretsmanager:GetSecretValue",
        "arn:aws:secretsmanager:us-east-1:1:secret:APP/db"
    ));
    assert!(policy.allows("s3:GetObject", "arn:aws:s3:::public/k"));
    assert!(!policy.allows("s3:GetObject", "arn:aws:s3:::private/k"));
    assert!(policy.statements[0].covers_resource(secret));
}

#[test]
fn admin_detection() {
    let admin = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    assert!(parse(admin).allows_all_actions());
    assert!(
        parse(r#"{"Statement":{"Effect":"Allow","Action":["s3:*","*"],"Resource":["*"]}}"#)
            .allows_all_actions()
    );
    assert!(
        parse(r#"{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}"#)
            .allows_all_actions()
    );
    for not_admin in [
        r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#,
        r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
        r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b"}}"#,
        r#"{"Statement":{"Effect":"Allow","Action":"*"}}"#,
        r#"{"Statement":{"Effect":"Allow","Action":"?","Resource":"?"}}"#,
        r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":true}}}}"#,
    ] {
        assert!(!parse(not_admin).allows_all_actions(), "{not_admin}");
    }
}

#[test]
fn anyone_detection() {
    for open in [
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}"#,
        r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}}"#,
        r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:root","*"]},"Action":"sts:AssumeRole"}}"#,
    ] {
        assert!(parse(open).allows_anyone(), "{open}");
    }
    for closed in [
        r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"}}"#,
        r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"sts:AssumeRole"}}"#,
        r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"*"},"Action":"sts:AssumeRole"}}"#,
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}}"#,
    ] {
        assert!(!parse(closed).allows_anyone(), "{closed}");
    }
}

#[test]
fn trust_principals_carry_conditions_and_skip_non_assume_statements() {
    let policy = parse(
        r#"{"Statement":[
            {"Sid":"Tag","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::9:root"},"Action":"sts:TagSession"},
            {"Sid":"X","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::9:root"},"Action":["sts:AssumeRole","sts:TagSession"],
             "Condition":{"StringEquals":{"sts:ExternalId":"abc"}}},
            {"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:*"},
            {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::8:root"},"Action":"sts:AssumeRole"}]}"#,
    );
    let trusted = policy.trust_principals();
    assert_eq!(trusted.len(), 2);
    assert_eq!(trusted[0].sid, Some("X"));
    assert_eq!(trusted[0].value, "arn:aws:iam::9:root");
    assert!(trusted[0].condition.is_pinned("sts:externalid"));
    assert_eq!(trusted[1].kind, &PrincipalKind::Service);
    assert!(trusted[1].condition.is_empty());
}

#[test]
fn irsa_wildcard_sub() {
    let policy = parse(&irsa_trust(&format!(
        r#"{{"StringLike":{{"{HOST}:sub":"system:serviceaccount:*:*"}},
             "StringEquals":{{"{HOST}:aud":"sts.amazonaws.com"}}}}"#
    )));
    let trusts = policy.oidc_trust(HOST);
    assert_eq!(trusts.len(), 1);
    assert_eq!(
        trusts[0].provider_arn,
        format!("arn:aws:iam::111122223333:oidc-provider/{HOST}")
    );
    assert_eq!(
        trusts[0].sub,
        KeyConstraint::Wildcard(strings(&["system:serviceaccount:*:*"]))
    );
    assert_eq!(
        trusts[0].aud,
        KeyConstraint::Pinned(strings(&["sts.amazonaws.com"]))
    );
    // The issuer URL form and a different case find the same trust.
    assert_eq!(
        policy.oidc_trust(&format!("https://{}", HOST.to_uppercase())),
        trusts
    );
    assert!(policy
        .oidc_trust("oidc.eks.us-east-1.amazonaws.com/id/OTHER")
        .is_empty());
    assert_eq!(policy.federated_oidc_hosts(), vec![HOST]);
}

#[test]
fn irsa_pinned_sub_and_wrong_aud() {
    let policy = parse(&irsa_trust(&format!(
        r#"{{"StringEquals":{{"{HOST}:sub":["system:serviceaccount:prod:app"],"{HOST}:aud":"sts.example.com"}}}}"#
    )));
    let trusts = policy.oidc_trust(HOST);
    assert_eq!(trusts.len(), 1);
    assert_eq!(
        trusts[0].sub,
        KeyConstraint::Pinned(strings(&["system:serviceaccount:prod:app"]))
    );
    let KeyConstraint::Pinned(aud) = &trusts[0].aud else {
        panic!("aud should be pinned: {:?}", trusts[0].aud);
    };
    assert!(!aud.iter().any(|a| a == "sts.amazonaws.com"));
}

#[test]
fn irsa_without_conditions_is_unconstrained() {
    let policy = parse(&irsa_trust("{}"));
    let trusts = policy.oidc_trust(HOST);
    assert_eq!(trusts.len(), 1);
    assert_eq!(trusts[0].sub, KeyConstraint::Unconstrained);
    assert_eq!(trusts[0].aud, KeyConstraint::Unconstrained);

    // StringLike with no wildcard pins; keys compare case-insensitively.
    let policy = parse(&irsa_trust(&format!(
        r#"{{"StringLike":{{"{}:SUB":"system:serviceaccount:a:b"}}}}"#,
        HOST.to_uppercase()
    )));
    assert_eq!(
        policy.oidc_trust(HOST)[0].sub,
        KeyConstraint::Pinned(strings(&["system:serviceaccount:a:b"]))
    );
}

#[test]
fn irsa_ignores_statements_without_web_identity() {
    let policy = parse(&format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::1:oidc-provider/{HOST}"}},
        "Action":"sts:AssumeRole"}},
        {{"Effect":"Deny","Principal":{{"Federated":"arn:aws:iam::1:oidc-provider/{HOST}"}},
        "Action":"sts:AssumeRoleWithWebIdentity"}}]}}"#
    ));
    assert!(policy.oidc_trust(HOST).is_empty());
}

#[test]
fn errors_name_the_problem() {
    let cases = [
        ("", "empty"),
        ("   ", "empty"),
        ("not json", "not valid JSON"),
        ("[1,2]", "must be a JSON object"),
        (r#"{"Version":"2012-10-17"}"#, "no Statement"),
        (
            r#"{"Statement":"x"}"#,
            "Statement must be an object or a list",
        ),
        (r#"{"Statement":[1]}"#, "Statement[0] must be an object"),
        (
            r#"{"Version":1,"Statement":[]}"#,
            "Version must be a string",
        ),
        (
            r#"{"Statement":[{"Action":"*"}]}"#,
            "Statement[0] has no Effect",
        ),
        (r#"{"Statement":[{"Effect":"Permit"}]}"#, "\"Permit\""),
        (
            r#"{"Statement":[{"Effect":true}]}"#,
            "Effect must be a string",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":5}]}"#,
            "Statement[0].Action must be a string or a list of strings, got a number",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Resource":["a",null]}]}"#,
            "Resource[1]",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"*","NotAction":"*"}]}"#,
            "both Action and NotAction",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"arn:x"}]}"#,
            "Principal must be",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":["*"]}]}"#,
            "Principal must be",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":1}}]}"#,
            "Principal.AWS",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","NotPrincipal":"*"}]}"#,
            "both Principal and NotPrincipal",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Condition":[]}]}"#,
            "Condition must be an object",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Condition":{"Bool":true}}]}"#,
            "Condition.Bool must be an object",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Condition":{"Bool":{"k":null}}}]}"#,
            "Condition.Bool.k must be a string, boolean or number",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Condition":{"Bool":{"k":[{}]}}}]}"#,
            "Condition.Bool.k[0]",
        ),
        ("%FF", "not valid UTF-8"),
    ];
    for (text, expected) in cases {
        let message = parse_err(text);
        assert!(
            message.contains(expected),
            "{text}: {message:?} should mention {expected:?}"
        );
    }
}
