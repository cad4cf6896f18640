//! JSON numbers read as floats without `str::parse`, whose decimal-to-float code (and its
//! table of 128-bit powers of five) is a tenth of the module: [`parse_f32`] rounds exactly as
//! `str::parse::<f32>` does, and [`finite_f64`] tells whether `str::parse::<f64>` gives a finite
//! value. Only the float32 path parses (a list of numbers sent as base64), and only numbers
//! with an exponent are checked as float64, so both are rare and may be slow. A leaf of
//! `providers/`.

/// A JSON number's parts: its sign, its decimal digits (leading zeros left out) and the power
/// of ten of the last one; `None` when `number` is not a JSON number.
fn parts(number: &str) -> Option<(bool, Vec<u8>, i64)> {
    let bytes = number.as_bytes();
    let negative = bytes.first() == Some(&b'-');
    let mut i = usize::from(negative);
    let mut digits = Vec::new();
    let mut exponent: i64 = 0;
    let mut seen = false;
    let mut point = false;
    while i < bytes.len() {
        match bytes[i] {
            b @ b'0'..=b'9' => {
                seen = true;
                if !(digits.is_empty() && b == b'0') {
                    digits.push(b - b'0');
                }
                if point {
                    exponent -= 1;
                }
            }
            b'.' if !point => point = true,
            _ => break,
        }
        i += 1;
    }
    if !seen {
        return None;
    }
    if i < bytes.len() {
        if bytes[i] | 0x20 != b'e' {
            return None;
        }
        i += 1;
        let minus = bytes.get(i) == Some(&b'-');
        if matches!(bytes.get(i), Some(b'-') | Some(b'+')) {
            i += 1;
        }
        if i == bytes.len() {
            return None;
        }
        let mut power: i64 = 0;
        for &b in &bytes[i..] {
            if !b.is_ascii_digit() {
                return None;
            }
            power = (power * 10 + i64::from(b - b'0')).min(1 << 40);
        }
        exponent += if minus { -power } else { power };
    }
    Some((negative, digits, exponent))
}

/// The digits of 2^1024 - 2^970, halfway between `f64::MAX` and 2^1024: a value below it is
/// finite as a float64, one at or above it rounds (to even) to infinity.
const F64_LIMIT: &[u8] = b"179769313486231580793728971405303415079934132710037826936173778980444\
968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908\
902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074\
168444365510704342711559699508093042880177904174497792";

/// Whether `number`, a JSON number, is finite as a float64 (`false` when it is not one).
pub fn finite_f64(number: &str) -> bool {
    let (digits, exponent) = match parts(number) {
        Some((_, digits, exponent)) => (digits, exponent),
        None => return false,
    };
    // The value is 0.d1d2... times 10^magnitude; the limit's is 309.
    let magnitude = digits.len() as i64 + exponent;
    if digits.is_empty() || magnitude < F64_LIMIT.len() as i64 {
        return true;
    }
    if magnitude > F64_LIMIT.len() as i64 {
        return false;
    }
    let mut digits = digits.iter();
    for &limit in F64_LIMIT {
        match digits.next() {
            Some(&d) if d == limit - b'0' => {}
            Some(&d) => return d < limit - b'0',
            None => return true,
        }
    }
    false
}

/// Powers of ten that a float64 holds exactly.
const POWERS: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `number`, a JSON number, as the nearest float32 (ties to even; infinite past the largest),
/// as `str::parse::<f32>` gives it; `None` when it is not a JSON number.
pub fn parse_f32(number: &str) -> Option<f32> {
    let (negative, digits, exponent) = parts(number)?;
    let value = magnitude_f32(&digits, exponent);
    Some(if negative { -value } else { value })
}

fn magnitude_f32(digits: &[u8], exponent: i64) -> f32 {
    if digits.is_empty() {
        return 0.0;
    }
    let magnitude = digits.len() as i64 + exponent;
    if magnitude > 40 {
        return f32::INFINITY;
    }
    if magnitude < -46 {
        return 0.0; // below 10^-46, under half the least float32 (1.4e-45)
    }
    // Quick: digits and power of ten exact in a float64, one rounding to a float64, which
    // rounds to the same float32 as the number unless it is halfway between two float32s.
    if digits.len() <= 15 && (-22..=22).contains(&exponent) {
        let mantissa = digits.iter().fold(0u64, |m, &d| m * 10 + u64::from(d));
        let power = POWERS[exponent.unsigned_abs() as usize];
        let value = if exponent < 0 {
            mantissa as f64 / power
        } else {
            mantissa as f64 * power
        };
        if value.to_bits() & 0x1fff_ffff != 0x1000_0000 {
            return value as f32;
        }
    }
    // Exact: the number as a fraction of big integers, divided into 25 to 27 bits and a
    // remainder, then rounded once.
    let mut numerator = Big(vec![0]);
    for &d in digits {
        numerator.mul_add(10, u32::from(d));
    }
    let mut denominator = Big(vec![1]);
    for _ in 0..exponent.unsigned_abs() {
        let big = if exponent < 0 {
            &mut denominator
        } else {
            &mut numerator
        };
        big.mul_add(10, 0);
    }
    let mut shift = numerator.bits() as i64 - denominator.bits() as i64 - 26;
    if shift > 0 {
        denominator.shl(shift as usize);
    } else {
        numerator.shl((-shift) as usize);
    }
    let mut quotient: u64 = 0;
    for bit in (0..=26).rev() {
        let mut part = denominator.clone();
        part.shl(bit);
        if !numerator.less_than(&part) {
            numerator.sub(&part);
            quotient |= 1 << bit;
        }
    }
    let inexact = !numerator.is_zero();
    // value = (quotient + a fraction, nonzero when inexact) * 2^shift; keep 24 bits, or
    // fewer below the least normal float32 (2^-126), whose last bit is 2^-149.
    let length = 64 - i64::from(quotient.leading_zeros());
    let drop = if length - 1 + shift >= -126 {
        length - 24
    } else {
        -149 - shift
    };
    if drop >= 64 {
        return 0.0;
    }
    let kept = quotient >> drop;
    let rest = quotient & ((1u64 << drop) - 1);
    let half = 1u64 << (drop - 1);
    let up = rest > half || (rest == half && (inexact || kept & 1 == 1));
    let kept = kept + u64::from(up);
    shift += drop;
    // kept < 2^25 and 2^shift are exact in a float64, and so is their product, which is
    // then a float32 or past the largest one.
    (kept as f64 * f64::from_bits(((shift + 1023) as u64) << 52)) as f32
}

/// A big unsigned integer, 32 bits a limb, least significant first.
#[derive(Clone)]
struct Big(Vec<u32>);

impl Big {
    fn mul_add(&mut self, factor: u32, add: u32) {
        let mut carry = u64::from(add);
        for limb in &mut self.0 {
            let product = u64::from(*limb) * u64::from(factor) + carry;
            *limb = product as u32;
            carry = product >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }

    fn bits(&self) -> usize {
        let top = self.0.iter().rposition(|&l| l != 0).map_or(0, |n| n + 1);
        match top {
            0 => 0,
            _ => top * 32 - self.0[top - 1].leading_zeros() as usize,
        }
    }

    fn shl(&mut self, by: usize) {
        let (limbs, bits) = (by / 32, by % 32);
        if bits != 0 {
            let mut carry = 0;
            for limb in &mut self.0 {
                let next = *limb >> (32 - bits);
                *limb = *limb << bits | carry;
                carry = next;
            }
            if carry != 0 {
                self.0.push(carry);
            }
        }
        self.0.splice(0..0, std::iter::repeat(0).take(limbs));
    }

    fn less_than(&self, other: &Big) -> bool {
        let length = self.0.len().max(other.0.len());
        for i in (0..length).rev() {
            let (a, b) = (
                self.0.get(i).copied().unwrap_or(0),
                other.0.get(i).copied().unwrap_or(0),
            );
            if a != b {
                return a < b;
            }
        }
        false
    }

    /// `self - other`, `other` not being larger.
    fn sub(&mut self, other: &Big) {
        let mut borrow = 0i64;
        for i in 0..self.0.len() {
            let value =
                i64::from(self.0[i]) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
            borrow = i64::from(value < 0);
            self.0[i] = (value + (borrow << 32)) as u32;
        }
    }

    fn is_zero(&self) -> bool {
        self.0.iter().all(|&l| l == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) {
        let expected: f32 = text.parse().unwrap();
        let got = parse_f32(text).unwrap();
        assert_eq!(got.to_bits(), expected.to_bits(), "{}", text);
        let finite = text.parse::<f64>().unwrap().is_finite();
        assert_eq!(finite_f64(text), finite, "{}", text);
    }

    #[test]
    fn rounds_as_parse_does() {
        for text in [
            "0",
            "-0",
            "1",
            "-1",
            "0.5",
            "1.5",
            "3.4028235e38",
            "3.4028236e38",
            "3.40282357e38",
            "3.4028234663852886e38",
            "3.4028235677973366e38",
            "3.4028235677973367e38",
            "1e39",
            "1e-45",
            "7e-46",
            "7.006e-46",
            "7.0064923216240862e-46",
            "7.0064923216240861e-46",
            "1.401298464324817e-45",
            "2.1019476964872256e-45",
            "1.1754942e-38",
            "1.1754943e-38",
            "1.17549435e-38",
            "1e-38",
            "-0.006929283495992422",
            "0.1",
            "0.2",
            "0.3",
            "16777217",
            "16777217.000000001",
            "16777219",
            "1e22",
            "1e23",
            "9007199254740993",
            "123456789012345678901234567890",
            "1e-50",
            "1e300",
            "1e308",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.7976931348623159e308",
            "1e309",
            "-1E400",
            "2e400",
            "0.000000000000000000000000000000000000000000001",
            "1.00000005960464477539062499",
            "1.000000059604644775390625",
            "1.00000005960464477539062501",
            "1.0000001788139343",
            "1.00000017881393432617187500",
            "0e99999999999999",
            "1e-99999999999999",
            "1e99999999999999",
        ] {
            check(text);
        }
        let limit = format!("0.{}e309", std::str::from_utf8(F64_LIMIT).unwrap());
        check(&limit);
        check(&format!(
            "0.{}1e309",
            std::str::from_utf8(F64_LIMIT).unwrap()
        ));
        let below = format!("{}e309", &limit[..limit.len() - 5]);
        check(&below);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..40_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let bits = (state >> 32) as u32;
            let value = f32::from_bits(bits);
            if value.is_finite() {
                check(&format!("{}", value));
                check(&format!("{:e}", value));
                check(&format!("{}", f64::from(value)));
                check(&format!("{:e}", f64::from(value)));
                check(&format!("{:.3e}", value));
            }
            let midpoint = f64::from_bits(f64::from(value).to_bits() + (1 << 28));
            if midpoint.is_finite() {
                check(&format!("{:e}", midpoint));
                check(&format!("{:.12e}", midpoint));
            }
        }
    }

    #[test]
    fn refuses_what_is_no_number() {
        for text in ["", "-", "e5", "1e", "1e+", "1x", "1.2.3"] {
            assert_eq!(parse_f32(text), None, "{}", text);
            assert!(!finite_f64(text), "{}", text);
        }
    }
}
