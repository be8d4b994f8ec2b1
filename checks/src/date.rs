//! Calendar dates without a date-time dependency: the `YYYY-MM-DD` of a timestamp, day
//! arithmetic, and the same text back. A leaf: the registry (`Ctx::as_of`), the EKS calendar
//! and the renderers of interchange formats in `src/render` all count days with it.

/// A proleptic Gregorian date as (year, month, day).
pub type Date = (i32, u32, u32);

/// The `YYYY-MM-DD` at the start of an RFC 3339 timestamp or a bare date.
pub fn parse_date(text: &str) -> Option<Date> {
    let date = text.get(..10)?;
    let mut parts = date.split('-');
    let y: i32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm), so
/// date-relative checks can count days without a calendar dependency.
pub fn days_from_civil((y, m, d): Date) -> i64 {
    let y = i64::from(if m <= 2 { y - 1 } else { y });
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2026-08-22`.
pub fn format_date((y, m, d): Date) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_and_count_days() {
        assert_eq!(parse_date("2026-11-22T06:35:46Z"), Some((2026, 11, 22)));
        assert_eq!(parse_date("2026-11-22"), Some((2026, 11, 22)));
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(days_from_civil((1970, 1, 1)), 0);
        assert_eq!(days_from_civil((2000, 3, 1)), 11_017);
        assert_eq!(
            days_from_civil((2024, 3, 1)) - days_from_civil((2024, 2, 28)),
            2
        );
        assert_eq!(
            days_from_civil((2025, 3, 1)) - days_from_civil((2025, 2, 28)),
            1
        );
        assert_eq!(days_from_civil((1969, 12, 31)), -1);
        assert_eq!(format_date((2026, 8, 2)), "2026-08-02");
    }
}
