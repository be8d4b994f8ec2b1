//! AWS list prices of what the checks can put a figure on: the EKS control plane (standard
//! and extended support), NAT gateways, interface VPC endpoints and Fargate.
//!
//! The prices are data, not code: `checks/data/aws-prices.json`, dated by its `as_of` and
//! naming its `sources`, loaded once and validated (a date, https sources, every price
//! positive, the extended-support rate above the standard one, the default region listed).
//! A region the table does not list is priced as its `default_region`, and every cost says
//! which region's price it used and how old the table is, so a figure is never presented as
//! more exact than it is.
//!
//! Checks build their [`Cost`] here, so every basis reads the same way:
//! `2 interface endpoints (ecr.api, ecr.dkr) × 2 AZs × $0.01/h × 730 h = $14.60 (us-east-1
//! list price, prices as of 2026-12-03)`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::date::{format_date, parse_date, Date};
use crate::finding::{Cost, CostKind};

/// Where the bundled table lives, as messages asking for an update name it.
pub const PATH: &str = "checks/data/aws-prices.json";

const PRICES_JSON: &str = include_str!("../data/aws-prices.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    as_of: String,
    currency: String,
    hours_per_month: f64,
    sources: Vec<String>,
    #[allow(dead_code)]
    notes: String,
    default_region: String,
    regions: BTreeMap<String, Prices>,
}

/// One region's prices, in US dollars.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    /// An EKS cluster's control plane, per hour, in standard support.
    pub eks_cluster_hour: f64,
    /// An EKS cluster's control plane, per hour, in extended support (the whole rate).
    pub eks_extended_support_cluster_hour: f64,
    pub nat_gateway_hour: f64,
    pub nat_gateway_gb: f64,
    /// One interface VPC endpoint in one Availability Zone, per hour.
    pub interface_endpoint_az_hour: f64,
    /// Data processed by interface endpoints, per GB (the first PB a month).
    pub interface_endpoint_gb: f64,
    /// Fargate (Linux/x86, on demand), per vCPU-hour and per GB-hour of memory.
    pub fargate_vcpu_hour: f64,
    pub fargate_gb_hour: f64,
}

impl Prices {
    /// What extended support adds to a cluster-hour.
    pub fn eks_extended_premium_hour(&self) -> f64 {
        self.eks_extended_support_cluster_hour - self.eks_cluster_hour
    }
}

/// The price table.
#[derive(Debug)]
pub struct PriceTable {
    /// When the prices were last checked against AWS's pricing pages.
    pub as_of: Date,
    /// The pricing pages (https URLs).
    pub sources: Vec<String>,
    /// The billing month, in hours (730).
    pub hours_per_month: f64,
    /// The region whose prices stand in for a region the table does not list.
    pub default_region: String,
    regions: BTreeMap<String, Prices>,
}

/// The prices that apply in a region, and whose they are.
pub struct Priced<'t> {
    pub prices: &'t Prices,
    /// The region asked about.
    pub region: &'t str,
    /// The region whose list prices these are (`region` itself when listed).
    pub priced_as: &'t str,
    table: &'t PriceTable,
}

static BUNDLED: LazyLock<PriceTable> =
    LazyLock::new(|| PriceTable::load(PRICES_JSON).unwrap_or_else(|e| panic!("{PATH}: {e}")));

impl PriceTable {
    /// The table bundled with this build.
    pub fn bundled() -> &'static PriceTable {
        &BUNDLED
    }

    /// Parses and validates a table.
    pub fn load(text: &str) -> Result<PriceTable, String> {
        let raw: RawTable = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let as_of = parse_date(&raw.as_of)
            .filter(|_| raw.as_of.len() == 10)
            .ok_or_else(|| format!("as_of: `{}` is not a YYYY-MM-DD date", raw.as_of))?;
        if raw.currency != "USD" {
            return Err(format!("currency `{}`: prices are in USD", raw.currency));
        }
        if raw.hours_per_month != 730.0 {
            return Err(format!(
                "hours_per_month {}: AWS bills a month as 730 hours",
                raw.hours_per_month
            ));
        }
        if raw.sources.is_empty() {
            return Err("no sources".into());
        }
        if let Some(bad) = raw.sources.iter().find(|s| !s.starts_with("https://")) {
            return Err(format!("source `{bad}` is not an https URL"));
        }
        for (region, p) in &raw.regions {
            let all = [
                ("eks_cluster_hour", p.eks_cluster_hour),
                (
                    "eks_extended_support_cluster_hour",
                    p.eks_extended_support_cluster_hour,
                ),
                ("nat_gateway_hour", p.nat_gateway_hour),
                ("nat_gateway_gb", p.nat_gateway_gb),
                ("interface_endpoint_az_hour", p.interface_endpoint_az_hour),
                ("interface_endpoint_gb", p.interface_endpoint_gb),
                ("fargate_vcpu_hour", p.fargate_vcpu_hour),
                ("fargate_gb_hour", p.fargate_gb_hour),
            ];
            if let Some((name, v)) = all.iter().find(|(_, v)| !(v.is_finite() && *v > 0.0)) {
                return Err(format!("{region}: {name} {v} is not a positive price"));
            }
            if p.eks_extended_support_cluster_hour <= p.eks_cluster_hour {
                return Err(format!(
                    "{region}: the extended-support rate is the whole cluster-hour price and must exceed the standard one"
                ));
            }
        }
        if !raw.regions.contains_key(&raw.default_region) {
            return Err(format!(
                "default_region `{}` is not listed",
                raw.default_region
            ));
        }
        Ok(PriceTable {
            as_of,
            sources: raw.sources,
            hours_per_month: raw.hours_per_month,
            default_region: raw.default_region,
            regions: raw.regions,
        })
    }

    /// The prices of `region`, or of the default region when it is not listed.
    pub fn region<'t>(&'t self, region: &'t str) -> Priced<'t> {
        let (priced_as, prices) = match self.regions.get_key_value(region) {
            Some((k, p)) => (k.as_str(), p),
            None => (
                self.default_region.as_str(),
                &self.regions[&self.default_region],
            ),
        };
        Priced {
            prices,
            region,
            priced_as,
            table: self,
        }
    }

    /// US dollars a month for `usd_per_hour`, rounded to the cent.
    pub fn monthly(&self, usd_per_hour: f64) -> f64 {
        cents(usd_per_hour * self.hours_per_month)
    }
}

impl Priced<'_> {
    /// `us-east-1 list price, prices as of 2026-12-03`, or, for a region the table does
    /// not list, `eu-west-1 priced at the us-east-1 list price, prices as of 2026-12-03`.
    pub fn label(&self) -> String {
        let date = format_date(self.table.as_of);
        if self.region == self.priced_as {
            format!("{} list price, prices as of {date}", self.priced_as)
        } else {
            format!(
                "{} priced at the {} list price, prices as of {date}",
                self.region, self.priced_as
            )
        }
    }

    fn hours(&self) -> String {
        format!("{} h", self.table.hours_per_month)
    }

    /// A monthly cost of `usd_per_hour`, with `quantities` (what is counted, ending in
    /// `× $RATE/h`) as the start of its basis and `tail` appended after the price label.
    fn cost(&self, kind: CostKind, usd_per_hour: f64, quantities: &str, tail: &str) -> Cost {
        let monthly_usd = self.table.monthly(usd_per_hour);
        Cost {
            monthly_usd,
            kind,
            basis: format!(
                "{quantities} × {} = {} ({}){tail}",
                self.hours(),
                usd(monthly_usd),
                self.label()
            ),
        }
    }

    /// What the interface endpoints `services` (short names: `ecr.api`, `logs`) cost a month
    /// in `azs` Availability Zones: the fix a private subnet needs. `None` when nothing is
    /// added. Data processing is left out (it depends on traffic) and the basis says so.
    pub fn interface_endpoints(&self, services: &[&str], azs: usize) -> Option<Cost> {
        if services.is_empty() || azs == 0 {
            return None;
        }
        let rate = self.prices.interface_endpoint_az_hour;
        let n = services.len();
        let quantities = format!(
            "{n} interface endpoint{} ({}) × {azs} AZ{} × {}/h",
            plural(n),
            services.join(", "),
            plural(azs),
            price(rate)
        );
        let tail = format!(
            "; data processed, {}/GB, not included",
            price(self.prices.interface_endpoint_gb)
        );
        Some(self.cost(CostKind::Fix, rate * (n * azs) as f64, &quantities, &tail))
    }

    /// An idle cluster's whole control plane, at the standard or (`extended`) the
    /// extended-support rate: what deleting it saves.
    pub fn idle_control_plane(&self, extended: Option<&str>) -> Cost {
        let p = self.prices;
        match extended {
            None => self.cost(
                CostKind::Waste,
                p.eks_cluster_hour,
                &format!(
                    "1 EKS control plane × {}/h (standard support)",
                    price(p.eks_cluster_hour)
                ),
                "",
            ),
            Some(version) => self.cost(
                CostKind::Waste,
                p.eks_extended_support_cluster_hour,
                &format!(
                    "1 EKS control plane × {}/h (extended support, Kubernetes {version}: {}/h standard + {}/h extended)",
                    price(p.eks_extended_support_cluster_hour),
                    price(p.eks_cluster_hour),
                    price(p.eks_extended_premium_hour()),
                ),
                "; deleting the cluster saves all of it, so its EKS005 finding counts none of it",
            ),
        }
    }

    /// What extended support adds to a cluster's control plane: what an upgrade to a
    /// version in standard support saves.
    pub fn extended_support_premium(&self, version: &str) -> Cost {
        let p = self.prices;
        self.cost(
            CostKind::Waste,
            p.eks_extended_premium_hour(),
            &format!(
                "1 EKS control plane in extended support (Kubernetes {version}) × {}/h ({}/h extended-support rate − {}/h standard)",
                price(p.eks_extended_premium_hour()),
                price(p.eks_extended_support_cluster_hour),
                price(p.eks_cluster_hour),
            ),
            "",
        )
    }
}

/// Rounds US dollars to the cent.
pub fn cents(usd: f64) -> f64 {
    (usd * 100.0).round() / 100.0
}

/// `$14.60`: a monthly amount.
pub fn usd(amount: f64) -> String {
    format!("${amount:.2}")
}

/// `$0.10`, `$0.045`, `$0.004445`: a unit price, with at least two decimals and no
/// trailing zeros beyond them.
pub fn price(rate: f64) -> String {
    let mut s = format!("{rate:.6}");
    while s.ends_with('0') && s.len() - s.find('.').unwrap_or(0) > 3 {
        s.pop();
    }
    format!("${s}")
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_table_loads_with_the_published_prices() {
        let t = PriceTable::load(PRICES_JSON).expect("price table loads");
        let p = t.region("us-east-1");
        assert_eq!(p.priced_as, "us-east-1");
        let p = p.prices;
        assert_eq!(p.eks_cluster_hour, 0.10);
        assert_eq!(p.eks_extended_support_cluster_hour, 0.60);
        assert!((p.eks_extended_premium_hour() - 0.50).abs() < 1e-9);
        assert_eq!((p.nat_gateway_hour, p.nat_gateway_gb), (0.045, 0.045));
        assert_eq!(
            (p.interface_endpoint_az_hour, p.interface_endpoint_gb),
            (0.01, 0.01)
        );
        assert_eq!(
            (p.fargate_vcpu_hour, p.fargate_gb_hour),
            (0.04048, 0.004445)
        );
        assert!(t
            .sources
            .iter()
            .all(|s| s.starts_with("https://aws.amazon.com/")));
        assert_eq!(t.monthly(0.10), 73.0);
        // The lazily loaded copy is the same data.
        assert_eq!(PriceTable::bundled().as_of, t.as_of);
    }

    #[test]
    fn malformed_tables_are_rejected() {
        let good = PRICES_JSON.to_string();
        assert!(PriceTable::load(&good).is_ok());
        for (from, to) in [
            ("\"as_of\": \"2026-12-03\"", "\"as_of\": \"2026-12-3\""),
            ("\"hours_per_month\": 730", "\"hours_per_month\": 720"),
            ("\"currency\": \"USD\"", "\"currency\": \"EUR\""),
            ("https://aws.amazon.com/eks/pricing/", "http://example.com/"),
            ("\"nat_gateway_hour\": 0.045", "\"nat_gateway_hour\": 0"),
            (
                "\"eks_extended_support_cluster_hour\": 0.60",
                "\"eks_extended_support_cluster_hour\": 0.05",
            ),
            (
                "\"default_region\": \"us-east-1\"",
                "\"default_region\": \"eu-west-1\"",
            ),
            ("\"fargate_gb_hour\"", "\"fargate_gib_hour\""),
        ] {
            assert!(good.contains(from), "{from}");
            let bad = good.replace(from, to);
            assert!(PriceTable::load(&bad).is_err(), "{to}");
        }
    }

    #[test]
    fn unlisted_regions_are_priced_as_the_default_and_say_so() {
        let t = PriceTable::bundled();
        let date = format_date(t.as_of);
        assert_eq!(
            t.region("us-east-1").label(),
            format!("us-east-1 list price, prices as of {date}")
        );
        let eu = t.region("eu-west-1");
        assert_eq!(eu.priced_as, "us-east-1");
        assert_eq!(
            eu.label(),
            format!("eu-west-1 priced at the us-east-1 list price, prices as of {date}")
        );
    }

    #[test]
    fn interface_endpoints_cost_per_endpoint_per_az() {
        let t = PriceTable::bundled();
        let date = format_date(t.as_of);
        let c = t
            .region("us-east-1")
            .interface_endpoints(&["ecr.api", "ecr.dkr"], 2)
            .unwrap();
        assert_eq!(c.kind, CostKind::Fix);
        assert_eq!(c.monthly_usd, 29.2);
        assert_eq!(
            c.basis,
            format!("2 interface endpoints (ecr.api, ecr.dkr) × 2 AZs × $0.01/h × 730 h = $29.20 (us-east-1 list price, prices as of {date}); data processed, $0.01/GB, not included")
        );
        let one = t
            .region("us-east-1")
            .interface_endpoints(&["logs"], 1)
            .unwrap();
        assert_eq!(one.monthly_usd, 7.3);
        assert!(one
            .basis
            .starts_with("1 interface endpoint (logs) × 1 AZ × $0.01/h × 730 h = $7.30"));
        assert!(t.region("us-east-1").interface_endpoints(&[], 2).is_none());
        assert!(t
            .region("us-east-1")
            .interface_endpoints(&["logs"], 0)
            .is_none());
    }

    #[test]
    fn control_plane_costs() {
        let p = PriceTable::bundled().region("us-east-1");
        let idle = p.idle_control_plane(None);
        assert_eq!((idle.kind, idle.monthly_usd), (CostKind::Waste, 73.0));
        assert!(idle
            .basis
            .starts_with("1 EKS control plane × $0.10/h (standard support) × 730 h = $73.00 (us-east-1 list price"));
        let idle_ext = p.idle_control_plane(Some("1.29"));
        assert_eq!(idle_ext.monthly_usd, 438.0);
        assert!(idle_ext.basis.starts_with("1 EKS control plane × $0.60/h (extended support, Kubernetes 1.29: $0.10/h standard + $0.50/h extended) × 730 h = $438.00"), "{}", idle_ext.basis);
        let premium = p.extended_support_premium("1.29");
        assert_eq!(premium.monthly_usd, 365.0);
        assert!(premium.basis.starts_with("1 EKS control plane in extended support (Kubernetes 1.29) × $0.50/h ($0.60/h extended-support rate − $0.10/h standard) × 730 h = $365.00"), "{}", premium.basis);
    }

    #[test]
    fn amounts_print_to_the_cent_and_rates_without_trailing_zeros() {
        assert_eq!(price(0.1), "$0.10");
        assert_eq!(price(0.045), "$0.045");
        assert_eq!(price(0.004445), "$0.004445");
        assert_eq!(price(0.5), "$0.50");
        assert_eq!(usd(14.6), "$14.60");
        assert_eq!(cents(0.1 * 730.0 * 3.0), 219.0);
        assert_eq!(cents(0.01 * 730.0 * 3.0), 21.9);
    }
}
