//! Resource quantities (`100m`, `1.5Gi`, `2e3`): parsing, validation and
//! exact arithmetic in milli-units.
//!
//! A quantity is a signed decimal number with an optional suffix: a binary
//! SI suffix (`Ki Mi Gi Ti Pi Ei`), a decimal SI suffix (`n u m k M G T P
//! E`), or a decimal exponent (`e3`, `E-2`).

/// A parsed quantity, held exactly as nano-units (value × 10⁹).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Quantity {
    nanos: i128,
}

/// What upstream says of a malformed quantity.
pub const QUANTITY_FORMAT: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

impl Quantity {
    /// Parse a quantity string.
    pub fn parse(s: &str) -> Result<Quantity, &'static str> {
        let s = s.trim();
        if s.is_empty() {
            return Err(QUANTITY_FORMAT);
        }
        let bytes = s.as_bytes();
        let mut i = 0;
        let negative = match bytes[0] {
            b'-' => {
                i = 1;
                true
            }
            b'+' => {
                i = 1;
                false
            }
            _ => false,
        };
        let num_start = i;
        let mut seen_dot = false;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || (bytes[i] == b'.' && !seen_dot)) {
            seen_dot |= bytes[i] == b'.';
            i += 1;
        }
        let number = &s[num_start..i];
        if number.is_empty() || number == "." {
            return Err(QUANTITY_FORMAT);
        }
        let suffix = &s[i..];
        // Scale as (base, exponent): value = number × base^exponent.
        let (base, exp): (i128, i32) = match suffix {
            "" => (10, 0),
            "n" => (10, -9),
            "u" => (10, -6),
            "m" => (10, -3),
            "k" => (10, 3),
            "M" => (10, 6),
            "G" => (10, 9),
            "T" => (10, 12),
            "P" => (10, 15),
            "E" => (10, 18),
            "Ki" => (2, 10),
            "Mi" => (2, 20),
            "Gi" => (2, 30),
            "Ti" => (2, 40),
            "Pi" => (2, 50),
            "Ei" => (2, 60),
            s if s.starts_with(['e', 'E']) => {
                let e: i32 = s[1..].parse().map_err(|_| QUANTITY_FORMAT)?;
                if !(-30..=30).contains(&e) {
                    return Err("quantity exponent out of range");
                }
                (10, e)
            }
            _ => return Err(QUANTITY_FORMAT),
        };
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        let digits = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > 30 {
            return Err("quantity too large");
        }
        let mantissa: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| QUANTITY_FORMAT)?
        };
        // nanos = mantissa × 10^(9 - frac_len) × base^exp, rounded up.
        let mut num: i128 = mantissa;
        let mut den: i128 = 1;
        let mut scale10 = 9 - frac_part.len() as i32;
        if base == 10 {
            scale10 += exp;
        } else {
            num = num.checked_mul(1i128 << exp).ok_or("quantity too large")?;
        }
        if scale10 >= 0 {
            num = num
                .checked_mul(
                    10i128
                        .checked_pow(scale10 as u32)
                        .ok_or("quantity too large")?,
                )
                .ok_or("quantity too large")?;
        } else {
            den = 10i128
                .checked_pow((-scale10) as u32)
                .ok_or("quantity too small")?;
        }
        let nanos = (num + den - 1) / den;
        Ok(Quantity {
            nanos: if negative { -nanos } else { nanos },
        })
    }

    /// The value in milli-units, rounded up (CPU: millicores).
    pub fn millis(&self) -> i64 {
        let m =
            self.nanos.div_euclid(1_000_000) + i128::from(self.nanos.rem_euclid(1_000_000) != 0);
        m.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    /// The value in whole units, rounded up (memory: bytes).
    pub fn value(&self) -> i64 {
        let v = self.nanos.div_euclid(1_000_000_000)
            + i128::from(self.nanos.rem_euclid(1_000_000_000) != 0);
        v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    /// Whether the quantity is below zero.
    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// The exact value in nano-units.
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    /// A quantity of exactly `nanos` nano-units.
    pub fn from_nanos(nanos: i128) -> Quantity {
        Quantity { nanos }
    }
}

impl std::ops::Add for Quantity {
    type Output = Quantity;
    fn add(self, other: Quantity) -> Quantity {
        Quantity {
            nanos: self.nanos.saturating_add(other.nanos),
        }
    }
}

impl std::ops::Sub for Quantity {
    type Output = Quantity;
    fn sub(self, other: Quantity) -> Quantity {
        Quantity {
            nanos: self.nanos.saturating_sub(other.nanos),
        }
    }
}

/// How a quantity was written, which decides how it is written back:
/// upstream re-serializes every quantity in canonical form in the same
/// family of suffixes (`1.5Gi` → `1536Mi`, `0.5` → `500m`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `n u m "" k M G T P E`.
    DecimalSI,
    /// `Ki Mi Gi Ti Pi Ei`.
    BinarySI,
    /// `e3`, `E-2`.
    DecimalExponent,
}

impl Format {
    /// The format of a quantity string (assumed well-formed).
    pub fn of(s: &str) -> Format {
        let s = s.trim();
        let suffix = s.trim_start_matches(['+', '-']);
        let suffix = suffix.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
        match suffix {
            "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => Format::BinarySI,
            "" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E" => Format::DecimalSI,
            _ => Format::DecimalExponent,
        }
    }
}

const NANOS_PER_UNIT: i128 = 1_000_000_000;

impl Quantity {
    /// A quantity of whole units.
    pub fn from_units(units: i64) -> Quantity {
        Quantity {
            nanos: i128::from(units) * NANOS_PER_UNIT,
        }
    }

    /// Whether the quantity is exactly zero.
    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// Round away from zero to a multiple of 1m, as upstream does to every
    /// quantity of a ResourceList.
    pub fn round_up_milli(self) -> Quantity {
        let step = 1_000_000;
        let rem = self.nanos % step;
        if rem == 0 {
            return self;
        }
        let nanos = if self.nanos > 0 {
            self.nanos - rem + step
        } else {
            self.nanos - rem - step
        };
        Quantity { nanos }
    }

    /// The canonical string upstream writes for this value in `format`.
    pub fn to_canonical(&self, format: Format) -> String {
        if self.nanos == 0 {
            return "0".into();
        }
        if format == Format::BinarySI
            && let Some(s) = self.binary_canonical()
        {
            return s;
        }
        let (mut mantissa, mut exp) = (self.nanos, -9i32);
        while mantissa % 10 == 0 {
            mantissa /= 10;
            exp += 1;
        }
        let rem = exp.rem_euclid(3);
        mantissa *= 10i128.pow(rem as u32);
        exp -= rem;
        if format == Format::DecimalExponent {
            return if exp == 0 {
                mantissa.to_string()
            } else {
                format!("{mantissa}e{exp}")
            };
        }
        while exp > 18 {
            mantissa *= 1000;
            exp -= 3;
        }
        let suffix = match exp {
            -9 => "n",
            -6 => "u",
            -3 => "m",
            0 => "",
            3 => "k",
            6 => "M",
            9 => "G",
            12 => "T",
            15 => "P",
            _ => "E",
        };
        format!("{mantissa}{suffix}")
    }

    /// Binary form (`1536Mi`), when the value is a whole number of at
    /// least 1024 in magnitude; otherwise upstream falls back to decimal.
    fn binary_canonical(&self) -> Option<String> {
        if self.nanos % NANOS_PER_UNIT != 0 || self.nanos.abs() < 1024 * NANOS_PER_UNIT {
            return None;
        }
        let mut units = self.nanos / NANOS_PER_UNIT;
        let mut i = 0;
        while units % 1024 == 0 && i < 6 {
            units /= 1024;
            i += 1;
        }
        let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][i];
        Some(format!("{units}{suffix}"))
    }
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_canonical(Format::DecimalSI))
    }
}

/// The canonical form of a quantity string, optionally rounded up to
/// milli precision first (ResourceLists); `None` if it does not parse.
pub fn canonicalize(s: &str, round_milli: bool) -> Option<String> {
    let q = Quantity::parse(s).ok()?;
    let q = if round_milli { q.round_up_milli() } else { q };
    Some(q.to_canonical(Format::of(s)))
}

#[cfg(test)]
mod tests {
    use super::{Quantity, canonicalize};

    #[test]
    fn parses_suffixes() {
        assert_eq!(Quantity::parse("100m").unwrap().millis(), 100);
        assert_eq!(Quantity::parse("1.5").unwrap().millis(), 1500);
        assert_eq!(Quantity::parse("2").unwrap().millis(), 2000);
        assert_eq!(Quantity::parse("1Ki").unwrap().value(), 1024);
        assert_eq!(Quantity::parse("1.5Gi").unwrap().value(), 1610612736);
        assert_eq!(Quantity::parse("128M").unwrap().value(), 128_000_000);
        assert_eq!(Quantity::parse("2e3").unwrap().value(), 2000);
        assert_eq!(Quantity::parse("1E-3").unwrap().millis(), 1);
        assert_eq!(Quantity::parse("0.1m").unwrap().millis(), 1, "rounds up");
        assert_eq!(Quantity::parse("-1").unwrap().millis(), -1000);
        assert_eq!(Quantity::parse(".5").unwrap().millis(), 500);
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["", "abc", "1x", "1.2.3", "Mi", "1 Gi", "1Gb", "--1"] {
            assert!(Quantity::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn canonical_forms_match_upstream() {
        for (input, milli, want) in [
            ("1000m", true, "1"),
            ("0.5", true, "500m"),
            ("1.5Gi", true, "1536Mi"),
            ("1Gi", true, "1Gi"),
            ("128M", true, "128M"),
            ("2000", true, "2k"),
            ("1500", true, "1500"),
            ("0.0001", true, "1m"),
            ("1n", true, "1m"),
            ("1n", false, "1n"),
            ("1.5m", false, "1500u"),
            ("1e3", true, "1e3"),
            ("512", true, "512"),
            ("0.5Ki", true, "512"),
            ("0", true, "0"),
            ("100m", true, "100m"),
            ("-1", true, "-1"),
        ] {
            assert_eq!(canonicalize(input, milli).as_deref(), Some(want), "{input}");
        }
        assert_eq!(canonicalize("abc", true), None);
    }
}
