//! Which services belong in which life circle, how far each circle reaches and how fast people
//! walk: the defaults of the national standards, or a dataset's `access.json`.
//!
//! GB 50180-2018 (城市居住区规划设计标准) sizes the 5-, 10- and 15-minute life circles by walking
//! distance: about 300 m, 500 m and 800–1,000 m. It and TD/T 1062-2021 (社区生活圈规划技术指南)
//! place the services: a kindergarten, a community health station, daily shops and a pharmacy,
//! day care for the elderly and the community service station within 5 minutes; a primary
//! school, a food market or fresh-food supermarket within 10; a community hospital (health
//! service centre) within 15.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Walking speed when none is given (m/min), as the card's walking minutes use.
pub const DEFAULT_SPEED_M_PER_MIN: f64 = crate::walk::DEFAULT_SPEED_M_PER_MIN;

/// How many of the furthest buildings are listed, per kind, when none is given.
pub const DEFAULT_FURTHEST: usize = 5;

/// One life circle: its name in minutes and the walking distance it reaches (m).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LifeCircle {
    pub minutes: u32,
    pub metres: f64,
}

/// The life-circle settings: circles (nearest first), the circle each service kind belongs in,
/// the walking speed minutes are shown at, and how many furthest buildings are listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessConfig {
    pub speed_m_per_min: f64,
    pub circles: Vec<LifeCircle>,
    /// Service kind (a resource kind, as `resources.geojson` gives it) → the minutes of its circle.
    pub kinds: BTreeMap<String, u32>,
    pub furthest: usize,
}

impl Default for AccessConfig {
    fn default() -> Self {
        let circles = vec![
            LifeCircle {
                minutes: 5,
                metres: 300.0,
            },
            LifeCircle {
                minutes: 10,
                metres: 500.0,
            },
            LifeCircle {
                minutes: 15,
                metres: 1000.0,
            },
        ];
        let kinds = [
            ("kindergarten", 5),
            ("clinic", 5),
            ("pharmacy", 5),
            ("shop", 5),
            ("elderly_care", 5),
            ("service_center", 5),
            ("school", 10),
            ("market", 10),
            ("supermarket", 10),
            ("hospital", 15),
        ]
        .into_iter()
        .map(|(k, m)| (k.to_string(), m))
        .collect();
        Self {
            speed_m_per_min: DEFAULT_SPEED_M_PER_MIN,
            circles,
            kinds,
            furthest: DEFAULT_FURTHEST,
        }
    }
}

/// What is wrong with one field of a settings file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// Where, as a path into the JSON (`kinds.clinic`, `circles[1].metres`); empty for the root.
    pub field: String,
    pub message: String,
}

/// A settings file that cannot be used: the file and every problem in it.
#[derive(Debug, thiserror::Error)]
pub enum AccessConfigError {
    #[error("{file}: {source}")]
    Unreadable { file: String, source: std::io::Error },
    #[error("{file}: not JSON: {source}")]
    NotJson { file: String, source: serde_json::Error },
    #[error("{file}: {}", problems_text(.problems))]
    Invalid { file: String, problems: Vec<ConfigProblem> },
}

impl AccessConfig {
    /// Reads a settings file (the format of a dataset's `access.json`).
    pub fn from_file(path: &Path) -> Result<Self, AccessConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| AccessConfigError::Unreadable {
            file: file.clone(),
            source,
        })?;
        let value: Value =
            serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|source| AccessConfigError::NotJson {
                file: file.clone(),
                source,
            })?;
        Self::from_json(&value).map_err(|problems| AccessConfigError::Invalid { file, problems })
    }

    /// The settings a JSON value gives, the defaults for what it leaves out; every problem found
    /// otherwise, each naming its field. A `circles` list replaces the default circles, a `kinds`
    /// object the default kinds.
    pub fn from_json(value: &Value) -> Result<Self, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        let mut bad = |field: &str, message: String| {
            problems.push(ConfigProblem {
                field: field.to_string(),
                message,
            })
        };
        let mut config = Self::default();
        let Value::Object(root) = value else {
            bad(
                "",
                format!(
                    "expected an object {{speed_m_per_min, circles, kinds, furthest}}, found {}",
                    kind_of(value)
                ),
            );
            return Err(problems);
        };
        for key in root.keys() {
            if !["speed_m_per_min", "circles", "kinds", "furthest"].contains(&key.as_str()) {
                bad(
                    key,
                    "unknown setting; expected speed_m_per_min, circles, kinds or furthest".into(),
                );
            }
        }
        if let Some(v) = root.get("speed_m_per_min") {
            match v.as_f64() {
                Some(s) if s.is_finite() && s > 0.0 && s <= 1000.0 => config.speed_m_per_min = s,
                _ => bad(
                    "speed_m_per_min",
                    format!("expected metres a minute, a number > 0 and ≤ 1000, found {v}"),
                ),
            }
        }
        if let Some(v) = root.get("furthest") {
            match v.as_u64() {
                Some(n) if n <= 1000 => config.furthest = n as usize,
                _ => bad("furthest", format!("expected a whole number from 0 to 1000, found {v}")),
            }
        }
        if let Some(v) = root.get("circles") {
            match v {
                Value::Array(items) if !items.is_empty() => {
                    let mut circles = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        let at = format!("circles[{i}]");
                        let Value::Object(c) = item else {
                            bad(
                                &at,
                                format!("expected an object {{minutes, metres}}, found {}", kind_of(item)),
                            );
                            continue;
                        };
                        for key in c.keys() {
                            if key != "minutes" && key != "metres" {
                                bad(
                                    &format!("{at}.{key}"),
                                    "unknown field; expected minutes and metres".into(),
                                );
                            }
                        }
                        let minutes = match c.get("minutes") {
                            Some(m) => match m.as_u64() {
                                Some(n) if (1..=120).contains(&n) => Some(n as u32),
                                _ => {
                                    bad(
                                        &format!("{at}.minutes"),
                                        format!("expected a whole number of minutes from 1 to 120, found {m}"),
                                    );
                                    None
                                }
                            },
                            None => {
                                bad(
                                    &format!("{at}.minutes"),
                                    "missing; every circle is named by its minutes".into(),
                                );
                                None
                            }
                        };
                        // Without metres the circle reaches as far as its minutes at the speed.
                        let metres = match c.get("metres") {
                            Some(m) => match m.as_f64() {
                                Some(x) if x.is_finite() && x > 0.0 && x <= 100_000.0 => Some(x),
                                _ => {
                                    bad(
                                        &format!("{at}.metres"),
                                        format!("expected a walking distance in metres, > 0 and ≤ 100000, found {m}"),
                                    );
                                    None
                                }
                            },
                            None => minutes.map(|n| f64::from(n) * config.speed_m_per_min),
                        };
                        if let (Some(minutes), Some(metres)) = (minutes, metres) {
                            circles.push((at, LifeCircle { minutes, metres }));
                        }
                    }
                    for w in circles.windows(2) {
                        let ((_, a), (at, b)) = (&w[0], &w[1]);
                        if b.minutes <= a.minutes || b.metres <= a.metres {
                            bad(
                                at,
                                format!(
                                    "circles go from the nearest to the furthest: {} min / {} m does not come after {} min / {} m",
                                    b.minutes, b.metres, a.minutes, a.metres
                                ),
                            );
                        }
                    }
                    config.circles = circles.into_iter().map(|(_, c)| c).collect();
                }
                other => bad(
                    "circles",
                    format!(
                        "expected a list of at least one {{minutes, metres}}, found {}",
                        kind_of(other)
                    ),
                ),
            }
        }
        if let Some(v) = root.get("kinds") {
            match v {
                Value::Object(kinds) => {
                    let minutes: Vec<u32> = config.circles.iter().map(|c| c.minutes).collect();
                    let list = minutes.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
                    let mut out = BTreeMap::new();
                    for (kind, m) in kinds {
                        let at = format!("kinds.{kind}");
                        let canonical = crate::model::Resource::canonical_kind(kind);
                        if canonical.is_empty() {
                            bad(&at, "a service kind needs a name".into());
                            continue;
                        }
                        match m.as_u64() {
                            Some(n) if minutes.contains(&(n as u32)) && n <= u64::from(u32::MAX) => {
                                if out.insert(canonical.clone(), n as u32).is_some() {
                                    bad(
                                        &at,
                                        format!("kind {canonical:?} is given twice (under another spelling)"),
                                    );
                                }
                            }
                            _ => bad(
                                &at,
                                format!("expected the minutes of one of the circles ({list}), found {m}"),
                            ),
                        }
                    }
                    config.kinds = out;
                }
                other => bad(
                    "kinds",
                    format!(
                        "expected an object of service kind → circle minutes, found {}",
                        kind_of(other)
                    ),
                ),
            }
        } else if root.contains_key("circles") {
            // Default kinds placed in circles the file no longer has would be silently lost.
            let minutes: Vec<u32> = config.circles.iter().map(|c| c.minutes).collect();
            for (kind, m) in &config.kinds {
                if !minutes.contains(m) {
                    bad(
                        "kinds",
                        format!(
                            "missing: the default circle of {kind:?} ({m} min) is not among the file's circles; give kinds too"
                        ),
                    );
                    break;
                }
            }
        }
        if problems.is_empty() { Ok(config) } else { Err(problems) }
    }

    /// The circle a kind belongs in, if the settings place it.
    pub fn circle_of(&self, kind: &str) -> Option<LifeCircle> {
        let minutes = *self.kinds.get(kind)?;
        self.circles.iter().copied().find(|c| c.minutes == minutes)
    }

    /// The index of the nearest circle a walk of `metres` falls within; None beyond them all.
    pub fn band(&self, metres: f64) -> Option<usize> {
        self.circles.iter().position(|c| metres <= c.metres)
    }

    /// Minutes a walk takes at the settings' speed.
    pub fn minutes(&self, metres: f64) -> f64 {
        metres / self.speed_m_per_min
    }
}

fn problems_text(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(|p| {
            if p.field.is_empty() {
                p.message.clone()
            } else {
                format!("{}: {}", p.field, p.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_empty_object_is_the_defaults() {
        assert_eq!(AccessConfig::from_json(&json!({})).unwrap(), AccessConfig::default());
    }

    #[test]
    fn circles_without_metres_reach_minutes_at_the_speed() {
        let c = AccessConfig::from_json(
            &json!({"speed_m_per_min": 60, "circles": [{"minutes": 5}, {"minutes": 15}],
            "kinds": {"Clinic": 5, "诊所": 5, "school": 15}}),
        );
        let problems = c.unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].field, "kinds.诊所");
        let c = AccessConfig::from_json(
            &json!({"speed_m_per_min": 60, "circles": [{"minutes": 5}, {"minutes": 15}],
            "kinds": {"Clinic": 5, "school": 15}}),
        )
        .unwrap();
        assert_eq!(
            c.circles[1],
            LifeCircle {
                minutes: 15,
                metres: 900.0
            }
        );
        assert_eq!(c.circle_of("clinic").unwrap().metres, 300.0);
        assert_eq!(c.band(301.0), Some(1));
        assert_eq!(c.band(901.0), None);
    }

    #[test]
    fn every_bad_field_is_named() {
        let problems = AccessConfig::from_json(&json!({"speed": 1, "speed_m_per_min": -3, "furthest": 1.5,
            "circles": [{"minutes": 10, "metres": 500}, {"minutes": 5, "metres": "300"}],
            "kinds": {"clinic": 7}}))
        .unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "speed",
                "speed_m_per_min",
                "furthest",
                "circles[1].metres",
                "kinds.clinic"
            ],
            "{problems:?}"
        );
        assert!(AccessConfig::from_json(&json!([1])).is_err());
        let order = AccessConfig::from_json(
            &json!({"circles": [{"minutes": 10, "metres": 500}, {"minutes": 5, "metres": 300}]}),
        )
        .unwrap_err();
        assert_eq!(order[0].field, "circles[1]");
    }
}
