//! Where the features of a FeatureCollection text begin and end, found by a scan of its brackets
//! and strings without parsing anything, so that the features can be parsed on several cores.
//!
//! The scan validates nothing: the streaming reader parses each feature's range as exactly one
//! JSON value and the rest of the file (the features array emptied) as the collection, and on any
//! failure reads the file as one sequence instead. Where every part parses, the whole text is
//! JSON of the same values, since the ranges are separated by the array's own commas.

use std::ops::Range;

/// A FeatureCollection text cut at its `features` array.
pub(crate) struct Split {
    /// The text with the array emptied (`[]`): the collection's other members, in place.
    pub envelope: String,
    /// Each element of the array, as a byte range of the text (whitespace around it included).
    pub features: Vec<Range<usize>>,
}

/// The first member named plainly `features` of the root object, when it is an array; None when
/// there is none (an escaped name, say), or the text ends first.
pub(crate) fn split(text: &str) -> Option<Split> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let end = string_end(bytes, i)?;
                if depth == 1 && &bytes[i..end] == b"\"features\"" {
                    let colon = skip_ws(bytes, end);
                    if bytes.get(colon) == Some(&b':') {
                        let open = skip_ws(bytes, colon + 1);
                        if bytes.get(open) != Some(&b'[') {
                            return None;
                        }
                        let (features, close) = elements(bytes, open)?;
                        let mut envelope = String::with_capacity(text.len() - (close - open) + 1);
                        envelope.push_str(&text[..open]);
                        envelope.push_str("[]");
                        envelope.push_str(&text[close + 1..]);
                        return Some(Split { envelope, features });
                    }
                }
                i = end;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.checked_sub(1)?,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Deepest nesting taken inside one feature: far beyond any GeoJSON feature, and well within
/// the parser's own limit, which a feature parsed alone would otherwise meet later than one
/// parsed inside its collection.
const MAX_DEPTH: usize = 64;

/// The element ranges of the array opening at `open`, and the index of its closing bracket.
fn elements(bytes: &[u8], open: usize) -> Option<(Vec<Range<usize>>, usize)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = open + 1;
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i)?;
                continue;
            }
            b'{' | b'[' if depth < MAX_DEPTH => depth += 1,
            b'{' | b'[' => return None,
            b'}' | b']' if depth > 0 => depth -= 1,
            b']' => {
                // `[ ]` has no element; `[a, ]` has an empty last one, which fails to parse.
                if !(out.is_empty() && bytes[start..i].iter().all(u8::is_ascii_whitespace)) {
                    out.push(start..i);
                }
                return Some((out, i));
            }
            b'}' => return None,
            b',' if depth == 0 => {
                out.push(start..i);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index just past the string opening at `open`; a backslash escapes the byte after it
/// (bytes of a multi-byte character are never a quote or a backslash).
fn string_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        i += memchr::memchr2(b'"', b'\\', bytes.get(i..)?)?;
        if bytes[i] == b'"' {
            return Some(i + 1);
        }
        i += 2;
    }
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> Option<(String, Vec<&str>)> {
        let s = split(text)?;
        Some((s.envelope, s.features.into_iter().map(|r| &text[r]).collect()))
    }

    #[test]
    fn cuts_at_the_root_features_array() {
        let text = r#"{"type":"FeatureCollection","name":"features","crs":{"features":[1]},"features": [ {"a":"]\"[,"} ,{"b":[1,{}]}],"x":2}"#;
        let (envelope, features) = parts(text).expect("split");
        assert_eq!(
            envelope,
            r#"{"type":"FeatureCollection","name":"features","crs":{"features":[1]},"features": [],"x":2}"#
        );
        assert_eq!(features, vec![r#" {"a":"]\"[,"} "#, r#"{"b":[1,{}]}"#]);
    }

    #[test]
    fn empty_arrays_and_trailing_commas() {
        assert_eq!(parts(r#"{"features":[ ]}"#).expect("split").1, Vec::<&str>::new());
        assert_eq!(parts(r#"{"features":[1,]}"#).expect("split").1, vec!["1", ""]);
    }

    #[test]
    fn leaves_what_it_cannot_see_plainly() {
        assert!(parts(r#"{"feat\u0075res":[1]}"#).is_none());
        assert!(parts(r#"{"features":{}}"#).is_none());
        assert!(parts(r#"{"features":[1,"#).is_none());
        assert!(parts(r#"{"features":[{"a":"unterminated]}"#).is_none());
        assert!(parts(r#"{"features":[}]}"#).is_none());
        assert!(parts("").is_none());
        let deep = format!(
            "{{\"features\":[{}{}]}}",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert!(parts(&deep).is_none());
    }
}
