//! Numbers for people: thousands separators and sensible precision.

/// 9241 → "9,241".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Areas and lengths: two decimals below 10, one below 100, none above.
pub fn decimal(x: f64) -> String {
    match x.abs() {
        v if v < 10.0 => format!("{x:.2}"),
        v if v < 100.0 => format!("{x:.1}"),
        _ => thousands(x.round() as u64),
    }
}

/// "1 compound", "2 compounds", with thousands separators.
pub fn count(n: u64, noun: &str) -> String {
    format!("{} {noun}{}", thousands(n), if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(9241), "9,241");
        assert_eq!(thousands(10_000_000), "10,000,000");
        assert_eq!(decimal(0.523), "0.52");
        assert_eq!(decimal(17_668.4), "17,668");
    }
}
