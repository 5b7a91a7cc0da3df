//! Address text as people type it, made comparable: full-width → half-width, no spaces or
//! punctuation, Chinese numerals → Arabic (三号楼 = 3号楼, 十二栋 = 12栋, 三〇一 = 301).
//!
//! The same function is applied to the dataset's addresses and to the question, so a name that
//! happens to hold a numeral (第一医院宿舍, 三期) is changed the same way on both sides.

/// Normalises address text; see the module doc.
pub fn normalize(s: &str) -> String {
    let mut plain = String::with_capacity(s.len());
    for ch in s.chars() {
        let ch = half_width(ch);
        if ch.is_whitespace() || is_dropped_punct(ch) {
            continue;
        }
        plain.push(ch.to_ascii_lowercase());
    }
    arabic_numerals(&plain)
}

fn half_width(ch: char) -> char {
    match ch {
        // The full-width forms of ASCII (！ to ～) sit at a fixed offset from it.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(ch as u32 - 0xFEE0).unwrap_or(ch),
        '\u{3000}' => ' ',
        // Dashes people use between building, unit and room (3－2－301, 3—2—301).
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' => '-',
        _ => ch,
    }
}

fn is_dropped_punct(ch: char) -> bool {
    matches!(
        ch,
        ',' | '.'
            | '，'
            | '。'
            | '、'
            | '·'
            | '•'
            | '('
            | ')'
            | '（'
            | '）'
            | '['
            | ']'
            | '【'
            | '】'
            | '"'
            | '\''
            | '“'
            | '”'
            | ':'
            | ';'
            | '：'
            | '；'
            | '/'
            | '\\'
    )
}

fn digit(ch: char) -> Option<u64> {
    Some(match ch {
        '〇' | '零' | '○' => 0,
        '一' => 1,
        '二' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

fn multiplier(ch: char) -> Option<u64> {
    Some(match ch {
        '十' => 10,
        '百' => 100,
        '千' => 1000,
        _ => return None,
    })
}

/// Replaces each run of Chinese numerals with its value in Arabic digits: positional when it
/// holds 十/百/千 (二十一 = 21, 一百零三 = 103, 十二 = 12), else digit by digit (三〇一 = 301).
fn arabic_numerals(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let is_num = |c: char| digit(c).is_some() || multiplier(c).is_some();
        if !is_num(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_num(chars[i]) {
            i += 1;
        }
        let run = &chars[start..i];
        match value(run) {
            Some(v) => out.push_str(&v),
            None => out.extend(run),
        }
    }
    out
}

fn value(run: &[char]) -> Option<String> {
    if run.iter().all(|&c| digit(c).is_some()) {
        return Some(
            run.iter()
                .filter_map(|&c| digit(c))
                .map(|d| char::from(b'0' + d as u8))
                .collect(),
        );
    }
    // Positional: sum of (digit × multiplier); a bare multiplier means one of it (十二 = 12).
    let mut total = 0u64;
    let mut pending: Option<u64> = None;
    let mut last_mult = u64::MAX;
    for &c in run {
        if let Some(d) = digit(c) {
            if pending.is_some() && d != 0 {
                return None; // 二三十: not a number, leave the text alone
            }
            pending = if d == 0 { None } else { Some(d) };
        } else if let Some(m) = multiplier(c) {
            if m >= last_mult {
                return None; // 十百: malformed
            }
            total += pending.take().unwrap_or(1) * m;
            last_mult = m;
        }
    }
    total += pending.unwrap_or(0);
    Some(total.to_string())
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn numerals_width_and_spaces() {
        assert_eq!(normalize("三号楼"), "3号楼");
        assert_eq!(normalize("十二栋"), "12栋");
        assert_eq!(normalize("二十一幢"), "21幢");
        assert_eq!(normalize("一百零三室"), "103室");
        assert_eq!(normalize("三〇一室"), "301室");
        assert_eq!(normalize("十号楼"), "10号楼");
        assert_eq!(normalize("３号楼 ２单元"), "3号楼2单元");
        assert_eq!(normalize("Ａ座"), "a座");
        assert_eq!(normalize("康乐社区　嘉禾公寓"), "康乐社区嘉禾公寓");
        assert_eq!(normalize("3－2－301"), "3-2-301");
        assert_eq!(normalize("第一医院宿舍"), "第1医院宿舍");
    }
}
