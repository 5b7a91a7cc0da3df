//! The unified code scheme (统一编码): how a grid's code is built from its community's code and a
//! sequence number, and how a code is read back and checked.
//!
//! The default is Beijing's DB11/T 2157-2023: the 12-digit community code followed by a 3-digit
//! grid sequence, 15 digits in all. Exclusive grids (专属网格) are told apart by a reserved
//! sequence range: basic grids take 001–899, exclusive grids 901–999 (900 is never issued, so a
//! glance at the sequence tells the kind). A micro-grid (微网格) is its grid's code followed by a
//! 2-digit sequence, 01–99.
//!
//! Other places use other layouts, so the scheme is a setting: a small JSON description of its
//! segments, e.g. a literal prefix before the community code.

use crate::grid::GridKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One piece of a grid code, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    /// Fixed text, e.g. an object-class prefix.
    Literal(String),
    /// The community's 12-digit code.
    Community,
    /// The grid's sequence number in its community, zero-padded to this many digits.
    Sequence(u8),
}

/// An inclusive range of sequence numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeqRange {
    pub first: u32,
    pub last: u32,
}

impl SeqRange {
    pub fn contains(&self, seq: u32) -> bool {
        (self.first..=self.last).contains(&seq)
    }
}

impl fmt::Display for SeqRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{}", self.first, self.last)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeScheme {
    /// What the scheme is called, for reports.
    pub name: String,
    pub segments: Vec<Segment>,
    /// Sequence numbers of basic grids (基础网格).
    pub basic: SeqRange,
    /// Sequence numbers of exclusive grids (专属网格).
    pub exclusive: SeqRange,
    /// Digits a micro-grid adds to its grid's code.
    pub micro_digits: u8,
}

impl Default for CodeScheme {
    fn default() -> Self {
        Self::db11()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemeError {
    #[error("the code scheme is not valid JSON of the expected shape: {0}")]
    Json(String),
    #[error("the code scheme needs exactly one \"community\" segment and one {{\"sequence\": N}} segment")]
    Segments,
    #[error("the sequence has {digits} digits, so it cannot hold the {what} range {range}")]
    RangeTooWide {
        what: &'static str,
        digits: u8,
        range: SeqRange,
    },
    #[error("the {what} range {range} is empty or starts at 0")]
    BadRange { what: &'static str, range: SeqRange },
    #[error("the basic range {basic} and the exclusive range {exclusive} overlap")]
    RangesOverlap { basic: SeqRange, exclusive: SeqRange },
    #[error("micro-grids need 1 to 4 digits, not {0}")]
    MicroDigits(u8),
    #[error("a literal segment must not be empty or hold digits: {0:?}")]
    Literal(String),
}

/// Why a code does not fit the scheme.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("{code:?} has {len} characters; the scheme's codes have {expected}")]
    Length { code: String, len: usize, expected: String },
    #[error("{code:?} does not start with {literal:?} where the scheme puts it")]
    Literal { code: String, literal: String },
    #[error("{code:?} has a non-digit where the scheme wants digits")]
    NotDigits { code: String },
    #[error("{code:?} has sequence {seq:03}, in neither the basic ({basic}) nor the exclusive ({exclusive}) range")]
    Sequence {
        code: String,
        seq: u32,
        basic: SeqRange,
        exclusive: SeqRange,
    },
    #[error("micro-grid {code:?} has sequence 0")]
    MicroZero { code: String },
}

/// A code read back into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCode {
    pub community: String,
    pub sequence: u32,
    /// The kind the sequence range says.
    pub kind: GridKind,
    /// The micro-grid's own sequence, when the code is a micro-grid's.
    pub micro: Option<u32>,
}

impl CodeScheme {
    /// Beijing DB11/T 2157-2023: 12-digit community code + 3-digit sequence.
    pub fn db11() -> Self {
        Self {
            name: "DB11/T 2157-2023".into(),
            segments: vec![Segment::Community, Segment::Sequence(3)],
            basic: SeqRange { first: 1, last: 899 },
            exclusive: SeqRange { first: 901, last: 999 },
            micro_digits: 2,
        }
    }

    pub fn from_json(text: &str) -> Result<Self, SchemeError> {
        let scheme: Self = serde_json::from_str(text).map_err(|e| SchemeError::Json(e.to_string()))?;
        scheme.check()?;
        Ok(scheme)
    }

    fn check(&self) -> Result<(), SchemeError> {
        let communities = self.segments.iter().filter(|s| **s == Segment::Community).count();
        let sequences: Vec<u8> = self
            .segments
            .iter()
            .filter_map(|s| if let Segment::Sequence(d) = s { Some(*d) } else { None })
            .collect();
        let [digits] = sequences[..] else {
            return Err(SchemeError::Segments);
        };
        if communities != 1 || digits == 0 || digits > 6 {
            return Err(SchemeError::Segments);
        }
        for s in &self.segments {
            if let Segment::Literal(l) = s
                && (l.is_empty() || l.bytes().any(|b| b.is_ascii_digit()))
            {
                return Err(SchemeError::Literal(l.clone()));
            }
        }
        let top = 10u32.pow(u32::from(digits)) - 1;
        for (what, range) in [("basic", self.basic), ("exclusive", self.exclusive)] {
            if range.first == 0 || range.first > range.last {
                return Err(SchemeError::BadRange { what, range });
            }
            if range.last > top {
                return Err(SchemeError::RangeTooWide { what, digits, range });
            }
        }
        if self.basic.first <= self.exclusive.last && self.exclusive.first <= self.basic.last {
            return Err(SchemeError::RangesOverlap {
                basic: self.basic,
                exclusive: self.exclusive,
            });
        }
        if !(1..=4).contains(&self.micro_digits) {
            return Err(SchemeError::MicroDigits(self.micro_digits));
        }
        Ok(())
    }

    fn sequence_digits(&self) -> usize {
        self.segments
            .iter()
            .find_map(|s| {
                if let Segment::Sequence(d) = s {
                    Some(usize::from(*d))
                } else {
                    None
                }
            })
            .unwrap_or(3)
    }

    /// Characters in a grid's code.
    pub fn grid_len(&self) -> usize {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => l.len(),
                Segment::Community => 12,
                Segment::Sequence(d) => usize::from(*d),
            })
            .sum()
    }

    /// The range a kind's sequence numbers come from.
    pub fn range(&self, kind: GridKind) -> SeqRange {
        match kind {
            GridKind::Basic => self.basic,
            GridKind::Exclusive => self.exclusive,
        }
    }

    pub fn grid_code(&self, community: &str, seq: u32) -> String {
        let mut out = String::with_capacity(self.grid_len());
        for s in &self.segments {
            match s {
                Segment::Literal(l) => out.push_str(l),
                Segment::Community => out.push_str(community),
                Segment::Sequence(d) => out.push_str(&format!("{seq:0width$}", width = usize::from(*d))),
            }
        }
        out
    }

    pub fn micro_code(&self, parent: &str, seq: u32) -> String {
        format!("{parent}{seq:0width$}", width = usize::from(self.micro_digits))
    }

    /// Reads a grid's or micro-grid's code (told apart by length).
    pub fn parse(&self, code: &str) -> Result<ParsedCode, CodeError> {
        let grid_len = self.grid_len();
        let micro_len = grid_len + usize::from(self.micro_digits);
        let len = code.chars().count();
        if len != code.len() || (len != grid_len && len != micro_len) {
            return Err(CodeError::Length {
                code: code.into(),
                len,
                expected: format!("{grid_len} (grids) or {micro_len} (micro-grids)"),
            });
        }
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let (mut at, mut community, mut sequence) = (0, String::new(), 0);
        for s in &self.segments {
            match s {
                Segment::Literal(l) => {
                    if &code[at..at + l.len()] != l {
                        return Err(CodeError::Literal {
                            code: code.into(),
                            literal: l.clone(),
                        });
                    }
                    at += l.len();
                }
                Segment::Community => {
                    let part = &code[at..at + 12];
                    if !digits(part) {
                        return Err(CodeError::NotDigits { code: code.into() });
                    }
                    community = part.to_string();
                    at += 12;
                }
                Segment::Sequence(d) => {
                    let part = &code[at..at + usize::from(*d)];
                    sequence = part
                        .parse()
                        .ok()
                        .filter(|_| digits(part))
                        .ok_or_else(|| CodeError::NotDigits { code: code.into() })?;
                    at += usize::from(*d);
                }
            }
        }
        let kind = if self.basic.contains(sequence) {
            GridKind::Basic
        } else if self.exclusive.contains(sequence) {
            GridKind::Exclusive
        } else {
            return Err(CodeError::Sequence {
                code: code.into(),
                seq: sequence,
                basic: self.basic,
                exclusive: self.exclusive,
            });
        };
        let micro = if len == micro_len {
            let part = &code[grid_len..];
            let m: u32 = part
                .parse()
                .ok()
                .filter(|_| digits(part))
                .ok_or_else(|| CodeError::NotDigits { code: code.into() })?;
            if m == 0 {
                return Err(CodeError::MicroZero { code: code.into() });
            }
            Some(m)
        } else {
            None
        };
        Ok(ParsedCode {
            community,
            sequence,
            kind,
            micro,
        })
    }

    /// The grid code a micro-grid's code starts with.
    pub fn parent_of<'c>(&self, micro_code: &'c str) -> &'c str {
        &micro_code[..self.grid_len().min(micro_code.len())]
    }

    /// Widest sequence this scheme writes, for messages.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => format!("\"{l}\""),
                Segment::Community => "community (12 digits)".into(),
                Segment::Sequence(d) => format!("sequence ({d} digits)"),
            })
            .collect();
        format!(
            "{}: {} — basic {:0w$}–{:0w$}, exclusive {:0w$}–{:0w$}; micro-grids add {} digits",
            self.name,
            parts.join(" + "),
            self.basic.first,
            self.basic.last,
            self.exclusive.first,
            self.exclusive.last,
            self.micro_digits,
            w = self.sequence_digits()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db11_codes_round_trip() {
        let s = CodeScheme::db11();
        assert_eq!(s.grid_code("320508019044", 7), "320508019044007");
        assert_eq!(s.micro_code("320508019044007", 3), "32050801904400703");
        let p = s.parse("320508019044007").unwrap();
        assert_eq!(
            (p.community.as_str(), p.sequence, p.kind, p.micro),
            ("320508019044", 7, GridKind::Basic, None)
        );
        let p = s.parse("320508019044901").unwrap();
        assert_eq!(p.kind, GridKind::Exclusive);
        let p = s.parse("32050801904400703").unwrap();
        assert_eq!((p.sequence, p.micro), (7, Some(3)));
    }

    #[test]
    fn malformed_codes_say_why() {
        let s = CodeScheme::db11();
        assert!(matches!(s.parse("32050801904400"), Err(CodeError::Length { .. })));
        assert!(matches!(s.parse("3205080190440a7"), Err(CodeError::NotDigits { .. })));
        assert!(matches!(
            s.parse("320508019044900"),
            Err(CodeError::Sequence { seq: 900, .. })
        ));
        assert!(matches!(
            s.parse("320508019044000"),
            Err(CodeError::Sequence { seq: 0, .. })
        ));
        assert!(matches!(s.parse("32050801904400700"), Err(CodeError::MicroZero { .. })));
        assert!(matches!(
            s.parse("三二０五０８０１９０４４００７"),
            Err(CodeError::Length { .. })
        ));
    }

    #[test]
    fn a_scheme_with_a_prefix_reads_from_json() {
        let s = CodeScheme::from_json(
            r#"{"name":"city","segments":[{"literal":"WG"},"community",{"sequence":4}],
                "basic":{"first":1,"last":8999},"exclusive":{"first":9001,"last":9999},"micro_digits":3}"#,
        )
        .unwrap();
        assert_eq!(s.grid_code("320508019044", 12), "WG3205080190440012");
        assert_eq!(s.parse("WG3205080190449001").unwrap().kind, GridKind::Exclusive);
        assert!(matches!(s.parse("XX3205080190440012"), Err(CodeError::Literal { .. })));
    }

    #[test]
    fn bad_schemes_are_refused() {
        let bad = |json: &str| CodeScheme::from_json(json).unwrap_err();
        let base = |segments: &str, basic: &str| {
            format!(
                r#"{{"name":"x","segments":{segments},"basic":{basic},"exclusive":{{"first":901,"last":999}},"micro_digits":2}}"#
            )
        };
        assert_eq!(
            bad(&base(r#"["community"]"#, r#"{"first":1,"last":899}"#)),
            SchemeError::Segments
        );
        assert!(matches!(
            bad(&base(r#"["community",{"sequence":2}]"#, r#"{"first":1,"last":89}"#)),
            SchemeError::RangeTooWide { .. }
        ));
        assert!(matches!(
            bad(&base(r#"["community",{"sequence":3}]"#, r#"{"first":1,"last":950}"#)),
            SchemeError::RangesOverlap { .. }
        ));
        assert!(matches!(
            bad(&base(
                r#"[{"literal":"7"},"community",{"sequence":3}]"#,
                r#"{"first":1,"last":899}"#
            )),
            SchemeError::Literal(_)
        ));
        assert!(matches!(bad("{\"name\":1}"), SchemeError::Json(_)));
    }
}
