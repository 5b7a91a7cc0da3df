//! Attribute text: which encoding a shapefile's .dbf or a CSV is in. Chinese offices save GBK
//! (Windows code page 936) without saying so; GIS tools write UTF-8. What a source declares is
//! used (`--encoding`, a .cpg, the .dbf's language driver byte); when nothing is declared UTF-8 is
//! tried, then GB18030 (a superset of GBK), and the report says which was used. Text that decodes
//! but reads as mojibake (rare or traditional characters, private-use code points, Cyrillic among
//! hanzi) is refused when another encoding reads it cleanly, naming that encoding.

use crate::error::ImportError;
use encoding_rs::Encoding;
use std::collections::HashMap;
use std::path::Path;

/// A text encoding by the names .cpg files and people use ("GBK", "CP936", "936", "UTF-8", …).
pub fn encoding_by_name(name: &str) -> Option<&'static Encoding> {
    let n = name.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
    match n.as_str() {
        // encoding_rs knows the WHATWG labels; code-page numbers are what Esri and GDAL write.
        "936" | "cp936" | "ms936" | "windows-936" | "gb18030" | "54936" => {
            Some(if n.contains("18030") || n == "54936" {
                encoding_rs::GB18030
            } else {
                encoding_rs::GBK
            })
        }
        "65001" | "utf8" | "utf-8" => Some(encoding_rs::UTF_8),
        "950" | "cp950" | "big5" => Some(encoding_rs::BIG5),
        "1252" | "cp1252" | "latin1" | "iso-8859-1" | "8859-1" | "88591" => Some(encoding_rs::WINDOWS_1252),
        _ => Encoding::for_label(n.as_bytes()),
    }
}

/// Tried in order when a source declares nothing: GIS tools write UTF-8, Chinese Windows GBK
/// (GB18030 decodes GBK identically and more besides).
pub const DETECTED: [&Encoding; 2] = [encoding_rs::UTF_8, encoding_rs::GB18030];

/// Also tried when text decodes as garbage, to name the encoding that reads it cleanly.
const ALTERNATIVES: [&Encoding; 3] = [encoding_rs::UTF_8, encoding_rs::GB18030, encoding_rs::BIG5];

/// How people name an encoding on the command line.
pub fn flag_name(enc: &'static Encoding) -> &'static str {
    if enc == encoding_rs::GB18030 || enc == encoding_rs::GBK {
        "gbk"
    } else if enc == encoding_rs::UTF_8 {
        "utf-8"
    } else if enc == encoding_rs::BIG5 {
        "big5"
    } else {
        enc.name()
    }
}

/// `bytes` in `enc`, or None if any byte sequence is not valid in it (never U+FFFD).
pub fn decode(bytes: &[u8], enc: &'static Encoding) -> Option<String> {
    enc.decode_without_bom_handling_and_without_replacement(bytes)
        .map(|c| c.into_owned())
}

/// Where the first byte sequence not valid in `enc` starts, if any.
pub fn first_invalid(bytes: &[u8], enc: &'static Encoding) -> Option<usize> {
    let mut decoder = enc.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(
        decoder
            .max_utf8_buffer_length_without_replacement(bytes.len())
            .unwrap_or(bytes.len() * 3),
    );
    match decoder.decode_to_string_without_replacement(bytes, &mut out, true) {
        (encoding_rs::DecoderResult::Malformed(bad, extra), read) => {
            Some(read.saturating_sub(usize::from(bad) + usize::from(extra)))
        }
        _ => None,
    }
}

/// What a source says about its encoding.
#[derive(Debug, Clone)]
pub enum Choice {
    /// `--encoding`.
    Given(&'static Encoding),
    /// A .cpg or the .dbf's language driver byte; the text says which.
    Declared(&'static Encoding, String),
    /// Nothing: detect.
    Detect,
}

/// Text decoded, the encoding used, how it was decided (for the report) and any warning.
#[derive(Debug)]
pub struct Chosen<T> {
    pub value: T,
    pub encoding: &'static Encoding,
    pub how: String,
    pub warning: Option<String>,
}

/// Values that read as mojibake: how many of those with any non-ASCII text, and the first.
#[derive(Debug, Clone, PartialEq)]
pub struct Garbled {
    pub values: usize,
    pub garbled: usize,
    /// Index (into the texts given) and text of the first garbled value.
    pub example: (usize, String),
}

/// Decodes a source's text with the encoding it declares, or detects one; refuses text that
/// reads as mojibake when another encoding reads it cleanly. `decode(enc)` reads the whole
/// source in `enc` (Err: where the first invalid bytes are); `texts` lists its text values, in
/// the same order whatever the encoding.
pub fn choose<T>(
    file: &Path,
    choice: Choice,
    decode: impl Fn(&'static Encoding) -> Result<T, String>,
    texts: impl Fn(&T) -> Vec<String>,
) -> Result<Chosen<T>, ImportError> {
    let unusable = |message: String| ImportError::Unusable {
        file: file.to_path_buf(),
        message,
    };
    // Another encoding that reads the source and whose text looks like text: (encoding, texts).
    let cleaner = |not: &'static Encoding| -> Option<(&'static Encoding, Vec<String>)> {
        ALTERNATIVES
            .into_iter()
            .filter(|&e| e != not && !(not == encoding_rs::GBK && e == encoding_rs::GB18030))
            .find_map(|e| {
                let t = texts(&decode(e).ok()?);
                garbled(&t).is_none().then_some((e, t))
            })
    };
    let (enc, how) = match choice {
        Choice::Detect => {
            let mut first_garbled: Option<(T, &'static Encoding, Garbled)> = None;
            let mut failure = None;
            for enc in DETECTED {
                match decode(enc) {
                    Ok(v) => match garbled(&texts(&v)) {
                        None => {
                            let how = if enc == encoding_rs::UTF_8 {
                                "UTF-8 (detected: nothing declares an encoding)".to_string()
                            } else {
                                "GBK/GB18030 (detected: not valid UTF-8, nothing declares an encoding; give --encoding otherwise)".to_string()
                            };
                            return Ok(Chosen {
                                value: v,
                                encoding: enc,
                                how,
                                warning: None,
                            });
                        }
                        Some(g) => {
                            if first_garbled.is_none() {
                                first_garbled = Some((v, enc, g));
                            }
                        }
                    },
                    Err(e) => {
                        failure.get_or_insert(e);
                    }
                }
            }
            return match first_garbled {
                Some((value, enc, g)) => Ok(Chosen {
                    value,
                    encoding: enc,
                    how: format!("{} (detected: nothing declares an encoding)", label(enc)),
                    warning: Some(format!(
                        "{}; if it is garbled, give the right --encoding (big5, utf-8, gbk, …)",
                        describe(&g, enc, "detected")
                    )),
                }),
                None => Err(unusable(format!(
                    "attribute text is neither UTF-8 nor GBK/GB18030 ({}); give its encoding with --encoding (e.g. big5, windows-1252)",
                    failure.unwrap_or_default()
                ))),
            };
        }
        Choice::Given(enc) => (enc, format!("{} (--encoding)", label(enc))),
        Choice::Declared(enc, how) => (enc, how),
    };
    match decode(enc) {
        Err(e) => Err(unusable(match cleaner(enc) {
            Some((alt, t)) => format!(
                "attribute text is not valid {} as {how} says ({e}); it reads cleanly as {}{}: give --encoding {}",
                label(enc),
                label(alt),
                t.iter()
                    .find(|t| !t.is_ascii())
                    .map(|t| format!(" (e.g. {t:?})"))
                    .unwrap_or_default(),
                flag_name(alt)
            ),
            None => format!(
                "attribute text is not valid {} as {how} says ({e}); give the right --encoding",
                label(enc)
            ),
        })),
        Ok(value) => {
            let Some(g) = garbled(&texts(&value)) else {
                return Ok(Chosen {
                    value,
                    encoding: enc,
                    how,
                    warning: None,
                });
            };
            match cleaner(enc) {
                Some((alt, t)) => Err(unusable(format!(
                    "{}; read as {} it gives {:?}: give --encoding {}",
                    describe(&g, enc, &how),
                    label(alt),
                    t.get(g.example.0).cloned().unwrap_or_default(),
                    flag_name(alt)
                ))),
                None => {
                    let warning = Some(format!(
                        "{}; no other encoding reads it better, so it is kept: check it, or give the right --encoding",
                        describe(&g, enc, &how)
                    ));
                    Ok(Chosen {
                        value,
                        encoding: enc,
                        how,
                        warning,
                    })
                }
            }
        }
    }
}

fn describe(g: &Garbled, enc: &'static Encoding, how: &str) -> String {
    let how = how.strip_prefix(&format!("{} ", label(enc))).unwrap_or(how);
    format!(
        "decoded as {} {how}, {} of {} text values look garbled (rare or traditional characters, private-use code points, letters of other scripts), e.g. {:?}",
        label(enc),
        g.garbled,
        g.values,
        g.example.1
    )
}

/// An encoding as the report names it (GBK and GB18030 read GBK text alike).
fn label(enc: &'static Encoding) -> &'static str {
    if enc == encoding_rs::GB18030 || enc == encoding_rs::GBK {
        "GBK/GB18030"
    } else {
        enc.name()
    }
}

/// Whether text reads as mojibake: at least a fifth of the values holding non-ASCII text have a
/// third or more implausible characters. Legitimate rare characters in a few place names stay
/// below that; text decoded in the wrong CJK code page is mostly implausible.
pub fn garbled(texts: &[String]) -> Option<Garbled> {
    let mut common: HashMap<char, bool> = HashMap::new();
    let (mut values, mut bad, mut example) = (0, 0, None);
    // A sample is enough to tell, and keeps a city's attribute table quick.
    for (i, t) in texts.iter().enumerate().filter(|(_, t)| !t.is_ascii()).take(5_000) {
        values += 1;
        let has_cjk = t.chars().any(is_cjk);
        let (mut non_ascii, mut odd) = (0usize, 0usize);
        for c in t.chars().filter(|c| !c.is_ascii()) {
            non_ascii += 1;
            if implausible(c, has_cjk, &mut common) {
                odd += 1;
            }
        }
        if odd * 3 >= non_ascii && odd > 0 {
            bad += 1;
            example.get_or_insert((i, t.clone()));
        }
    }
    (bad > 0 && bad * 5 >= values).then(|| Garbled {
        values,
        garbled: bad,
        example: example.unwrap_or_default(),
    })
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

fn implausible(c: char, among_cjk: bool, common: &mut HashMap<char, bool>) -> bool {
    match c as u32 {
        // C1 controls: bytes read in the wrong single-byte code page.
        0x80..=0x9F => true,
        // Private use: the user-defined areas of GBK and Big5.
        0xE000..=0xF8FF | 0xFFFD => true,
        // Box drawing and blocks: DOS code page art, never in an address.
        0x2500..=0x259F => true,
        // Hangul, half-width katakana: Korean or Japanese code pages read as Chinese or back.
        0xAC00..=0xD7AF | 0xFF61..=0xFF9F => true,
        // Greek and Cyrillic sit in GBK and Big5 both: among hanzi they are a misread.
        0x0370..=0x04FF => among_cjk,
        _ if is_cjk(c) => !*common.entry(c).or_insert_with(|| gb2312_hanzi(c)),
        _ => false,
    }
}

/// One of the 6,763 hanzi of GB 2312: the simplified characters of everyday text. Traditional
/// and rare characters (GBK's extension, CJK Extension A and beyond) are not.
fn gb2312_hanzi(c: char) -> bool {
    let mut buf = [0u8; 4];
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(c.encode_utf8(&mut buf));
    !unmappable && bytes.len() == 2 && (0xB0..=0xF7).contains(&bytes[0]) && (0xA1..=0xFE).contains(&bytes[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn chinese_addresses_look_like_text() {
        assert_eq!(
            garbled(&texts(&[
                "湖里区康乐社区嘉禾公寓1号楼",
                "嘉禾公寓",
                "Kangle Rd 1",
                "塘边社区"
            ])),
            None
        );
    }

    #[test]
    fn gbk_read_as_big5_looks_garbled() {
        let (gbk, _, _) = encoding_rs::GBK.encode("湖里区康乐社区嘉禾公寓1号楼");
        let (as_big5, _, _) = encoding_rs::BIG5.decode(&gbk);
        let g = garbled(&texts(&[&as_big5])).expect("mojibake");
        assert_eq!((g.values, g.garbled), (1, 1));
    }

    #[test]
    fn a_rare_character_in_a_name_is_not_mojibake() {
        // 垟 is in GBK but not GB 2312: one of five characters.
        assert_eq!(garbled(&texts(&["东垟村委会"])), None);
    }

    #[test]
    fn detection_says_which_encoding_and_a_wrong_one_names_the_right_one() {
        let (gbk, _, _) = encoding_rs::GBK.encode("湖里区康乐社区");
        let bytes = gbk.into_owned();
        let read = |enc: &'static Encoding| decode(&bytes, enc).ok_or_else(|| "invalid".to_string());
        let list = |s: &String| vec![s.clone()];
        let c = choose(Path::new("x.csv"), Choice::Detect, read, list).unwrap();
        assert_eq!(c.value, "湖里区康乐社区");
        assert!(c.how.starts_with("GBK/GB18030 (detected"), "{}", c.how);
        let e = choose(Path::new("x.csv"), Choice::Given(encoding_rs::BIG5), read, list)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--encoding gbk") && e.contains("湖里区康乐社区"), "{e}");
    }
}
