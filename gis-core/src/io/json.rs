//! Parsing a dataset file's JSON, with one kindness: `NaN` and `Infinity`, which Python's `json`
//! writes by default and JSON forbids, are turned into strings so the geometry check can name the
//! feature and coordinate they sit in instead of only a line and column.

use serde_json::Value;

pub(crate) enum Parsed {
    Ok(Value),
    /// Parsed only after quoting non-finite literals; the values are strings `"NaN"`, ...
    NonFiniteQuoted(Value),
    Invalid(String),
}

pub(crate) fn parse(text: &str) -> Parsed {
    // Windows tools (Notepad, some Excel exports, .NET) start UTF-8 with a byte-order mark;
    // RFC 8259 lets a parser ignore it, and it says nothing about the data.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match serde_json::from_str(text) {
        Ok(v) => Parsed::Ok(v),
        Err(first) => {
            let quoted = quote_non_finite(text);
            if quoted.len() != text.len()
                && let Ok(v) = serde_json::from_str(&quoted)
            {
                return Parsed::NonFiniteQuoted(v);
            }
            Parsed::Invalid(describe(&first, text))
        }
    }
}

/// The literals that are numbers to Python and JavaScript but not to JSON.
pub(crate) const NON_FINITE: [&str; 3] = ["NaN", "Infinity", "-Infinity"];

fn describe(err: &serde_json::Error, text: &str) -> String {
    let line = text.lines().nth(err.line().saturating_sub(1)).unwrap_or("");
    let start = err.column().saturating_sub(1).min(line.len());
    let start = (0..=start).rev().find(|&i| line.is_char_boundary(i)).unwrap_or(0);
    let snippet: String = line[start..].chars().take(30).collect();
    let near = if snippet.trim().is_empty() {
        String::new()
    } else {
        format!(", near `{}`", snippet.trim_end())
    };
    format!("{err}{near}")
}

/// Wraps bare `NaN`, `Infinity` and `-Infinity` (outside strings) in quotes.
fn quote_non_finite(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 16);
    let (mut i, mut in_string, mut escaped) = (0, false, false);
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if let Some(lit) = NON_FINITE
            .iter()
            .rev() // "-Infinity" before "Infinity"
            .find(|lit| text[i..].starts_with(*lit))
        {
            out.push('"');
            out.push_str(lit);
            out.push('"');
            i += lit.len();
            continue;
        }
        // Copy whole UTF-8 sequences; multi-byte characters never start a literal.
        let len = utf8_len(b);
        out.push_str(&text[i..i + len]);
        i += len;
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_bare_literals() {
        let text = r#"{"a":[NaN,-Infinity,Infinity],"s":"NaN 单元 \" NaN"}"#;
        let Parsed::NonFiniteQuoted(v) = parse(text) else {
            panic!("expected the fallback")
        };
        assert_eq!(v["a"][0], "NaN");
        assert_eq!(v["a"][1], "-Infinity");
        assert_eq!(v["a"][2], "Infinity");
        assert_eq!(v["s"], "NaN 单元 \" NaN");
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let Parsed::Ok(v) = parse("\u{feff}{\"type\":\"FeatureCollection\",\"features\":[]}") else {
            panic!("expected the BOM to be skipped")
        };
        assert_eq!(v["type"], "FeatureCollection");
    }

    #[test]
    fn invalid_json_names_the_place() {
        let Parsed::Invalid(msg) = parse("{\n  \"type\": \"FeatureCollection\",\n  oops\n}") else {
            panic!("expected invalid")
        };
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("oops"), "{msg}");
    }
}
