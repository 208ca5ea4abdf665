//! The two textual units the simulator reads: Go durations (annotations
//! such as `sim.rkube.io/run-for: 1m30s`) and Kubernetes resource
//! quantities (flags such as `--memory 256Gi`, and pod requests and limits
//! for the QoS class).

use std::time::Duration;

/// Parse a Go duration (`time.ParseDuration`): a sequence of decimal
/// numbers, each with an optional fraction and a unit among `ns`, `us`
/// (`µs`), `ms`, `s`, `m`, `h`, e.g. `500ms`, `1.5s`, `1h30m`. `0` needs no
/// unit. Negative durations are rejected (a pod cannot run for less than
/// nothing).
pub fn parse_go_duration(input: &str) -> Result<Duration, String> {
    let err = || format!("invalid duration {input:?}");
    let mut s = input.trim();
    if let Some(rest) = s.strip_prefix('+') {
        s = rest;
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() || s.starts_with('-') {
        return Err(err());
    }
    let mut total_nanos: u128 = 0;
    while !s.is_empty() {
        let digits_end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(err)?;
        let number = &s[..digits_end];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(err());
        }
        s = &s[digits_end..];
        let unit_end = s
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(s.len());
        let unit = &s[..unit_end];
        s = &s[unit_end..];
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(err()),
        };
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        let int: u128 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| err())?
        };
        let mut nanos = int.checked_mul(scale).ok_or_else(err)?;
        // The fraction, digit by digit, exact to the nanosecond.
        let mut place = scale;
        for d in frac.chars() {
            place /= 10;
            nanos += u128::from(d.to_digit(10).ok_or_else(err)?) * place;
        }
        total_nanos = total_nanos.checked_add(nanos).ok_or_else(err)?;
    }
    let secs = u64::try_from(total_nanos / 1_000_000_000).map_err(|_| err())?;
    Ok(Duration::new(secs, (total_nanos % 1_000_000_000) as u32))
}

/// A resource quantity's value in nano-units (`1` → 10⁹, `100m` → 10⁸,
/// `1Ki` → 1024·10⁹): exact for every quantity a pod or node can carry,
/// and comparable (`1` equals `1000m`).
pub fn parse_quantity(input: &str) -> Result<i128, String> {
    let err = || format!("invalid quantity {input:?}");
    let s = input.trim();
    let (sign, s) = match s.as_bytes().first() {
        Some(b'-') => (-1, &s[1..]),
        Some(b'+') => (1, &s[1..]),
        _ => (1, s),
    };
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(end);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return Err(err());
    }
    // Mantissa as an integer with `frac_digits` decimal places.
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = format!("{int}{frac}");
    let mantissa: i128 = digits.parse().map_err(|_| err())?;
    let mut exp10: i32 = -(frac.len() as i32) + 9; // nano-units
    let mut mult: i128 = 1;
    match suffix {
        "" => {}
        "n" => exp10 -= 9,
        "u" => exp10 -= 6,
        "m" => exp10 -= 3,
        "k" => exp10 += 3,
        "M" => exp10 += 6,
        "G" => exp10 += 9,
        "T" => exp10 += 12,
        "P" => exp10 += 15,
        "E" => exp10 += 18,
        "Ki" => mult = 1 << 10,
        "Mi" => mult = 1 << 20,
        "Gi" => mult = 1 << 30,
        "Ti" => mult = 1 << 40,
        "Pi" => mult = 1 << 50,
        "Ei" => mult = 1 << 60,
        e if e.starts_with(['e', 'E']) => {
            exp10 += e[1..].parse::<i32>().map_err(|_| err())?;
        }
        _ => return Err(err()),
    }
    let mut value = mantissa.checked_mul(mult).ok_or_else(err)?;
    if exp10 >= 0 {
        value = value
            .checked_mul(10i128.checked_pow(exp10 as u32).ok_or_else(err)?)
            .ok_or_else(err)?;
    } else {
        // Below a nano-unit: round up, as Kubernetes does.
        let div = 10i128.checked_pow((-exp10) as u32).ok_or_else(err)?;
        value = (value + div - 1) / div;
    }
    Ok(sign * value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        let ms = Duration::from_millis;
        assert_eq!(parse_go_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_go_duration("500ms"), Ok(ms(500)));
        assert_eq!(parse_go_duration("5s"), Ok(ms(5000)));
        assert_eq!(parse_go_duration("1.5s"), Ok(ms(1500)));
        assert_eq!(parse_go_duration("1m"), Ok(ms(60_000)));
        assert_eq!(parse_go_duration("1h30m"), Ok(ms(5_400_000)));
        assert_eq!(parse_go_duration("2m0.25s"), Ok(ms(120_250)));
        assert_eq!(parse_go_duration("300us"), Ok(Duration::from_micros(300)));
        assert_eq!(parse_go_duration("10µs"), Ok(Duration::from_micros(10)));
        assert_eq!(parse_go_duration(".5s"), Ok(ms(500)));
        for bad in ["", "5", "s", "-1s", "1d", "1..2s", "abc", "1s2"] {
            assert!(parse_go_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quantities() {
        let g = 1_000_000_000i128;
        assert_eq!(parse_quantity("1"), Ok(g));
        assert_eq!(parse_quantity("1000m"), Ok(g));
        assert_eq!(parse_quantity("100m"), Ok(g / 10));
        assert_eq!(parse_quantity("0.5"), Ok(g / 2));
        assert_eq!(parse_quantity("1Ki"), Ok(1024 * g));
        assert_eq!(parse_quantity("256Gi"), Ok(256 * (1 << 30) * g));
        assert_eq!(parse_quantity("1k"), Ok(1000 * g));
        assert_eq!(parse_quantity("1e3"), Ok(1000 * g));
        assert_eq!(parse_quantity("1n"), Ok(1));
        assert_eq!(parse_quantity("129e6"), Ok(129_000_000 * g));
        for bad in ["", "Gi", "1x", "1.2.3", "--1"] {
            assert!(parse_quantity(bad).is_err(), "{bad}");
        }
    }
}
