//! The HTML report: self-contained, one card per finding, a diagram for every finding with
//! evidence, and the diagrams of the core checks as snapshots (the browser test in
//! tests/e2e/test_browser.py opens the page itself).

use awsaudit::render::html::diagram::evidence_svg;
use checks::Finding;
use serde_json::Value;

use crate::support::{audit, replay_json, stderr};

fn html_of(scenario: &str, extra: &[&str]) -> (Value, String) {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--replay",
        scenario,
        "--format",
        "json,html",
        "--output-dir",
        dir.path().to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = audit(&args, home.path());
    assert!(matches!(o.status.code(), Some(0 | 3)), "{}", stderr(&o));
    let read = |n: &str| std::fs::read_to_string(dir.path().join(n)).unwrap();
    (
        serde_json::from_str(&read("report.json")).unwrap(),
        read("report.html"),
    )
}

/// The markup of the card of the finding with this fingerprint.
fn card<'h>(html: &'h str, fingerprint: &str) -> &'h str {
    let start = html
        .find(&format!("id=\"f-{fingerprint}\""))
        .unwrap_or_else(|| panic!("no card for {fingerprint}"));
    let end = html[start..].find("</article>").unwrap();
    &html[start..start + end]
}

#[test]
fn the_page_is_self_contained_and_has_a_card_and_a_diagram_per_finding() {
    let (report, html) = html_of("mocks/demo", &[]);
    assert!(html.starts_with("<!DOCTYPE html><html lang=\"en\">"));
    // Nothing may be fetched: the policy forbids it, and nothing asks.
    assert!(html.contains("default-src 'none'"));
    for needle in [
        "<link",
        " src=",
        "url(http",
        "@import",
        "fetch(",
        "XMLHttpRequest",
    ] {
        assert!(!html.contains(needle), "the page holds `{needle}`");
    }
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(
        html.matches("data-kind=\"open\"").count(),
        findings.len(),
        "one card per finding"
    );
    for f in findings {
        let fp = f["fingerprint"].as_str().unwrap();
        let c = card(&html, fp);
        assert!(c.contains(f["check"].as_str().unwrap()));
        let has_evidence = !f["evidence"].as_array().unwrap().is_empty();
        assert_eq!(c.contains("<svg class=\"diagram\""), has_evidence, "{fp}");
        assert!(c.contains(&format!("<code class=\"fp\">{fp}</code>")));
    }
    // The landing view: totals as in the JSON, and the grid tells clean from not evaluated.
    let total = report["summary"]["findings"].as_u64().unwrap();
    assert!(html.contains(&format!(
        "<span class=\"n\" id=\"total-findings\">{total}</span>"
    )));
    assert!(html.contains("class=\"cell clean\""));
    assert!(
        html.contains("class=\"cell undecided\""),
        "demo has an ELB unknown"
    );
    // The run's metadata.
    assert!(html.contains("<dd>replay</dd>"));
    assert!(html.contains(&format!("{} (", report["stats"]["calls"])));
}

#[test]
fn suppressed_and_baseline_findings_get_cards_of_their_own_kind() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(
        &file,
        "[[suppress]]\ncheck = \"IAM001\"\nreason = \"vendor access reviewed\"\n",
    )
    .unwrap();
    let (report, html) = html_of("mocks/demo", &["--suppressions", file.to_str().unwrap()]);
    let suppressed = report["suppressions"]["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(html.matches("data-kind=\"suppressed\"").count(), 1);
    assert!(html.contains("Suppressed: vendor access reviewed"));
    assert_eq!(
        html.matches("data-kind=\"open\"").count(),
        report["findings"].as_array().unwrap().len()
    );
}

#[test]
fn account_text_is_escaped_in_the_page() {
    let (_, html) = html_of("mocks/demo", &[]);
    // Every `<` in the page opens markup the renderer wrote: none comes from a name.
    let script = html.find("<script>").unwrap();
    for (i, _) in html[..script].match_indices('<') {
        let next = html[i + 1..].chars().next().unwrap();
        assert!(
            next.is_ascii_alphabetic() || next == '/' || next == '!',
            "stray `<` at {i}"
        );
    }
}

/// Breaks the SVG at tags so a snapshot diff shows what moved.
fn pretty(svg: &str) -> String {
    svg.replace("><", ">\n<")
}

#[test]
fn evidence_diagrams_of_the_core_checks() {
    let cases: [(&str, &[&str]); 6] = [
        (
            "demo",
            &[
                "ECS001", "ECS003", "ECS010", "EKS001", "EKS005", "EKS006", "ELB001", "ELB002",
                "ELB004", "IAM001", "VPC001", "VPC002", "VPC003", "VPC004",
            ],
        ),
        ("ecr-images", &["ECR005", "ECR006", "ECR007"]),
        ("ecs-secrets", &["ECS024", "ECS025"]),
        ("elb-traffic", &["ELB005", "ELB006"]),
        ("vpc-control-plane", &["VPC007", "VPC008", "VPC009"]),
        ("vpc-paths", &["VPC005", "VPC006"]),
    ];
    for (scenario, codes) in cases {
        let report = replay_json(scenario);
        let findings: Vec<Finding> =
            serde_json::from_value(report["findings"].clone()).expect("findings parse");
        for code in codes {
            let f = findings
                .iter()
                .find(|f| f.check == *code)
                .unwrap_or_else(|| panic!("{scenario} has no {code} finding"));
            let svg = evidence_svg(f).expect("evidence to draw").into_string();
            insta::assert_snapshot!(format!("svg_{code}"), pretty(&svg));
        }
    }
}
