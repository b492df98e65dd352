//! Durations as users write them: `2s`, `500ms`, `1m`, `1h`, `1m30s`, `0`.

use std::time::Duration;

/// The longest wait any setting takes: PostgreSQL keeps lock_timeout and
/// statement_timeout in milliseconds in a 32-bit integer (24.8 days), the
/// stricter of the two engines (MySQL's lock_wait_timeout goes to a year).
pub const LONGEST: Duration = Duration::from_millis(i32::MAX as u64);

/// A duration that must be more than zero (0 would mean "at once", which no flag of ours should mean by accident).
pub fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(format!("`{s}`: must be more than 0 (for example 5s)"));
    }
    Ok(d)
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = Duration::ZERO;
    let mut rest = t;
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("`{s}` is not a duration: write it like 2s, 500ms, 1m or 1h"));
        }
        let value: f64 = rest[..digits].parse().map_err(|_| format!("`{s}` is not a duration"))?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let secs = match unit {
            "ms" => value / 1000.0,
            "s" => value,
            "m" | "min" => value * 60.0,
            "h" => value * 3600.0,
            "" => return Err(format!("`{s}` needs a unit: ms, s, m or h (for example 2s)")),
            other => return Err(format!("`{other}` is not a duration unit in `{s}`: use ms, s, m or h")),
        };
        let part = Duration::try_from_secs_f64(secs).ok();
        total = match part.and_then(|p| total.checked_add(p)) {
            Some(t) if t <= LONGEST => t,
            _ => return Err(format!("`{s}` is longer than the servers take (at most 24 days, 2147483647ms)")),
        };
    }
    Ok(total)
}

/// A rate in rows per second, as `--max-rate` takes it: a finite number
/// of at least one row a minute. (0, a negative or NaN used to mean "no
/// limit", and 1e-20 made a pause too long to represent.)
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let r: f64 = s.trim().parse().map_err(|_| format!("`{s}` is not a number of rows per second"))?;
    check_rate(r).map_err(|e| format!("`{s}`: {e}"))
}

pub fn check_rate(r: f64) -> Result<f64, String> {
    const SLOWEST: f64 = 1.0 / 60.0;
    if r.is_finite() && (SLOWEST..=1e12).contains(&r) {
        Ok(r)
    } else {
        Err("a rate is a number of rows per second from 0.017 (one a minute) to 1e12; leave the flag out for no limit".into())
    }
}

/// A limit that `off` (or `0`) turns off, such as `--max-replica-lag`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit(pub Option<Duration>);

pub fn parse_limit(s: &str) -> Result<Limit, String> {
    if s.trim() == "off" {
        return Ok(Limit(None));
    }
    let d = parse_duration(s).map_err(|e| format!("{e} (or `off`)"))?;
    Ok(Limit((!d.is_zero()).then_some(d)))
}

pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(1000) && ms < 60_000 {
        format!("{}s", ms / 1000)
    } else if ms < 60_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}m{}s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("5").unwrap_err().contains("unit"));
        assert!(parse_duration("2 weeks").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn huge_durations_and_rates_are_errors_not_panics() {
        for bad in ["99999999999999999999h", "9999999999999999999s9999999999999999999s", "3000h", "1e400s", "25d", "600h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_duration("596h"), Ok(Duration::from_secs(596 * 3600)));
        for bad in ["0", "-1", "NaN", "inf", "1e-20", "1e-30", "x", "1e13"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_rate("30000"), Ok(30000.0));
        assert_eq!(parse_rate("0.5"), Ok(0.5));
    }

    #[test]
    fn a_limit_is_a_duration_or_off() {
        assert_eq!(parse_limit("5s"), Ok(Limit(Some(Duration::from_secs(5)))));
        assert_eq!(parse_limit("off"), Ok(Limit(None)));
        assert_eq!(parse_limit("0"), Ok(Limit(None)));
        assert!(parse_limit("soon").unwrap_err().contains("`off`"));
    }
}
