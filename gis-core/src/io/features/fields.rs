//! Property values of a feature, checked against what the format says each field holds.

use super::{Feature, Props, Reader, number_text};
use crate::io::geometry::kind_of;
use crate::io::{FeatureRef, InputProblemKind};
use serde_json::Value;
use std::collections::HashMap;

impl Reader {
    pub(super) fn string(
        &mut self,
        file: &str,
        at: &FeatureRef,
        props: Props<'_>,
        key: &str,
        required: bool,
    ) -> Option<String> {
        // Written out only for a problem: this runs for every field of every feature.
        let field = || format!("properties.{key}");
        match props.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.problem(
                        file,
                        Some(at),
                        Some(&field()),
                        InputProblemKind::MissingField,
                        "missing; expected a string",
                    );
                }
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() && required => {
                self.problem(
                    file,
                    Some(at),
                    Some(&field()),
                    InputProblemKind::InvalidValue,
                    "is empty; expected a non-empty string",
                );
                None
            }
            Some(Value::String(s)) => Some(s.trim().to_string()),
            Some(other) => {
                self.problem(
                    file,
                    Some(at),
                    Some(&field()),
                    InputProblemKind::WrongType,
                    format!("expected a string, found {}", kind_of(other)),
                );
                None
            }
        }
    }

    /// A whole number ≥ `min`; 12.0 counts as whole, 12.5 and "12" do not.
    pub(super) fn count(
        &mut self,
        file: &str,
        at: &FeatureRef,
        props: Props<'_>,
        key: &str,
        required: bool,
        min: u32,
    ) -> Option<u32> {
        // Written out only for a problem: this runs for every count of every feature.
        let expected = || format!("expected a whole number ≥ {min}");
        let (kind, message) = match props.get(key) {
            None | Some(Value::Null) if !required => return None,
            None | Some(Value::Null) => (InputProblemKind::MissingField, format!("missing; {}", expected())),
            Some(Value::Number(n)) => {
                let v = n.as_i64().map(|i| i as f64).or_else(|| n.as_f64()).unwrap_or(f64::NAN);
                if v.fract() != 0.0 || !v.is_finite() {
                    (InputProblemKind::NotInteger, format!("{}, found {n}", expected()))
                } else if v < 0.0 {
                    (InputProblemKind::NegativeValue, format!("{}, found {n}", expected()))
                } else if v < f64::from(min) {
                    (InputProblemKind::InvalidValue, format!("{}, found {n}", expected()))
                } else if v > f64::from(u32::MAX) {
                    (
                        InputProblemKind::InvalidValue,
                        format!("{} and below 2^32, found {n}", expected()),
                    )
                } else {
                    return Some(v as u32);
                }
            }
            Some(Value::String(s)) => (
                InputProblemKind::WrongType,
                format!("{}, found the string {s:?} (write numbers without quotes)", expected()),
            ),
            Some(other) => (
                InputProblemKind::WrongType,
                format!("{}, found {}", expected(), kind_of(other)),
            ),
        };
        self.problem(file, Some(at), Some(&format!("properties.{key}")), kind, message);
        None
    }

    /// A number ≥ `min` (a whole number or not: 3.5 floors is an attic storey).
    pub(super) fn number(&mut self, file: &str, at: &FeatureRef, props: Props<'_>, key: &str, min: f64) -> Option<f64> {
        let (kind, message) = match props.get(key) {
            None | Some(Value::Null) => return None,
            Some(Value::Number(n)) => match n.as_f64().filter(|v| v.is_finite()) {
                Some(v) if v >= min => return Some(v),
                Some(v) if v < 0.0 => (
                    InputProblemKind::NegativeValue,
                    format!("expected a number ≥ {min}, found {n}"),
                ),
                _ => (
                    InputProblemKind::InvalidValue,
                    format!("expected a number ≥ {min}, found {n}"),
                ),
            },
            Some(Value::String(s)) => (
                InputProblemKind::WrongType,
                format!("expected a number ≥ {min}, found the string {s:?} (write numbers without quotes)"),
            ),
            Some(other) => (
                InputProblemKind::WrongType,
                format!("expected a number ≥ {min}, found {}", kind_of(other)),
            ),
        };
        self.problem(file, Some(at), Some(&format!("properties.{key}")), kind, message);
        None
    }

    /// The feature's required `id`, checked unique within the file: `properties.id`, else the
    /// Feature's own `id` member; a string or a number (GDAL writes integer ids as numbers).
    pub(super) fn id(&mut self, file: &str, f: &Feature, seen: &mut HashMap<String, usize>) -> Option<String> {
        let (value, field) = match f.props.get("id") {
            None | Some(Value::Null) => (f.member_id.filter(|v| !v.is_null()), "id"),
            Some(v) => (Some(v), "properties.id"),
        };
        let id = match value {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(Value::Number(n)) => number_text(n),
            Some(Value::String(_)) => {
                self.problem(
                    file,
                    Some(&f.at),
                    Some(field),
                    InputProblemKind::InvalidValue,
                    "is empty; expected a non-empty string or a number",
                );
                return None;
            }
            None | Some(Value::Null) => {
                self.problem(
                    file,
                    Some(&f.at),
                    Some("properties.id"),
                    InputProblemKind::MissingField,
                    "missing; expected a string or a number (here or as the Feature's own id)",
                );
                return None;
            }
            Some(other) => {
                self.problem(
                    file,
                    Some(&f.at),
                    Some(field),
                    InputProblemKind::WrongType,
                    format!("expected a string or a number, found {}", kind_of(other)),
                );
                return None;
            }
        };
        if let Some(first) = seen.insert(id.clone(), f.at.index) {
            seen.insert(id.clone(), first);
            self.problem(
                file,
                Some(&f.at),
                Some("properties.id"),
                InputProblemKind::DuplicateId,
                format!("{id:?} is already used by features[{first}]; ids must be unique"),
            );
        }
        Some(id)
    }
}
