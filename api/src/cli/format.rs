//! Numbers for people: thousands separators and sensible precision.

/// 9241 → "9,241".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
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

/// A self-check's verdict for people: one line when clean, else what failed with the worst cuts
/// by area. Slivers (a building touching a second grid by under the tolerance) are counted.
pub fn verification(v: &gis_core::partition::Verification, what: &str) -> String {
    let slivers = match v.sliver_cuts {
        0 => String::new(),
        n => format!(
            " ({} touching a second grid by under {} m², counted as slivers)",
            count(n as u64, "building"),
            gis_core::cut::CUT_TOLERANCE_M2
        ),
    };
    if v.is_clean() {
        return format!(
            "Checked {what}: one exact coverage (shared edges have identical vertices), no building cut{slivers}.\n"
        );
    }
    let mut worst: Vec<&gis_core::cut::CutBuilding> = v.cuts.iter().collect();
    worst.sort_by(|a, b| b.outside_m2.total_cmp(&a.outside_m2).then(a.building.cmp(&b.building)));
    let cuts: Vec<String> = worst
        .iter()
        .take(5)
        .map(|c| {
            format!(
                "{} {:.1} m² ({:.0}%) in {}",
                c.building,
                c.outside_m2,
                c.share * 100.0,
                c.grids[1..].join("+")
            )
        })
        .collect();
    let mut out = format!(
        "CHECK FAILED for {what}: {} buildings cut{}{}, {} edges used wrongly, {} edges unmatched across a shared line, {} invalid grids{}",
        v.buildings_cut.len(),
        if cuts.is_empty() {
            String::new()
        } else {
            format!(" ({})", cuts.join(", "))
        },
        slivers,
        v.bad_shared_edges,
        v.unmatched_edges,
        v.invalid_grids.len(),
        v.invalid_grids
            .iter()
            .take(5)
            .map(|g| format!(" ({}: {})", g.code, g.reason))
            .collect::<String>()
    );
    out.push_str(".\n");
    out
}

/// A report's life-circle section for people: per grid (per community past 200 grids), the
/// share of residents within the circle of each kind.
pub fn access(a: &gis_core::access::AccessSection) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let circles: Vec<String> = a
        .circles
        .iter()
        .map(|c| {
            let kinds: Vec<&str> = a
                .kinds
                .iter()
                .filter(|(_, m)| **m == c.minutes)
                .map(|(k, _)| k.as_str())
                .collect();
            format!(
                "{} min ≤ {} m: {}",
                c.minutes,
                thousands(c.metres.round() as u64),
                if kinds.is_empty() {
                    "-".to_string()
                } else {
                    kinds.join(", ")
                }
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "\nLife circles (walking at {} m/min): share of residents within each kind's circle\n  {}",
        a.speed_m_per_min,
        circles.join("; ")
    );
    if !a.kinds_without_places.is_empty() {
        let _ = writeln!(out, "  no place in the dataset: {}", a.kinds_without_places.join(", "));
    }
    let (areas, what) = if a.grids.len() <= 200 && !a.grids.is_empty() {
        (&a.grids, "grid")
    } else {
        (&a.communities, "community")
    };
    let kinds: Vec<&String> = a.kinds.keys().collect();
    let code_w = areas.iter().map(|g| g.code.len()).max().unwrap_or(0).max(what.len());
    let _ = write!(out, "{what:<code_w$}  {:>9}", "residents");
    for k in &kinds {
        let _ = write!(out, "  {k:>w$}", w = k.len().max(4));
    }
    out.push('\n');
    for g in areas {
        let _ = write!(out, "{:<code_w$}  {:>9}", g.code, thousands(g.residents));
        for k in &kinds {
            let share = match g.covered.get(*k).copied().flatten() {
                Some(s) => format!("{:.0}%", s * 100.0),
                None => "-".into(),
            };
            let _ = write!(out, "  {share:>w$}", w = k.len().max(4));
        }
        out.push('\n');
    }
    if what == "community" && !a.grids.is_empty() {
        let _ = writeln!(out, "(per grid in --json: {} grids)", thousands(a.grids.len() as u64));
    }
    out
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
