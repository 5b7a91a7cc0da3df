//! Addresses → buildings. An address is read as *prefix + place + building + unit/room*: the
//! place is a compound (小区) name the dataset knows (or, for a building without one, the text
//! after its community's name), found anywhere in the question, so prefixes (province, city,
//! district, street, community) may be missing, extra or partial. The building is a number with
//! any of 号楼/号/栋/幢/座/楼/# (or a name such as 会所); 单元 is kept to pick a unit part of a
//! split building; the room is dropped. Both sides are [`normalize`]d first.
//!
//! Candidates are ranked by a score in [0, 1]: a building matched by place and number scores
//! 0.8, raised when the prefix names its community (+0.15) or its district (+0.05), lowered when
//! the prefix names another community (−0.3). A place without a building number gives its
//! compound (0.5); a known place with an unknown number gives the compound at 0.3; a community
//! named alone gives the community at 0.2.
//!
//! A compound in sections (宛城花园东区, 宛城花园西区, 中荷华庭三期) is also found by its name
//! without the section, as people say it: 宛城花园 answers with every section, 宛城花园3号楼 with
//! building 3 of each section that has one, at the same scores (so the answer is ambiguous when
//! more than one section fits).

use super::normalize::normalize;
use crate::model::Dataset;
use geo::{Coord, InteriorPoint};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchLevel {
    Building,
    Compound,
    Community,
}

/// One possible reading of an address.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub level: MatchLevel,
    /// The building's id, for a building match.
    pub building: Option<String>,
    /// The unit (单元) part `ID#UNIT` holds, when the address names a unit of a split building.
    pub unit: Option<String>,
    pub compound: Option<String>,
    pub community_code: String,
    /// The dataset's address of the building, or the compound / community name.
    pub address: String,
    /// WGS-84: the building's representative point, or a point inside the compound's first
    /// building or the community.
    pub location: [f64; 2],
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Tag {
    Number(u32),
    Name(String),
}

#[derive(Debug, Clone)]
struct Entry {
    id: String,
    address: String,
    compound: Option<String>,
    community: usize,
    units: Vec<String>,
    location: Coord<f64>,
    /// Normalised text of the dataset address before the place (e.g. 湖里区康乐社区).
    prefix: String,
}

#[derive(Debug, Clone)]
struct CommunityEntry {
    code: String,
    name: String,
    norm: String,
    /// The name without 社区/村/居委会, when at least two characters remain.
    stem: Option<String>,
    location: Coord<f64>,
}

/// Building addresses of one dataset, ready for questions.
#[derive(Debug, Clone, Default)]
pub struct Geocoder {
    entries: Vec<Entry>,
    communities: Vec<CommunityEntry>,
    /// Normalised place names.
    places: Vec<String>,
    /// Place names by their first two characters (a single-character place by its one).
    by_start: HashMap<(char, Option<char>), Vec<u32>>,
    /// (place, tag) → entries.
    buildings: HashMap<(u32, Tag), Vec<u32>>,
    /// place → entries, for compound-level answers.
    in_place: Vec<Vec<u32>>,
    /// A sectioned place's name without its section (宛城花园 for 宛城花园东区) → its places.
    bases: Vec<(String, Vec<u32>)>,
    /// Base names by their first two characters, as `by_start`.
    bases_by_start: HashMap<(char, Option<char>), Vec<u32>>,
}

/// A compound name (normalised) split into its base and its section (分区 / 分期): 宛城花园东区 →
/// (宛城花园, 东区), 中荷华庭3期 → (中荷华庭, 3期), 金湖家园a区 → (金湖家园, a区). `None` when the
/// name has no section or the base would be shorter than two characters.
pub fn split_section(name: &str) -> Option<(&str, &str)> {
    let chars: Vec<(usize, char)> = name.char_indices().collect();
    let n = chars.len();
    if n < 4 {
        return None;
    }
    let (_, last) = chars[n - 1];
    let start = match last {
        '区' if matches!(chars[n - 2].1, '东' | '西' | '南' | '北' | '中') => n - 2,
        '区' if chars[n - 2].1.is_ascii_alphanumeric() && !chars[n - 3].1.is_ascii_alphanumeric() => n - 2,
        '期' => {
            let mut i = n - 1;
            while i > 0 && chars[i - 1].1.is_ascii_digit() {
                i -= 1;
            }
            if i == n - 1 {
                return None;
            }
            i
        }
        _ => return None,
    };
    // The base keeps at least two characters and is not itself a bare number (3号楼东区).
    if start < 2 || chars[..start].iter().all(|(_, c)| c.is_ascii_digit()) {
        return None;
    }
    let at = chars[start].0;
    Some((&name[..at], &name[at..]))
}

fn key(s: &str) -> Option<(char, Option<char>)> {
    let mut it = s.chars();
    let a = it.next()?;
    Some((a, it.next()))
}

/// The building tag and unit at the start of the text after a place; `None` for no building.
fn parse_rest(rest: &str) -> (Option<Tag>, Option<String>) {
    let mut s = rest.trim_start_matches('-');
    for filler in ["小区", "社区", "第"] {
        s = s.strip_prefix(filler).unwrap_or(s);
    }
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        // A named building (会所): the text up to a unit or room number.
        let name: String = s.chars().take_while(|c| !c.is_ascii_digit() && *c != '-').collect();
        let name = name.trim_end_matches("小区").to_string();
        return (if name.is_empty() { None } else { Some(Tag::Name(name)) }, None);
    }
    let after = &s[digits.len()..];
    if after.starts_with("单元") {
        return (None, Some(format!("{digits}单元")));
    }
    let Ok(n) = digits.parse::<u32>() else {
        return (None, None);
    };
    let markers = ["号楼", "号栋", "号幢", "号座", "栋", "幢", "座", "号", "楼", "#", "-"];
    let after = markers.iter().find_map(|m| after.strip_prefix(m)).unwrap_or(after);
    // Unit: "2单元" or the middle of 3-2-301.
    let udigits: String = after
        .trim_start_matches('-')
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let after_unit = &after.trim_start_matches('-')[udigits.len()..];
    let unit = if !udigits.is_empty() && (after_unit.starts_with("单元") || after_unit.starts_with('-')) {
        udigits.parse::<u32>().ok().map(|u| format!("{u}单元"))
    } else {
        None
    };
    (Some(Tag::Number(n)), unit)
}

fn strip_community_suffix(name: &str) -> Option<String> {
    for suffix in ["社区居委会", "居委会", "社区", "村委会", "村"] {
        if let Some(stem) = name.strip_suffix(suffix) {
            return (stem.chars().count() >= 2).then(|| stem.to_string());
        }
    }
    None
}

impl Geocoder {
    pub fn new(dataset: &Dataset) -> Self {
        let mut g = Geocoder::default();
        for c in &dataset.communities {
            let norm = normalize(&c.name);
            let location = c.boundary.interior_point().map_or(Coord::zero(), |p| p.0);
            g.communities.push(CommunityEntry {
                code: c.code.to_string(),
                name: c.name.clone(),
                stem: strip_community_suffix(&norm),
                norm,
                location,
            });
        }
        let mut place_ids: HashMap<String, u32> = HashMap::new();
        let mut base_ids: HashMap<String, u32> = HashMap::new();
        for b in &dataset.buildings {
            let Some(address) = &b.address else { continue };
            let a = normalize(address);
            let compound = b.compound.as_deref().map(normalize).filter(|c| !c.is_empty());
            let (prefix, place, rest) = match compound.as_ref().and_then(|c| a.find(c.as_str()).map(|i| (i, c))) {
                Some((i, c)) => (a[..i].to_string(), c.clone(), a[i + c.len()..].to_string()),
                None => {
                    // No compound in the address: the place is what follows the community's
                    // name, up to the first digit.
                    let cn = &g.communities[b.community].norm;
                    let from = a.find(cn.as_str()).map_or(0, |i| i + cn.len());
                    let tail = &a[from..];
                    let cut = tail.find(|c: char| c.is_ascii_digit()).unwrap_or(tail.len());
                    (a[..from].to_string(), tail[..cut].to_string(), tail[cut..].to_string())
                }
            };
            if place.is_empty() {
                continue;
            }
            let (tag, _) = parse_rest(&rest);
            let next = place_ids.len() as u32;
            let pid = *place_ids.entry(place.clone()).or_insert(next);
            if pid == next {
                g.places.push(place.clone());
                g.in_place.push(Vec::new());
                if let Some(k) = key(&place) {
                    g.by_start.entry(k).or_default().push(pid);
                }
                if let Some((base, _)) = split_section(&place) {
                    let next_base = base_ids.len() as u32;
                    let bid = *base_ids.entry(base.to_string()).or_insert(next_base);
                    if bid == next_base {
                        g.bases.push((base.to_string(), Vec::new()));
                        if let Some(k) = key(base) {
                            g.bases_by_start.entry(k).or_default().push(bid);
                        }
                    }
                    g.bases[bid as usize].1.push(pid);
                }
            }
            let ix = g.entries.len() as u32;
            g.entries.push(Entry {
                id: b.id.clone(),
                address: address.clone(),
                compound: b.compound.clone(),
                community: b.community,
                units: b.units.iter().map(|u| u.name.clone()).collect(),
                location: b.anchor.0,
                prefix,
            });
            g.in_place[pid as usize].push(ix);
            if let Some(tag) = tag {
                g.buildings.entry((pid, tag)).or_default().push(ix);
            }
        }
        // A base name that is a place of its own (文宝新村 beside 文宝新村西区) means that place.
        for (base, sections) in &mut g.bases {
            if place_ids.contains_key(base.as_str()) {
                sections.clear();
            }
        }
        g
    }

    /// Known places occurring in `q`, as (byte position, byte length, place id): each place by
    /// its name, and each section of a sectioned place by the name without the section.
    fn places_in(&self, q: &str) -> Vec<(usize, usize, u32)> {
        let mut out = Vec::new();
        for (pos, _) in q.char_indices() {
            let tail = &q[pos..];
            let mut it = tail.chars();
            let Some(a) = it.next() else { continue };
            let b = it.next();
            for k in [(a, b), (a, None)] {
                if let Some(ids) = self.by_start.get(&k) {
                    for &p in ids {
                        let place = self.places[p as usize].as_str();
                        if tail.starts_with(place) {
                            out.push((pos, place.len(), p));
                        }
                    }
                }
                if let Some(ids) = self.bases_by_start.get(&k) {
                    for &bid in ids {
                        let (base, sections) = &self.bases[bid as usize];
                        if tail.starts_with(base.as_str()) {
                            out.extend(sections.iter().map(|&p| (pos, base.len(), p)));
                        }
                    }
                }
                if b.is_none() {
                    break;
                }
            }
        }
        out
    }

    /// How well the question's prefix agrees with where the entry is: + its community or district
    /// named, − another community named instead.
    fn prefix_score(&self, prefix: &str, community: usize, entry_prefix: &str) -> f64 {
        let c = &self.communities[community];
        let names_ours = prefix.contains(c.norm.as_str())
            || c.stem
                .as_deref()
                .is_some_and(|s| prefix.ends_with(s) || prefix.contains(&format!("{s}社区")));
        let names_other = !names_ours
            && self
                .communities
                .iter()
                .enumerate()
                .any(|(i, o)| i != community && o.norm != c.norm && prefix.contains(o.norm.as_str()));
        // District / city part of the dataset's own address prefix (before the community).
        let district = entry_prefix
            .find(c.norm.as_str())
            .map_or(entry_prefix, |i| &entry_prefix[..i]);
        let names_district = !district.is_empty() && prefix.contains(district);
        let mut s = 0.0;
        if names_ours {
            s += 0.15;
        }
        if names_other {
            s -= 0.3;
        }
        if names_district {
            s += 0.05;
        }
        s
    }

    /// Candidates for `address`, best first (score, then building id); at most `limit`.
    pub fn geocode(&self, address: &str, limit: usize) -> Vec<Candidate> {
        let q = normalize(address);
        let mut found: BTreeMap<(MatchLevel, String, Option<String>), Candidate> = BTreeMap::new();
        let add = |found: &mut BTreeMap<(MatchLevel, String, Option<String>), Candidate>, c: Candidate| {
            let k = (
                c.level,
                c.building
                    .clone()
                    .unwrap_or_else(|| format!("{}|{}", c.community_code, c.address)),
                c.unit.clone(),
            );
            match found.get(&k) {
                Some(old) if old.score >= c.score => {}
                _ => {
                    found.insert(k, c);
                }
            }
        };
        let matches = self.places_in(&q);
        for &(pos, len, pid) in &matches {
            let place = &self.places[pid as usize];
            // A longer place matching at an overlapping position reads the text better
            // (文宝新村西区 over 文宝新村, and over the base name 文宝新村 of its sections).
            if matches
                .iter()
                .any(|&(p2, l2, _)| p2 <= pos && p2 + l2 >= pos + len && l2 > len)
            {
                continue;
            }
            let prefix = &q[..pos];
            let (tag, unit) = parse_rest(&q[pos + len..]);
            let hits = tag.as_ref().and_then(|t| self.buildings.get(&(pid, t.clone())));
            match (tag.is_some(), hits) {
                (true, Some(hits)) => {
                    for &e in hits {
                        let e = &self.entries[e as usize];
                        let unit = unit
                            .as_ref()
                            .and_then(|u| e.units.iter().find(|n| normalize(n) == *u))
                            .map(|n| format!("{}#{n}", e.id));
                        add(
                            &mut found,
                            Candidate {
                                level: MatchLevel::Building,
                                building: Some(e.id.clone()),
                                unit,
                                compound: e.compound.clone(),
                                community_code: self.communities[e.community].code.clone(),
                                address: e.address.clone(),
                                location: [e.location.x, e.location.y],
                                score: (0.8 + self.prefix_score(prefix, e.community, &e.prefix)).clamp(0.0, 1.0),
                            },
                        );
                    }
                }
                (has_tag, _) => {
                    // The compound itself, once per community it is in.
                    let base = if has_tag { 0.3 } else { 0.5 };
                    let mut seen = Vec::new();
                    for &e in &self.in_place[pid as usize] {
                        let e = &self.entries[e as usize];
                        if seen.contains(&e.community) {
                            continue;
                        }
                        seen.push(e.community);
                        add(
                            &mut found,
                            Candidate {
                                level: MatchLevel::Compound,
                                building: None,
                                unit: None,
                                compound: e.compound.clone().or_else(|| Some(place.clone())),
                                community_code: self.communities[e.community].code.clone(),
                                address: e.compound.clone().unwrap_or_else(|| place.clone()),
                                location: [e.location.x, e.location.y],
                                score: (base + self.prefix_score(prefix, e.community, &e.prefix)).clamp(0.0, 1.0),
                            },
                        );
                    }
                }
            }
        }
        if found.is_empty() {
            for c in &self.communities {
                if q.contains(c.norm.as_str()) {
                    add(
                        &mut found,
                        Candidate {
                            level: MatchLevel::Community,
                            building: None,
                            unit: None,
                            compound: None,
                            community_code: c.code.clone(),
                            address: c.name.clone(),
                            location: [c.location.x, c.location.y],
                            score: 0.2,
                        },
                    );
                }
            }
        }
        let mut out: Vec<Candidate> = found.into_values().collect();
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.level.cmp(&b.level))
                .then_with(|| a.building.cmp(&b.building))
                .then_with(|| a.address.cmp(&b.address))
        });
        out.truncate(limit);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_parsing() {
        assert_eq!(parse_rest("3号楼"), (Some(Tag::Number(3)), None));
        assert_eq!(
            parse_rest("3栋2单元301室"),
            (Some(Tag::Number(3)), Some("2单元".into()))
        );
        assert_eq!(parse_rest("3-2-301"), (Some(Tag::Number(3)), Some("2单元".into())));
        assert_eq!(parse_rest("小区12幢"), (Some(Tag::Number(12)), None));
        assert_eq!(parse_rest("第3座"), (Some(Tag::Number(3)), None));
        assert_eq!(parse_rest("会所"), (Some(Tag::Name("会所".into())), None));
        assert_eq!(parse_rest(""), (None, None));
        assert_eq!(parse_rest("2单元"), (None, Some("2单元".into())));
        assert_eq!(parse_rest("3#楼"), (Some(Tag::Number(3)), None));
    }
}
