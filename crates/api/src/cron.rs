//! Cron schedules, as CronJob validation checks them and the CronJob
//! controller runs them (upstream uses `robfig/cron`'s standard parser): five fields (minute, hour, day of
//! month, month, day of week) with lists, ranges, steps and names, the
//! `@yearly`-style descriptors, `@every <duration>`, and an optional
//! `TZ=` / `CRON_TZ=` prefix. Times are computed in a time zone (IANA
//! names, resolved by jiff).
//!
//! As in robfig/cron, when both day fields are restricted (neither starts
//! with `*` or `?`) a day matches if *either* matches; otherwise both must.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

/// A parsed schedule.
#[derive(Clone, Debug)]
pub struct Schedule {
    kind: Kind,
    tz: TimeZone,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Fields(Fields),
    /// `@every`: a fixed delay, in whole seconds.
    Every(i64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Fields {
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
    /// Whether the day-of-month / day-of-week field was a bare `*`/`?`.
    dom_star: bool,
    dow_star: bool,
}

struct Bounds {
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// The value of `names[0]`.
    first_name: u32,
}

const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
    first_name: 0,
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
    first_name: 0,
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
    first_name: 0,
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
    first_name: 1,
};
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    first_name: 0,
};

impl Schedule {
    /// Parse `spec` in time zone `tz` (None: UTC). A `TZ=` prefix in the
    /// spec wins over `tz`.
    pub fn parse(spec: &str, tz: Option<&str>) -> Result<Schedule, String> {
        let mut spec = spec.trim();
        let mut zone = tz.map(str::to_owned);
        if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
            let (prefix, rest) = spec.split_once(' ').unwrap_or((spec, ""));
            zone = prefix.split_once('=').map(|(_, z)| z.to_owned());
            spec = rest.trim();
        }
        let tz = match zone.as_deref() {
            None | Some("") | Some("UTC") => TimeZone::UTC,
            Some(name) => TimeZone::get(name)
                .map_err(|_| format!("provided bad location {name}: unknown time zone {name}"))?,
        };
        if spec.is_empty() {
            return Err("empty spec string".into());
        }
        let kind = if let Some(d) = spec.strip_prefix('@') {
            descriptor(d)?
        } else {
            Kind::Fields(fields(spec)?)
        };
        Ok(Schedule { kind, tz })
    }

    /// Check `spec` as validation does: the syntax only. A `TZ=` prefix is
    /// skipped, not resolved (the time zone is validated on its own field).
    pub fn check(spec: &str) -> Result<(), String> {
        let mut spec = spec;
        if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
            let Some(i) = spec.find(' ') else {
                return Err(format!("provided bad location {spec}: unknown time zone"));
            };
            spec = spec[i..].trim();
        }
        if spec.is_empty() {
            return Err("empty spec string".into());
        }
        match spec.strip_prefix('@') {
            Some(d) => descriptor(d).map(drop),
            None => fields(spec).map(drop),
        }
    }

    /// The first time strictly after `after` that the schedule fires (None
    /// if it never does within five years, e.g. `0 0 30 2 *`).
    pub fn next(&self, after: Timestamp) -> Option<Timestamp> {
        match &self.kind {
            Kind::Every(secs) => {
                let whole = Timestamp::from_second(after.as_second()).ok()?;
                whole.checked_add(SignedDuration::from_secs(*secs)).ok()
            }
            Kind::Fields(f) => f.next(after, &self.tz),
        }
    }
}

impl Fields {
    fn next(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let local = after.to_zoned(tz.clone()).datetime();
        // The next whole minute.
        let mut t = local
            .with()
            .second(0)
            .subsec_nanosecond(0)
            .build()
            .ok()?
            .checked_add(1.minute())
            .ok()?;
        let limit = t.year() + 5;
        while t.year() <= limit {
            if !has(self.month, t.month() as u32) {
                t = first_of_next_month(t.date())?;
                continue;
            }
            if !self.day_matches(t.date()) {
                t = t
                    .date()
                    .tomorrow()
                    .ok()?
                    .to_datetime(jiff::civil::Time::midnight());
                continue;
            }
            if !has(self.hour, t.hour() as u32) {
                t = t
                    .with()
                    .minute(0)
                    .build()
                    .ok()?
                    .checked_add(1.hour())
                    .ok()?;
                continue;
            }
            if !has(self.minute, t.minute() as u32) {
                t = t.checked_add(1.minute()).ok()?;
                continue;
            }
            let at = tz.to_ambiguous_timestamp(t).compatible().ok()?;
            if at > after {
                return Some(at);
            }
            t = t.checked_add(1.minute()).ok()?;
        }
        None
    }

    fn day_matches(&self, d: Date) -> bool {
        let dom = has(self.dom, d.day() as u32);
        let dow = has(self.dow, d.weekday().to_sunday_zero_offset() as u32);
        if self.dom_star || self.dow_star {
            dom && dow
        } else {
            dom || dow
        }
    }
}

fn first_of_next_month(d: Date) -> Option<DateTime> {
    let first = d.first_of_month().checked_add(1.month()).ok()?;
    Some(first.to_datetime(jiff::civil::Time::midnight()))
}

fn has(bits: u64, v: u32) -> bool {
    v < 64 && bits & (1 << v) != 0
}

fn descriptor(d: &str) -> Result<Kind, String> {
    let std = match d {
        "yearly" | "annually" => "0 0 1 1 *",
        "monthly" => "0 0 1 * *",
        "weekly" => "0 0 * * 0",
        "daily" | "midnight" => "0 0 * * *",
        "hourly" => "0 * * * *",
        _ => {
            return match d.strip_prefix("every ") {
                Some(dur) => {
                    let secs = go_duration_secs(dur.trim()).ok_or_else(|| {
                        format!("failed to parse duration @{d}: time: invalid duration {dur:?}")
                    })?;
                    // robfig rounds down to a second, at least one.
                    Ok(Kind::Every(secs.max(1)))
                }
                None => Err(format!("unrecognized descriptor: @{d}")),
            };
        }
    };
    fields(std).map(Kind::Fields)
}

/// Whole seconds of a Go duration (`1h30m`, `90s`, `1.5h`).
fn go_duration_secs(s: &str) -> Option<i64> {
    let mut rest = s;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let units = [
            ("ns", 1e-9),
            ("us", 1e-6),
            ("µs", 1e-6),
            ("ms", 1e-3),
            ("s", 1.0),
            ("m", 60.0),
            ("h", 3600.0),
        ];
        let (unit, scale) = units
            .iter()
            .filter(|(u, _)| rest.starts_with(u))
            .max_by_key(|(u, _)| u.len())?;
        rest = &rest[unit.len()..];
        total += value * scale;
    }
    Some(total as i64)
}

fn fields(spec: &str) -> Result<Fields, String> {
    let parts: Vec<&str> = spec.split_whitespace().collect();
    if parts.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            parts.len(),
            parts.join(" ")
        ));
    }
    let star = |f: &str| f.starts_with('*') || f.starts_with('?');
    Ok(Fields {
        minute: field(parts[0], &MINUTES)?,
        hour: field(parts[1], &HOURS)?,
        dom: field(parts[2], &DOM)?,
        month: field(parts[3], &MONTHS)?,
        dow: field(parts[4], &DOW)?,
        dom_star: star(parts[2]) && !parts[2].contains('/'),
        dow_star: star(parts[4]) && !parts[4].contains('/'),
    })
}

fn field(f: &str, b: &Bounds) -> Result<u64, String> {
    f.split(',').try_fold(0u64, |acc, r| Ok(acc | range(r, b)?))
}

fn range(expr: &str, b: &Bounds) -> Result<u64, String> {
    let (range, step) = match expr.split_once('/') {
        Some((r, s)) if !s.contains('/') => (r, Some(s)),
        Some(_) => return Err(format!("too many slashes: {expr}")),
        None => (expr, None),
    };
    let (start, mut end) = if range == "*" || range == "?" {
        (b.min, b.max)
    } else {
        let mut lh = range.split('-');
        let low = value(lh.next().unwrap_or(""), b)?;
        let high = match lh.next() {
            Some(h) => value(h, b)?,
            None => low,
        };
        if lh.next().is_some() {
            return Err(format!("too many hyphens: {expr}"));
        }
        (low, high)
    };
    let step = match step {
        None => 1,
        Some(s) => {
            if !range.contains('-') && range != "*" && range != "?" {
                end = b.max;
            }
            number(s)?
        }
    };
    if start < b.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            b.min
        ));
    }
    if end > b.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            b.max
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok((start..=end)
        .step_by(step as usize)
        .fold(0, |acc, v| acc | (1 << v)))
}

fn value(s: &str, b: &Bounds) -> Result<u32, String> {
    let lower = s.to_ascii_lowercase();
    if let Some(i) = b.names.iter().position(|n| *n == lower) {
        return Ok(b.first_name + i as u32);
    }
    number(s)
}

fn number(s: &str) -> Result<u32, String> {
    match s.parse::<i64>() {
        Ok(n) if n < 0 => Err(format!("negative number ({n}) not allowed: {s}")),
        Ok(n) => u32::try_from(n).map_err(|_| {
            format!("failed to parse int from {s}: strconv.Atoi: parsing {s:?}: value out of range")
        }),
        Err(_) => Err(format!(
            "failed to parse int from {s}: strconv.Atoi: parsing {s:?}: invalid syntax"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn next(spec: &str, tz: Option<&str>, after: &str) -> String {
        Schedule::parse(spec, tz)
            .unwrap()
            .next(ts(after))
            .map(|t| t.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn fields_and_steps() {
        assert_eq!(
            next("*/15 * * * *", None, "2026-03-01T10:07:30Z"),
            "2026-03-01T10:15:00Z"
        );
        assert_eq!(
            next("* * * * *", None, "2026-03-01T10:07:00Z"),
            "2026-03-01T10:08:00Z"
        );
        assert_eq!(
            next("5 4 * * *", None, "2026-03-01T10:07:00Z"),
            "2026-03-02T04:05:00Z"
        );
        assert_eq!(
            next("0 0 1 jan *", None, "2026-03-01T10:07:00Z"),
            "2027-01-01T00:00:00Z"
        );
        assert_eq!(
            next("30 9 * * MON-FRI", None, "2026-03-07T00:00:00Z"),
            "2026-03-09T09:30:00Z"
        );
        assert_eq!(
            next("0 12 1-3/2 * *", None, "2026-03-01T12:00:00Z"),
            "2026-03-03T12:00:00Z"
        );
        assert_eq!(
            next("10/20 * * * *", None, "2026-03-01T12:31:00Z"),
            "2026-03-01T12:50:00Z"
        );
    }

    #[test]
    fn day_of_month_or_day_of_week() {
        // Both restricted: either matches (the 13th, or any Friday).
        assert_eq!(
            next("0 0 13 * 5", None, "2026-03-01T00:00:00Z"),
            "2026-03-06T00:00:00Z"
        );
        // One is `*`: both must match.
        assert_eq!(
            next("0 0 * * 5", None, "2026-03-01T00:00:00Z"),
            "2026-03-06T00:00:00Z"
        );
        assert_eq!(
            next("0 0 13 * *", None, "2026-03-01T00:00:00Z"),
            "2026-03-13T00:00:00Z"
        );
    }

    #[test]
    fn descriptors() {
        assert_eq!(
            next("@hourly", None, "2026-03-01T10:07:00Z"),
            "2026-03-01T11:00:00Z"
        );
        assert_eq!(
            next("@daily", None, "2026-03-01T10:07:00Z"),
            "2026-03-02T00:00:00Z"
        );
        assert_eq!(
            next("@weekly", None, "2026-03-02T10:07:00Z"),
            "2026-03-08T00:00:00Z"
        );
        assert_eq!(
            next("@monthly", None, "2026-03-02T10:07:00Z"),
            "2026-04-01T00:00:00Z"
        );
        assert_eq!(
            next("@yearly", None, "2026-03-02T10:07:00Z"),
            "2027-01-01T00:00:00Z"
        );
        assert_eq!(
            next("@every 1h30m", None, "2026-03-02T10:07:00.5Z"),
            "2026-03-02T11:37:00Z"
        );
    }

    #[test]
    fn time_zones() {
        // 09:00 in New York (EST, UTC-5 in January; EDT, UTC-4 in July).
        assert_eq!(
            next(
                "0 9 * * *",
                Some("America/New_York"),
                "2026-01-10T00:00:00Z"
            ),
            "2026-01-10T14:00:00Z"
        );
        assert_eq!(
            next(
                "0 9 * * *",
                Some("America/New_York"),
                "2026-07-10T00:00:00Z"
            ),
            "2026-07-10T13:00:00Z"
        );
        assert_eq!(
            next("TZ=Asia/Tokyo 0 9 * * *", None, "2026-01-10T00:00:00Z"),
            "2026-01-11T00:00:00Z"
        );
        assert!(Schedule::parse("0 9 * * *", Some("Mars/Olympus")).is_err());
        // Validation checks the syntax behind a prefix, not the zone.
        assert_eq!(Schedule::check("TZ=Mars/Olympus 0 9 * * *"), Ok(()));
    }

    #[test]
    fn impossible_dates_never_fire() {
        assert_eq!(next("0 0 30 2 *", None, "2026-01-01T00:00:00Z"), "");
    }

    #[test]
    fn errors_are_upstreams() {
        let err = |s| Schedule::parse(s, None).unwrap_err();
        assert_eq!(err("* * *"), "expected exactly 5 fields, found 3: [* * *]");
        assert_eq!(
            err("61 * * * *"),
            "end of range (61) above maximum (59): 61"
        );
        assert_eq!(err("@often"), "unrecognized descriptor: @often");
        assert_eq!(
            err("x * * * *"),
            "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            Schedule::check("@every 1y").unwrap_err(),
            "failed to parse duration @every 1y: time: invalid duration \"1y\""
        );
        assert_eq!(
            err("*/0 * * * *"),
            "step of range should be a positive number: */0"
        );
    }
}
