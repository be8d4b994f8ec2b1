//! A finding's evidence drawn as SVG: one node per resource the evidence names, in the
//! order the check followed them, edges labelled with how the two kinds of resource relate,
//! and what the evidence says is missing drawn as missing (dashed, red).
//!
//! The layout is layered top to bottom: the finding's resource first, each resource the
//! evidence reaches one layer below the one it was reached from. Evidence chains are trees
//! (a workload, its subnets, their route table, the VPC), so layers never cross.

use maud::{html, Markup, PreEscaped};

use checks::Finding;

/// Node size and gaps, in SVG user units (1 unit = 1 CSS pixel at full width).
const W: i32 = 200;
const H: i32 = 46;
const GAP_X: i32 = 28;
const GAP_Y: i32 = 58;
const MARGIN: i32 = 8;
/// The most nodes drawn; the rest are counted in a last node. Evidence of one problem is
/// rarely longer, and a diagram of 40 boxes proves nothing at a glance.
const MAX_NODES: usize = 12;
/// Characters of a resource name shown in its box (the full ARN is in the tooltip).
const NAME_CHARS: usize = 24;

/// The family of a resource: decides its shape and colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    /// ECS and EKS workloads and clusters.
    Compute,
    /// VPCs, subnets, route tables, endpoints, security groups, instances.
    Network,
    /// Load balancers, listeners, target groups.
    Traffic,
    /// IAM roles, policies, OIDC providers.
    Identity,
    /// ECR repositories, secrets, parameters, keys.
    Data,
    Other,
}

impl Family {
    fn class(self) -> &'static str {
        match self {
            Family::Compute => "k-compute",
            Family::Network => "k-network",
            Family::Traffic => "k-traffic",
            Family::Identity => "k-identity",
            Family::Data => "k-data",
            Family::Other => "k-other",
        }
    }

    /// The shape, an id of the page's sprite (see [`sprite`]).
    fn shape(self) -> &'static str {
        match self {
            Family::Compute => "#s-box",
            Family::Network => "#s-cut",
            Family::Traffic => "#s-pill",
            Family::Identity => "#s-hex",
            Family::Data => "#s-can",
            Family::Other => "#s-box",
        }
    }
}

/// What kind of resource an ARN or id names: (label, family).
pub(super) fn kind_of(resource: &str) -> (&'static str, Family) {
    use Family::*;
    if let Some(rest) = resource.strip_prefix("arn:") {
        // arn:partition:service:region:account:resource
        let mut parts = rest.splitn(5, ':');
        let _partition = parts.next();
        let service = parts.next().unwrap_or("");
        let res = parts.nth(2).unwrap_or("");
        let has = |p: &str| res.starts_with(p);
        return match service {
            "ecs" if has("service/") => ("ECS service", Compute),
            "ecs" if has("task-definition/") => ("task definition", Compute),
            "ecs" if has("cluster/") => ("ECS cluster", Compute),
            "ecs" if has("task-set/") => ("task set", Compute),
            "ecs" if has("task/") => ("ECS task", Compute),
            "ecs" if has("container-instance/") => ("container instance", Compute),
            "ecs" if has("capacity-provider/") => ("capacity provider", Compute),
            "ecs" => ("ECS resource", Compute),
            "eks" if has("cluster/") => ("EKS cluster", Compute),
            "eks" if has("nodegroup/") => ("nodegroup", Compute),
            "eks" if has("fargateprofile/") => ("Fargate profile", Compute),
            "eks" if has("addon/") => ("EKS add-on", Compute),
            "eks" => ("EKS resource", Compute),
            "elasticloadbalancing" if has("targetgroup/") => ("target group", Traffic),
            "elasticloadbalancing" if has("listener-rule/") => ("listener rule", Traffic),
            "elasticloadbalancing" if has("listener/") => ("listener", Traffic),
            "elasticloadbalancing" if has("loadbalancer/") => ("load balancer", Traffic),
            "elasticloadbalancing" => ("ELB resource", Traffic),
            "ec2" => (ec2_kind(res.rsplit('/').next().unwrap_or(res)), Network),
            "iam" if has("role/") => ("IAM role", Identity),
            "iam" if has("policy/") => ("IAM policy", Identity),
            "iam" if has("oidc-provider/") => ("OIDC provider", Identity),
            "iam" => ("IAM resource", Identity),
            "ecr" => ("ECR repository", Data),
            "secretsmanager" => ("secret", Data),
            "ssm" => ("SSM parameter", Data),
            "kms" => ("KMS key", Data),
            "scheduler" => ("schedule", Compute),
            "events" => ("EventBridge rule", Compute),
            "autoscaling" => ("Auto Scaling group", Compute),
            "logs" => ("log group", Data),
            "s3" => ("S3 bucket", Data),
            _ => ("resource", Other),
        };
    }
    // Bare ids (`subnet-…`) and registry references (`123….dkr.ecr….amazonaws.com/repo`).
    if resource.contains(".dkr.ecr.") {
        return ("ECR image", Data);
    }
    let label = ec2_kind(resource);
    if label == "EC2 resource" {
        ("resource", Other)
    } else {
        (label, Network)
    }
}

/// The kind of an EC2 resource, from its id's prefix.
fn ec2_kind(id: &str) -> &'static str {
    const PREFIXES: [(&str, &str); 11] = [
        ("subnet-", "subnet"),
        ("vpc-", "VPC"),
        ("rtb-", "route table"),
        ("sg-", "security group"),
        ("vpce-", "VPC endpoint"),
        ("i-", "EC2 instance"),
        ("nat-", "NAT gateway"),
        ("igw-", "internet gateway"),
        ("pl-", "prefix list"),
        ("lt-", "launch template"),
        ("eni-", "network interface"),
    ];
    PREFIXES
        .iter()
        .find(|(p, _)| id.starts_with(p))
        .map_or("EC2 resource", |(_, label)| label)
}

/// How a resource of kind `from` relates to one of kind `to` reached from it: the graph's
/// edges, named as the evidence reads them.
fn relation(from: &str, to: &str) -> &'static str {
    match (from, to) {
        ("ECS service" | "task set" | "schedule" | "EventBridge rule", "task definition") => "runs",
        ("ECS task", "task definition") => "runs",
        ("ECS service" | "task set" | "ECS task", "subnet") => "runs in",
        ("ECS service" | "task set", "target group") => "registers in",
        ("ECS service" | "task set" | "ECS task", "ECS cluster") => "in cluster",
        ("ECS service" | "task set" | "ECS task", "security group") => "uses",
        ("ECS service" | "task set" | "ECS task" | "task definition", "IAM role") => "assumes",
        ("ECS service", "task set") => "deploys",
        ("ECS cluster", "ECS service") => "runs",
        ("ECS cluster", "container instance" | "capacity provider") => "has",
        ("container instance" | "EC2 instance", "subnet") => "in",
        ("task definition", "ECR repository" | "ECR image") => "pulls",
        ("task definition", "secret" | "SSM parameter") => "injects",
        ("task definition", "log group") => "logs to",
        ("secret" | "SSM parameter", "KMS key") => "encrypted by",
        ("ECR repository", "IAM role") => "lets pull",
        (
            "ECR repository" | "ECR image",
            "ECS service" | "task set" | "ECS task" | "task definition",
        ) => "pulled by",
        (
            "secret" | "SSM parameter",
            "ECS service" | "task set" | "ECS task" | "task definition",
        ) => "injected into",
        ("KMS key", "secret" | "SSM parameter") => "encrypts",
        ("IAM role", "ECR repository") => "pulls from",
        ("subnet", "route table") => "routes via",
        ("subnet", "VPC") | ("route table", "VPC") => "in",
        ("route table", "VPC endpoint" | "NAT gateway" | "internet gateway") => "routes to",
        ("VPC", "VPC endpoint") => "has",
        ("VPC endpoint", "security group") | ("subnet", "security group") => "uses",
        ("security group", "security group") => "allows",
        ("listener rule" | "listener", "target group") => "forwards to",
        ("load balancer", "listener" | "listener rule") => "listens",
        ("target group", "load balancer" | "listener" | "listener rule") => "behind",
        ("target group", "ECS service" | "task set") => "receives from",
        ("target group", "EC2 instance" | "ECS task") => "targets",
        ("load balancer", "security group") => "uses",
        ("EKS cluster", "nodegroup" | "Fargate profile" | "EKS add-on") => "has",
        ("nodegroup" | "Fargate profile", "EKS cluster") => "of",
        ("nodegroup" | "Fargate profile", "subnet") => "runs in",
        ("EKS cluster", "subnet" | "security group") => "uses",
        ("EKS cluster" | "nodegroup" | "Fargate profile", "IAM role") => "assumes",
        ("IAM role", "EKS cluster") => "trusts issuer of",
        ("IAM role", "OIDC provider") => "trusts",
        ("EKS cluster", "OIDC provider") => "issues for",
        ("IAM role", "ECS service" | "task set" | "ECS task" | "task definition") => "assumed by",
        ("IAM role", "IAM policy") => "has policy",
        ("Auto Scaling group", "EC2 instance") => "launches",
        _ => UNRELATED,
    }
}

/// The label of an edge between kinds the graph does not relate directly.
const UNRELATED: &str = "leads to";

struct Node {
    resource: String,
    label: &'static str,
    family: Family,
    /// Drawn as missing: the piece the fix adds.
    missing: bool,
    depth: i32,
}

struct Edge {
    from: usize,
    to: usize,
    label: &'static str,
    missing: bool,
}

/// The nodes and edges of a finding's evidence, in the order the evidence names them.
struct Layout {
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    /// Resources left out past [`MAX_NODES`].
    more: usize,
}

impl Layout {
    fn of(f: &Finding) -> Layout {
        let (label, family) = kind_of(&f.resource);
        let mut l = Layout {
            nodes: vec![Node {
                resource: f.resource.clone(),
                label,
                family,
                missing: false,
                depth: 0,
            }],
            edges: Vec::new(),
            more: 0,
        };
        // Each fact hangs off the resource it is about; a resource not seen yet is reached
        // from the one the previous fact was about (the check's path through the graph).
        let mut current = 0;
        for e in &f.evidence {
            let at = match l.nodes.iter().position(|n| n.resource == e.resource) {
                Some(i) => i,
                None if l.nodes.len() >= MAX_NODES => {
                    l.more += 1;
                    continue;
                }
                None => {
                    let (label, family) = kind_of(&e.resource);
                    // Reached from the latest resource the graph relates its kind to (a
                    // task definition from its service, not from the route table named
                    // just before it); else from the one the previous fact was about.
                    let parent = std::iter::once(current)
                        .chain((0..l.nodes.len()).rev())
                        .find(|&i| relation(l.nodes[i].label, label) != UNRELATED)
                        .unwrap_or(current);
                    let from = &l.nodes[parent];
                    let relation = relation(from.label, label);
                    l.nodes.push(Node {
                        resource: e.resource.clone(),
                        label,
                        family,
                        missing: false,
                        depth: from.depth + 1,
                    });
                    let to = l.nodes.len() - 1;
                    l.edges.push(Edge {
                        from: parent,
                        to,
                        label: relation,
                        missing: false,
                    });
                    to
                }
            };
            current = at;
            if let Some(piece) = &e.missing {
                l.nodes.push(Node {
                    resource: piece.clone(),
                    label: "missing",
                    family: Family::Other,
                    missing: true,
                    depth: l.nodes[at].depth + 1,
                });
                l.edges.push(Edge {
                    from: at,
                    to: l.nodes.len() - 1,
                    label: "needs",
                    missing: true,
                });
            }
        }
        l
    }

    /// Top-left corner of every node, and the drawing's width and height.
    fn positions(&self) -> (Vec<(i32, i32)>, i32, i32) {
        let depth = self.nodes.iter().map(|n| n.depth).max().unwrap_or(0) + 1;
        let mut layers: Vec<Vec<usize>> = vec![Vec::new(); depth as usize];
        for (i, n) in self.nodes.iter().enumerate() {
            layers[n.depth as usize].push(i);
        }
        let widest = layers.iter().map(Vec::len).max().unwrap_or(1) as i32;
        let width = widest * W + (widest - 1) * GAP_X + 2 * MARGIN;
        let height = depth * H + (depth - 1) * GAP_Y + 2 * MARGIN;
        let mut pos = vec![(0, 0); self.nodes.len()];
        for (d, layer) in layers.iter().enumerate() {
            let n = layer.len() as i32;
            let row = n * W + (n - 1) * GAP_X;
            let x0 = (width - row) / 2;
            for (k, &i) in layer.iter().enumerate() {
                pos[i] = (x0 + k as i32 * (W + GAP_X), MARGIN + d as i32 * (H + GAP_Y));
            }
        }
        (pos, width, height)
    }
}

/// The last part of an ARN or id, short enough for a box.
fn short_name(resource: &str) -> String {
    // An ARN's resource part (`service/cluster/name`, `task-definition/family:3`,
    // `secret:name-AbCdEf`): its last path segment, else what follows its type.
    let part = match resource.strip_prefix("arn:") {
        Some(rest) => rest.splitn(5, ':').nth(4).unwrap_or(rest),
        None => resource,
    };
    let name = match part.rsplit_once('/') {
        Some((_, last)) if !last.is_empty() => last,
        _ => part.split_once(':').map_or(part, |(_, n)| n),
    };
    // Load balancer, listener and target group ARNs end in ids: show the names instead.
    if resource.contains(":elasticloadbalancing:") {
        let parts: Vec<&str> = resource.split('/').collect();
        let at = |i: usize| parts.get(i).copied().unwrap_or(name);
        let shown = if resource.contains(":targetgroup/") {
            at(1).to_string()
        } else if resource.contains(":listener-rule/") || resource.contains(":listener/") {
            format!(
                "{} {}",
                at(2),
                if resource.contains(":listener/") {
                    "listener"
                } else {
                    "rule"
                }
            )
        } else {
            at(2).to_string()
        };
        return truncate(&shown, NAME_CHARS);
    }
    truncate(name, NAME_CHARS)
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// The evidence diagram of a finding, or `None` when it has no evidence to draw.
pub fn evidence_svg(f: &Finding) -> Option<Markup> {
    if f.evidence.is_empty() {
        return None;
    }
    let layout = Layout::of(f);
    let (pos, width, mut height) = layout.positions();
    if layout.more > 0 {
        height += 18;
    }
    let missing: Vec<&str> = layout
        .nodes
        .iter()
        .filter(|n| n.missing)
        .map(|n| n.resource.as_str())
        .collect();
    let mut aria = format!(
        "Evidence of {}: {} resources",
        f.check,
        layout.nodes.iter().filter(|n| !n.missing).count()
    );
    if !missing.is_empty() {
        aria.push_str(&format!("; missing: {}", missing.join(", ")));
    }
    Some(html! {
        svg.diagram xmlns="http://www.w3.org/2000/svg" role="img" aria-label=(aria)
            viewBox=(format!("0 0 {width} {height}")) width=(width) height=(height) {
            @for e in &layout.edges {
                @let (fx, fy) = pos[e.from];
                @let (tx, ty) = pos[e.to];
                @let (x1, y1, x2, y2) = (fx + W / 2, fy + H, tx + W / 2, ty);
                @let mid = (y1 + y2) / 2;
                g class=(if e.missing { "e missing" } else { "e" }) {
                    path d=(format!("M{x1} {y1}C{x1} {mid} {x2} {mid} {x2} {}", y2 - 2)) {}
                    text x=((x1 + x2) / 2 + 6) y=(mid + 4) { (e.label) }
                }
            }
            @for (i, n) in layout.nodes.iter().enumerate() {
                @let (x, y) = pos[i];
                @if n.missing {
                    g.n.missing transform=(format!("translate({x} {y})")) {
                        title { "missing: " (n.resource) }
                        rect width=(W) height=(H) rx="6" {}
                        text.kind x="10" y="17" { "missing" }
                        text.name x="10" y="35" { (truncate(&n.resource, NAME_CHARS + 2)) }
                    }
                } @else {
                    g class=(format!("n {}", n.family.class())) transform=(format!("translate({x} {y})")) {
                        // The facts are in the evidence list beside the drawing.
                        title { (n.resource) }
                        use href=(n.family.shape()) width=(W) height=(H) {}
                        text.kind x="12" y="17" { (n.label) }
                        text.name x="12" y="35" { (short_name(&n.resource)) }
                    }
                }
            }
            @if layout.more > 0 {
                text.more x=(MARGIN) y=(height - 4) {
                    "+" (layout.more) " more resources in the evidence list"
                }
            }
        }
    })
}

/// The shapes nodes are drawn with, once per page: one per [`Family`].
pub fn sprite() -> Markup {
    // Each shape fills the node's W×H box.
    let (w, h) = (W, H);
    html! {
        svg.sprite xmlns="http://www.w3.org/2000/svg" width="0" height="0" aria-hidden="true" {
            defs {
                marker id="m-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto" {
                    path d="M0 0L8 4L0 8Z" {}
                }
                marker id="m-miss" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto" {
                    path d="M0 0L8 4L0 8Z" {}
                }
                symbol id="s-box" viewBox=(format!("0 0 {w} {h}")) {
                    rect x="1" y="1" width=(w - 2) height=(h - 2) rx="6" {}
                }
                symbol id="s-cut" viewBox=(format!("0 0 {w} {h}")) {
                    path d=(PreEscaped(format!("M11 1H{}L{} 11V{}L{} {}H11L1 {}V11Z", w - 11, w - 1, h - 11, w - 11, h - 1, h - 11))) {}
                }
                symbol id="s-pill" viewBox=(format!("0 0 {w} {h}")) {
                    rect x="1" y="1" width=(w - 2) height=(h - 2) rx=((h - 2) / 2) {}
                }
                symbol id="s-hex" viewBox=(format!("0 0 {w} {h}")) {
                    path d=(PreEscaped(format!("M1 {}L12 1H{}L{} {}L{} {}H12Z", h / 2, w - 12, w - 1, h / 2, w - 12, h - 1))) {}
                }
                symbol id="s-can" viewBox=(format!("0 0 {w} {h}")) {
                    path d=(PreEscaped(format!("M1 7C1 2 {} 2 {} 7V{}C{} {} 1 {} 1 {}Z", w - 1, w - 1, h - 7, w - 1, h + 2, h + 2, h - 7))) {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checks::{Evidence, Severity};

    fn finding(resource: &str, evidence: Vec<Evidence>) -> Finding {
        Finding {
            check: "VPC002".into(),
            name: "n".into(),
            severity: Severity::High,
            account: "123456789012".into(),
            region: "us-east-1".into(),
            resource: resource.into(),
            message: "m".into(),
            remediation: "r".into(),
            evidence,
            fingerprint: "0".repeat(32),
            change: None,
            cost: None,
            owner: None,
        }
    }

    const SVC: &str = "arn:aws:ecs:us-east-1:123456789012:service/shop/web";
    const SUB_A: &str = "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-a";
    const SUB_B: &str = "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-b";
    const RTB: &str = "arn:aws:ec2:us-east-1:123456789012:route-table/rtb-1";

    #[test]
    fn kinds_come_from_arns_and_ids() {
        assert_eq!(kind_of(SVC).0, "ECS service");
        assert_eq!(kind_of(SUB_A), ("subnet", Family::Network));
        assert_eq!(kind_of(RTB).0, "route table");
        assert_eq!(kind_of("subnet-0abc").0, "subnet");
        assert_eq!(kind_of("vpc-1").0, "VPC");
        assert_eq!(
            kind_of("arn:aws:ec2:us-east-1:1:vpc-endpoint/vpce-1").0,
            "VPC endpoint"
        );
        assert_eq!(
            kind_of("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/abc").0,
            "target group"
        );
        assert_eq!(
            kind_of("arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/lb/1/2/3").0,
            "listener rule"
        );
        assert_eq!(kind_of("arn:aws:iam::1:role/x").1, Family::Identity);
        assert_eq!(kind_of("what-is-this").0, "resource");
        assert_eq!(
            short_name("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/abc"),
            "web"
        );
        assert_eq!(
            short_name("arn:aws:ecs:us-east-1:1:task-definition/web:3"),
            "web:3"
        );
        assert_eq!(
            short_name("arn:aws:secretsmanager:us-east-1:1:secret:db-AbCdEf"),
            "db-AbCdEf"
        );
        assert_eq!(short_name("arn:aws:iam::1:role/ecs/web-task"), "web-task");
        assert_eq!(short_name("subnet-1"), "subnet-1");
    }

    #[test]
    fn a_resource_seen_again_is_one_node_and_the_chain_resumes_from_it() {
        let f = finding(
            SVC,
            vec![
                Evidence::new(SVC, "runs tasks in subnet-a"),
                Evidence::new(SUB_A, "uses rtb-1"),
                Evidence::new(SVC, "runs tasks in subnet-b"),
                Evidence::new(SUB_B, "uses rtb-1"),
                Evidence::new(RTB, "only local routes").lacking("S3 gateway endpoint"),
            ],
        );
        let l = Layout::of(&f);
        let names: Vec<&str> = l.nodes.iter().map(|n| n.resource.as_str()).collect();
        assert_eq!(names, [SVC, SUB_A, SUB_B, RTB, "S3 gateway endpoint"]);
        let edges: Vec<(usize, usize, &str, bool)> = l
            .edges
            .iter()
            .map(|e| (e.from, e.to, e.label, e.missing))
            .collect();
        assert_eq!(
            edges,
            [
                (0, 1, "runs in", false),
                (0, 2, "runs in", false),
                (2, 3, "routes via", false),
                (3, 4, "needs", true),
            ]
        );
        let depths: Vec<i32> = l.nodes.iter().map(|n| n.depth).collect();
        assert_eq!(depths, [0, 1, 1, 2, 3]);
    }

    #[test]
    fn a_resource_hangs_off_the_latest_one_its_kind_relates_to() {
        let td = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1";
        let vpc = "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1";
        let f = finding(
            SVC,
            vec![
                Evidence::new(SVC, "runs in subnet-a"),
                Evidence::new(SUB_A, "uses rtb-1"),
                Evidence::new(RTB, "only local routes"),
                Evidence::new(td, "awslogs"),
                Evidence::new(vpc, "no logs endpoint"),
            ],
        );
        let l = Layout::of(&f);
        let edges: Vec<(usize, usize, &str)> =
            l.edges.iter().map(|e| (e.from, e.to, e.label)).collect();
        assert_eq!(
            edges,
            [
                (0, 1, "runs in"),
                (1, 2, "routes via"),
                (0, 3, "runs"),
                (2, 4, "in")
            ]
        );
    }

    #[test]
    fn layers_do_not_overlap_and_fit_the_view() {
        let f = finding(
            SVC,
            vec![
                Evidence::new(SUB_A, "a"),
                Evidence::new(SVC, "b"),
                Evidence::new(SUB_B, "c"),
            ],
        );
        let l = Layout::of(&f);
        let (pos, width, height) = l.positions();
        for (i, a) in pos.iter().enumerate() {
            assert!(a.0 >= 0 && a.0 + W <= width && a.1 >= 0 && a.1 + H <= height);
            for b in &pos[i + 1..] {
                let apart = (a.0 - b.0).abs() >= W + GAP_X || (a.1 - b.1).abs() >= H;
                assert!(apart, "{a:?} overlaps {b:?}");
            }
        }
    }

    #[test]
    fn long_evidence_is_capped_and_counted() {
        let evidence = (0..20)
            .map(|i| Evidence::new(format!("subnet-{i}"), "x"))
            .collect();
        let svg = evidence_svg(&finding(SVC, evidence)).unwrap().into_string();
        assert!(svg.contains("+9 more resources"), "{svg}");
        assert_eq!(svg.matches("<g class=\"n ").count(), MAX_NODES);
    }

    #[test]
    fn text_from_the_account_is_escaped() {
        let f = finding(SVC, vec![Evidence::new("<script>a&b</script>", "x")]);
        let svg = evidence_svg(&f).unwrap().into_string();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;a&amp;b"), "{svg}");
        assert!(evidence_svg(&finding(SVC, vec![])).is_none());
    }
}
