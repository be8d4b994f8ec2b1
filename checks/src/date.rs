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

/// The date `days` after 1970-01-01: the inverse of [`days_from_civil`] (Howard
/// Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((yoe + era * 400 + i64::from(m <= 2)) as i32, m, d)
}

/// Seconds since 1970-01-01T00:00:00Z of an RFC 3339 timestamp (`2026-11-22T06:35:46Z`,
/// fractions and a `±HH:MM` offset allowed); a bare date is its midnight UTC.
pub fn parse_instant(text: &str) -> Option<i64> {
    let days = days_from_civil(parse_date(text)?);
    let rest = &text[10..];
    if rest.is_empty() {
        return Some(days * 86_400);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let field = |s: &str, at: usize| -> Option<i64> { s.get(at..at + 2)?.parse().ok() };
    let (h, m, sec) = (field(rest, 0)?, field(rest, 3)?, field(rest, 6)?);
    if rest.get(2..3)? != ":" || rest.get(5..6)? != ":" || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let mut zone = &rest[8..];
    if let Some(frac) = zone.strip_prefix('.') {
        zone = frac.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = match zone.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let (oh, om) = (field(zone, 1)?, field(zone, 4)?);
            if zone.len() != 6 || zone.get(3..4)? != ":" {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(days * 86_400 + h * 3600 + m * 60 + sec - offset)
}

/// `2026-08-22`.
pub fn format_date((y, m, d): Date) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_convert_back_to_dates() {
        for date in [
            (1970, 1, 1),
            (2000, 2, 29),
            (2026, 12, 31),
            (2027, 3, 1),
            (1969, 12, 31),
        ] {
            assert_eq!(civil_from_days(days_from_civil(date)), date);
        }
    }

    #[test]
    fn instants_parse_with_offsets_and_fractions() {
        assert_eq!(parse_instant("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_instant("1970-01-02"), Some(86_400));
        assert_eq!(
            parse_instant("2026-11-22T06:35:46.123Z"),
            parse_instant("2026-11-22T06:35:46Z")
        );
        assert_eq!(
            parse_instant("2026-11-22T08:35:46+02:00"),
            parse_instant("2026-11-22T06:35:46Z")
        );
        assert_eq!(
            parse_instant("2026-11-22T01:35:46-05:00"),
            parse_instant("2026-11-22T06:35:46Z")
        );
        assert_eq!(parse_instant("2026-11-22T06:35Z"), None);
        assert_eq!(parse_instant("2026-11-22T06:35:46"), None);
        assert_eq!(parse_instant("later"), None);
    }

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
