//! Suggestions as people type: the places a few typed characters could mean, ranked, in
//! microseconds. Built once per served layer beside the other lookup indexes.
//!
//! # What is found
//!
//! - **communities** by name, or by the name without 社区/村 (康乐 → 康乐社区);
//! - **compounds** (小区) by name, and a compound in sections by its name without the section
//!   (宛城花园 → 宛城花园东区 and 宛城花园西区, see [`split_section`]);
//! - **resources** (clinics, shops, …) by name and by their street address (康乐路31号);
//! - **addresses**: buildings by the part of their address people type — from the compound
//!   (嘉禾公寓3号楼), from the street or lane (兴隆里12号, `Mannerheimintie 5` from OpenStreetMap's
//!   `addr:street` + `addr:housenumber`), a sectioned compound's buildings also without the section
//!   (宛城花园3号楼) — and by their whole address or its part after the district or community;
//! - **grids** by code (the 15 digits, or the grid's own last three) and an exclusive grid by its
//!   institution's name.
//!
//! Names also answer to their pinyin initials (康乐诊所 = `klzs`, 嘉禾公寓3号楼 = `jhgy3hl`).
//! Both sides are [`normalize`]d (width, spaces, punctuation, Chinese numerals, case).
//!
//! # Ranking
//!
//! By how the text matched, then by kind, then by how much of the matched text is left untyped,
//! then by the suggestion's label in natural order (2号楼 before 10号楼), then by id:
//!
//! 1. **exact**: the query is a whole name or address;
//! 2. **prefix**: it starts a name, or the part of an address people type;
//! 3. **infix**: it occurs inside a name, or starts a longer form of an address (with its
//!    district or community);
//! 4. **initials**: it starts a name's pinyin initials (letters and digits only).
//!
//! Kinds rank coarse before fine — community, compound, resource (by name), address, resource
//! (by street address), grid — so 康乐 shows 康乐社区 and 康乐诊所 before the 188 buildings whose
//! address holds 康乐社区, and a street's buildings come before the shops on it.
//!
//! # Cost
//!
//! Every key is a suffix of one of a few strings per place, kept sorted per kind (a key is 16
//! bytes); a query is a binary search per kind and a scan of at most [`SCAN_CAP`] keys per kind
//! and class, so a very short query over a city answers from the first keys of its range, in key
//! order, rather than from all of them. Infix search of names goes through a two-character index.

use super::geocode::split_section;
use super::normalize::normalize;
use crate::grid::{Grid, GridKind, GridLevel};
use crate::model::Dataset;
use geo::{Coord, InteriorPoint};
use pinyin::ToPinyin;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::cmp::Ordering;

/// Most suggestions in one answer.
pub const MAX_SUGGESTIONS: usize = 20;
/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 100;
/// Most keys looked at per kind and class for one query.
pub const SCAN_CAP: usize = 4096;

/// What a suggestion is; the order is the ranking's (coarse places first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionKind {
    Community,
    Compound,
    Resource,
    Address,
    Grid,
}

const KINDS: [SuggestionKind; 5] = [
    SuggestionKind::Community,
    SuggestionKind::Compound,
    SuggestionKind::Resource,
    SuggestionKind::Address,
    SuggestionKind::Grid,
];

/// How the query matched; the order is the ranking's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchClass {
    Exact,
    Prefix,
    Infix,
    Initials,
}

/// One suggestion: what to show (label, detail) and what choosing it opens (the ids).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub kind: SuggestionKind,
    #[serde(rename = "match")]
    pub matched: MatchClass,
    /// The line to show: a building's address from its compound or street on, a name, a grid code.
    pub label: String,
    /// A second line, from the data: the district and community before an address, a
    /// resource's address, a compound's or grid's community, an exclusive grid's institution.
    pub detail: Option<String>,
    /// A building's whole address as the dataset gives it.
    pub address: Option<String>,
    /// The building's id (kind `address`).
    pub building: Option<String>,
    /// The compound's name as the dataset gives it (kinds `compound` and `address`).
    pub compound: Option<String>,
    /// The resource's id and kind (kind `resource`).
    pub resource: Option<String>,
    pub resource_kind: Option<String>,
    pub community_code: Option<String>,
    pub community_name: Option<String>,
    /// The grid itself (kind `grid`), or the grid holding the building.
    pub grid: Option<String>,
    /// WGS-84: the building's or resource's point, a point inside the compound's first
    /// building, the community or the grid.
    pub location: [f64; 2],
}

#[derive(Debug, Clone)]
struct Target {
    kind: SuggestionKind,
    label: Box<str>,
    detail: Option<Box<str>>,
    address: Option<Box<str>>,
    /// Building id, resource id or grid code.
    id: Option<Box<str>>,
    compound: Option<Box<str>>,
    resource_kind: Option<Box<str>>,
    community: Option<u32>,
    grid: Option<Box<str>>,
    location: [f64; 2],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyClass {
    /// Prefix of a name, or of the part of an address people type.
    Primary,
    /// Prefix of a longer form (an address with its district or community, a grid's last digits).
    Secondary,
    Initials,
}

/// A key: the suffix of `strings[s]` from byte `off`, standing for `target`.
#[derive(Debug, Clone, Copy)]
struct Key {
    s: u32,
    off: u32,
    target: u32,
    class: KeyClass,
    /// A resource's street address rather than its name: ranked after building addresses.
    street: bool,
}

/// Where a pair of characters occurs in a name: (string, byte offset, target).
type PairAt = (u32, u32, u32);

/// The suggestion index of one dataset and layer.
#[derive(Debug, Clone, Default)]
pub struct Suggester {
    targets: Vec<Target>,
    communities: Vec<(Box<str>, Box<str>)>,
    strings: Vec<Box<str>>,
    /// Keys per kind (in [`KINDS`] order), sorted by text.
    keys: [Vec<Key>; 5],
    /// Names (of communities, compounds, resources, exclusive grids) by each pair of adjacent
    /// characters in them: (string, byte offset of the pair) → target, for infix search.
    pairs: FxHashMap<(char, char), Vec<PairAt>>,
    buildings: FxHashMap<Box<str>, u32>,
    example: Option<String>,
}

/// Pinyin initials of a name: one letter per Chinese character, letters and digits kept, the
/// rest dropped (康乐诊所 → klzs, 嘉禾公寓3号楼 → jhgy3hl); `None` without Chinese characters.
pub fn initials(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut han = false;
    for ch in s.chars() {
        if let Some(p) = ch.to_pinyin() {
            out.push_str(p.first_letter());
            han = true;
        } else {
            let ch = match ch {
                '\u{FF10}'..='\u{FF5A}' => char::from_u32(ch as u32 - 0xFEE0).unwrap_or(ch),
                _ => ch,
            };
            if ch.is_ascii_alphanumeric() {
                out.push(ch.to_ascii_lowercase());
            }
        }
    }
    (han && !out.is_empty()).then_some(out)
}

/// Compares labels with digit runs as numbers: 嘉禾公寓2号楼 before 嘉禾公寓10号楼.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.bytes().take_while(u8::is_ascii_digit).count();
                let db = b.bytes().take_while(u8::is_ascii_digit).count();
                let (na, nb) = (a[..da].trim_start_matches('0'), b[..db].trim_start_matches('0'));
                let by_value = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb)).then(da.cmp(&db));
                if by_value != Ordering::Equal {
                    return by_value;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                a = &a[x.len_utf8()..];
                b = &b[y.len_utf8()..];
            }
        }
    }
}

/// Byte positions in an address after each leading administrative part (省, 市, 区, 县, 旗), at
/// most two: 湖里区康乐路31号 → [9].
fn admin_cuts(address: &str) -> Vec<usize> {
    let mut cuts = Vec::new();
    let mut from = 0;
    for _ in 0..2 {
        let rest = &address[from..];
        let chars: Vec<(usize, char)> = rest.char_indices().take(10).collect();
        // 区 after 社 (社区), a section (东区), 小 (小区) or 园 (园区) is no district.
        let Some(&(i, c)) = chars.iter().enumerate().skip(1).find_map(|(n, ic)| {
            let admin = match ic.1 {
                '省' | '市' | '县' | '旗' => true,
                '区' => !matches!(chars[n - 1].1, '社' | '东' | '西' | '南' | '北' | '中' | '小' | '园'),
                _ => false,
            };
            admin.then_some(ic)
        }) else {
            break;
        };
        let cut = from + i + c.len_utf8();
        // Something must be left to type.
        if address[cut..].chars().count() < 2 {
            break;
        }
        cuts.push(cut);
        from = cut;
    }
    cuts
}

fn coord(c: Coord<f64>) -> [f64; 2] {
    [c.x, c.y]
}

struct Builder {
    s: Suggester,
    keys: [Vec<Key>; 5],
}

impl Builder {
    fn kind_ix(kind: SuggestionKind) -> usize {
        KINDS.iter().position(|&k| k == kind).expect("a kind")
    }

    fn string(&mut self, text: String) -> u32 {
        self.s.strings.push(text.into_boxed_str());
        (self.s.strings.len() - 1) as u32
    }

    /// Adds a key for `text` (normalised here); empty text adds nothing.
    fn key(&mut self, target: u32, text: &str, class: KeyClass) {
        let norm = if class == KeyClass::Initials {
            text.to_string()
        } else {
            normalize(text)
        };
        if norm.is_empty() {
            return;
        }
        let s = self.string(norm);
        self.push(target, s, 0, class);
    }

    fn push(&mut self, target: u32, s: u32, off: u32, class: KeyClass) {
        let kind = self.s.targets[target as usize].kind;
        self.keys[Self::kind_ix(kind)].push(Key {
            s,
            off,
            target,
            class,
            street: false,
        });
    }

    /// Keys for a name: the name, its initials, and its character pairs for infix search.
    fn name(&mut self, target: u32, name: &str) {
        let norm = normalize(name);
        if norm.is_empty() {
            return;
        }
        let s = self.string(norm);
        self.push(target, s, 0, KeyClass::Primary);
        let text = &self.s.strings[s as usize];
        let mut prev: Option<(usize, char)> = None;
        let mut pairs = Vec::new();
        for (i, c) in text.char_indices() {
            if let Some((j, p)) = prev {
                pairs.push(((p, c), j as u32));
            }
            prev = Some((i, c));
        }
        for (pair, at) in pairs {
            self.s.pairs.entry(pair).or_default().push((s, at, target));
        }
        if let Some(ini) = initials(name) {
            self.key(target, &ini, KeyClass::Initials);
        }
    }

    fn target(&mut self, t: Target) -> u32 {
        self.s.targets.push(t);
        (self.s.targets.len() - 1) as u32
    }
}

impl Suggester {
    /// Indexes a dataset's communities, compounds, resources and building addresses, and a
    /// layer's grids (both levels may be given; micro-grids are left out). `grid_of` tells the
    /// grid holding a building, by its id.
    pub fn new<'a>(
        dataset: &Dataset,
        grids: impl IntoIterator<Item = &'a Grid>,
        grid_of: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let mut b = Builder {
            s: Suggester::default(),
            keys: Default::default(),
        };
        b.s.communities = dataset
            .communities
            .iter()
            .map(|c| (c.code.to_string().into_boxed_str(), c.name.clone().into_boxed_str()))
            .collect();
        for (ci, c) in dataset.communities.iter().enumerate() {
            let location = c.boundary.interior_point().map_or(Coord::zero(), |p| p.0);
            let t = b.target(Target {
                kind: SuggestionKind::Community,
                label: c.name.clone().into(),
                detail: Some(c.code.to_string().into()),
                address: None,
                id: None,
                compound: None,
                resource_kind: None,
                community: Some(ci as u32),
                grid: None,
                location: coord(location),
            });
            b.name(t, &c.name);
            let norm = normalize(&c.name);
            for suffix in ["社区居委会", "居委会", "社区", "村委会", "村"] {
                if let Some(stem) = norm.strip_suffix(suffix) {
                    if stem.chars().count() >= 2 {
                        b.key(t, stem, KeyClass::Primary);
                    }
                    break;
                }
            }
        }
        b.compounds_and_addresses(dataset, &grid_of);
        for r in &dataset.resources {
            let name = r.name.trim();
            // An unnamed resource (an import names it by its kind) is found by its kind's
            // legend entry, not by typing "shop".
            let named = !name.is_empty() && normalize(name).replace(['_', '-'], "") != r.kind.replace(['_', '-'], "");
            if !named {
                continue;
            }
            let t = b.target(Target {
                kind: SuggestionKind::Resource,
                label: name.into(),
                detail: r.address.clone().map(Into::into),
                address: r.address.clone().map(Into::into),
                id: Some(r.id.clone().into()),
                compound: None,
                resource_kind: Some(r.kind.clone().into()),
                community: r.community.map(|c| c as u32),
                grid: None,
                location: coord(r.location.0),
            });
            b.name(t, name);
            if let Some(address) = r.address.as_deref().filter(|a| !a.trim().is_empty()) {
                let cuts = admin_cuts(address);
                let local = cuts.last().copied().unwrap_or(0);
                b.key(t, &address[local..], KeyClass::Primary);
                if local > 0 {
                    b.key(t, address, KeyClass::Secondary);
                }
                // Both keys just added are the street address's.
                let keys = &mut b.keys[Builder::kind_ix(SuggestionKind::Resource)];
                let n = keys.len();
                for k in &mut keys[n.saturating_sub(if local > 0 { 2 } else { 1 })..] {
                    k.street = true;
                }
            }
        }
        let community_ix: FxHashMap<String, u32> =
            b.s.communities
                .iter()
                .enumerate()
                .map(|(i, (code, _))| (code.to_string(), i as u32))
                .collect();
        for g in grids.into_iter().filter(|g| g.level == GridLevel::Grid) {
            let community = community_ix.get(g.community_code.as_str()).copied();
            let location = g.area.interior_point().map_or(Coord::zero(), |p| p.0);
            let name = g
                .name
                .clone()
                .filter(|n| g.kind == GridKind::Exclusive && !n.trim().is_empty());
            let t = b.target(Target {
                kind: SuggestionKind::Grid,
                label: g.code.clone().into(),
                detail: name
                    .clone()
                    .or_else(|| community.map(|c| b.s.communities[c as usize].1.to_string()))
                    .map(Into::into),
                address: None,
                id: Some(g.code.clone().into()),
                compound: None,
                resource_kind: None,
                community,
                grid: Some(g.code.clone().into()),
                location: coord(location),
            });
            b.key(t, &g.code, KeyClass::Primary);
            if g.code.len() > 12 && g.code.starts_with(g.community_code.as_str()) {
                b.key(t, &g.code[g.community_code.len()..], KeyClass::Secondary);
            }
            if let Some(n) = &name {
                b.name(t, n);
            }
        }
        let Builder { mut s, mut keys } = b;
        for k in &mut keys {
            let strings = &s.strings;
            k.sort_unstable_by(|a, b| {
                strings[a.s as usize][a.off as usize..]
                    .cmp(&strings[b.s as usize][b.off as usize..])
                    .then(a.target.cmp(&b.target))
            });
            k.shrink_to_fit();
        }
        s.keys = keys;
        s
    }

    /// An address of the data, for a search box's placeholder: the first (in natural order) of
    /// the buildings in the largest compound, from the compound on; or the first building
    /// address; or a community's name.
    pub fn example(&self) -> Option<&str> {
        self.example.as_deref()
    }

    /// The suggestion of a building (kind `address`) by its id, whether or not it has an address.
    pub fn building(&self, id: &str) -> Option<Suggestion> {
        let &t = self.buildings.get(id)?;
        Some(self.suggestion(t, MatchClass::Exact))
    }
}

impl Builder {
    /// Compounds (one per name and community) and building addresses.
    fn compounds_and_addresses(&mut self, dataset: &Dataset, grid_of: &dyn Fn(&str) -> Option<String>) {
        let mut compounds: FxHashMap<(String, usize), u32> = FxHashMap::default();
        let mut compound_size: FxHashMap<u32, usize> = FxHashMap::default();
        // The placeholder's candidates: (compound size, label) per building of a compound.
        let mut examples: Vec<(u32, Box<str>)> = Vec::new();
        for building in &dataset.buildings {
            let community = building.community;
            let community_name = dataset.communities.get(community).map_or("", |c| c.name.as_str());
            let compound = building.compound.as_deref().map(str::trim).filter(|c| !c.is_empty());
            let compound_t = compound.map(|c| {
                let next = self.s.targets.len() as u32;
                let t = *compounds.entry((normalize(c), community)).or_insert(next);
                if t == next {
                    self.target(Target {
                        kind: SuggestionKind::Compound,
                        label: c.into(),
                        detail: Some(community_name.into()),
                        address: None,
                        id: None,
                        compound: Some(c.into()),
                        resource_kind: None,
                        community: Some(community as u32),
                        grid: None,
                        location: coord(building.anchor.0),
                    });
                    self.name(t, c);
                    if let Some((base, _)) = split_section(&normalize(c)) {
                        let base = base.to_string();
                        self.key(t, &base, KeyClass::Primary);
                    }
                }
                *compound_size.entry(t).or_default() += 1;
                t
            });
            let address = building.address.as_deref().map(str::trim).filter(|a| !a.is_empty());
            // From the compound on; else after the community's name; else after the district.
            let local = address.map_or(0, |a| {
                compound
                    .and_then(|c| a.find(c))
                    .or_else(|| {
                        (!community_name.is_empty())
                            .then(|| a.find(community_name).map(|i| i + community_name.len()))
                            .flatten()
                            .filter(|&i| i < a.len())
                    })
                    .or_else(|| admin_cuts(a).last().copied())
                    .unwrap_or(0)
            });
            let label = address.map_or_else(
                || compound.unwrap_or(building.id.as_str()).to_string(),
                |a| a[local..].to_string(),
            );
            let detail = match address {
                Some(a) if local > 0 => Some(a[..local].to_string()),
                _ => Some(community_name.to_string()).filter(|n| !n.is_empty()),
            };
            let t = self.target(Target {
                kind: SuggestionKind::Address,
                label: label.clone().into(),
                detail: detail.map(Into::into),
                address: address.map(Into::into),
                id: Some(building.id.clone().into()),
                compound: compound.map(Into::into),
                resource_kind: None,
                community: Some(community as u32),
                grid: grid_of(&building.id).map(Into::into),
                location: coord(building.anchor.0),
            });
            self.s.buildings.insert(building.id.clone().into(), t);
            let Some(a) = address else { continue };
            if let Some(c) = compound_t {
                examples.push((c, label.clone().into()));
            }
            // The whole address, normalised once; the typed part and the longer forms are its
            // suffixes where normalising the suffix gives the same text.
            let full = normalize(a);
            if full.is_empty() {
                continue;
            }
            let s = self.string(full);
            let mut cuts: Vec<usize> = admin_cuts(a);
            if let Some(i) = a.find(community_name).filter(|_| !community_name.is_empty()) {
                cuts.push(i);
            }
            cuts.push(0);
            cuts.push(local);
            cuts.sort_unstable();
            cuts.dedup();
            for cut in cuts.into_iter().filter(|&c| c <= local) {
                let class = if cut == local {
                    KeyClass::Primary
                } else {
                    KeyClass::Secondary
                };
                let part = normalize(&a[cut..]);
                let whole = &self.s.strings[s as usize];
                if part.is_empty() {
                    continue;
                }
                if whole.ends_with(part.as_str()) {
                    let off = (whole.len() - part.len()) as u32;
                    self.push(t, s, off, class);
                } else {
                    self.key(t, &part, class);
                }
            }
            // A sectioned compound's buildings without the section: 宛城花园东区3号楼 → 宛城花园3号楼.
            if let Some(c) = compound.filter(|c| a[local..].starts_with(c)) {
                let cn = normalize(c);
                if let Some((base, _)) = split_section(&cn) {
                    let alias = format!("{base}{}", normalize(&a[local + c.len()..]));
                    self.key(t, &alias, KeyClass::Primary);
                }
            }
            if let Some(ini) = initials(&label) {
                self.key(t, &ini, KeyClass::Initials);
            }
        }
        let biggest = examples
            .iter()
            .map(|(c, _)| compound_size.get(c).copied().unwrap_or(0))
            .max();
        self.s.example = examples
            .iter()
            .filter(|(c, _)| compound_size.get(c).copied() == biggest)
            .map(|(_, l)| l)
            .min_by(|a, b| natural_cmp(a, b))
            .map(|l| l.to_string())
            .or_else(|| {
                self.s
                    .targets
                    .iter()
                    .filter(|t| t.kind == SuggestionKind::Address && t.address.is_some())
                    .map(|t| &t.label)
                    .min_by(|a, b| natural_cmp(a, b))
                    .map(|l| l.to_string())
            })
            .or_else(|| self.s.communities.first().map(|(_, n)| n.to_string()));
    }
}

/// One candidate while ranking: (class, rank of its kind (see [`rank`]), characters left
/// untyped, target).
type Found = (MatchClass, u8, u32, u32);

/// The ranking's order of kinds: a resource found by its street address after building addresses.
pub fn rank(kind: SuggestionKind, by_street: bool) -> u8 {
    match (kind, by_street) {
        (SuggestionKind::Community, _) => 0,
        (SuggestionKind::Compound, _) => 1,
        (SuggestionKind::Resource, false) => 2,
        (SuggestionKind::Address, _) => 3,
        (SuggestionKind::Resource, true) => 4,
        (SuggestionKind::Grid, _) => 5,
    }
}

impl Suggester {
    fn text(&self, k: &Key) -> &str {
        &self.strings[k.s as usize][k.off as usize..]
    }

    fn suggestion(&self, t: u32, matched: MatchClass) -> Suggestion {
        let t = &self.targets[t as usize];
        let community = t.community.and_then(|c| self.communities.get(c as usize));
        let id = t.id.as_deref().map(str::to_string);
        Suggestion {
            kind: t.kind,
            matched,
            label: t.label.to_string(),
            detail: t.detail.as_deref().map(str::to_string),
            address: t.address.as_deref().map(str::to_string),
            building: id.clone().filter(|_| t.kind == SuggestionKind::Address),
            compound: t.compound.as_deref().map(str::to_string),
            resource: id.filter(|_| t.kind == SuggestionKind::Resource),
            resource_kind: t.resource_kind.as_deref().map(str::to_string),
            community_code: community.map(|c| c.0.to_string()),
            community_name: community.map(|c| c.1.to_string()),
            grid: t.grid.as_deref().map(str::to_string),
            location: t.location,
        }
    }

    /// Suggestions for what has been typed so far, best first; at most `limit` (capped at
    /// [`MAX_SUGGESTIONS`]). Nothing for blank text.
    pub fn suggest(&self, typed: &str, limit: usize) -> Vec<Suggestion> {
        let limit = limit.min(MAX_SUGGESTIONS);
        let q = normalize(typed);
        if q.is_empty() || limit == 0 {
            return Vec::new();
        }
        let qlen = q.chars().count() as u32;
        let mut found: Vec<Found> = Vec::new();
        // Per kind: exact and prefix matches (primary keys), infix (secondary keys).
        for (ki, keys) in self.keys.iter().enumerate() {
            let kind = KINDS[ki];
            let start = keys.partition_point(|k| self.text(k) < q.as_str());
            for k in keys[start..].iter().take(SCAN_CAP) {
                let text = self.text(k);
                if !text.starts_with(q.as_str()) {
                    break;
                }
                let left = text.chars().count() as u32 - qlen;
                let class = match k.class {
                    _ if left == 0 && k.class != KeyClass::Initials => MatchClass::Exact,
                    KeyClass::Primary => MatchClass::Prefix,
                    KeyClass::Secondary => MatchClass::Infix,
                    KeyClass::Initials => MatchClass::Initials,
                };
                found.push((class, rank(kind, k.street), left, k.target));
            }
        }
        // Inside names: only when the prefixes leave room, and for two characters or more.
        let strong = found.iter().filter(|f| f.0 <= MatchClass::Prefix).count();
        let mut it = q.chars();
        if strong < limit
            && let (Some(a), Some(b)) = (it.next(), it.next())
            && let Some(posting) = self.pairs.get(&(a, b))
        {
            for &(s, at, target) in posting.iter().take(SCAN_CAP) {
                let text = &self.strings[s as usize];
                if at > 0 && text[at as usize..].starts_with(q.as_str()) {
                    let left = text.chars().count() as u32 - qlen;
                    found.push((
                        MatchClass::Infix,
                        rank(self.targets[target as usize].kind, false),
                        left,
                        target,
                    ));
                }
            }
        }
        // The best match of each place, ranked; labels compared only among the few kept.
        found.sort_unstable();
        let mut seen: FxHashSet<u32> = FxHashSet::default();
        found.retain(|f| seen.insert(f.3));
        // Ties on all but the target are broken by label: keep whole tie groups up to the limit.
        let mut cut = found.len().min(limit);
        let head = |f: &Found| (f.0, f.1, f.2);
        while cut < found.len() && cut > 0 && head(&found[cut]) == head(&found[cut - 1]) {
            cut += 1;
        }
        let mut kept = found[..cut].to_vec();
        kept.sort_by(|a, b| {
            head(a).cmp(&head(b)).then_with(|| {
                let (ta, tb) = (&self.targets[a.3 as usize], &self.targets[b.3 as usize]);
                natural_cmp(&ta.label, &tb.label)
                    .then_with(|| ta.detail.cmp(&tb.detail))
                    .then_with(|| ta.id.cmp(&tb.id))
                    .then(a.3.cmp(&b.3))
            })
        });
        kept.truncate(limit);
        kept.into_iter().map(|f| self.suggestion(f.3, f.0)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_of_names() {
        assert_eq!(initials("康乐诊所").as_deref(), Some("klzs"));
        assert_eq!(initials("嘉禾公寓3号楼").as_deref(), Some("jhgy3hl"));
        assert_eq!(initials("Ａ座").as_deref(), Some("az"));
        assert_eq!(initials("Mannerheimintie 5"), None);
    }

    #[test]
    fn natural_order() {
        let mut v = vec!["嘉禾公寓10号楼", "嘉禾公寓2号楼", "嘉禾公寓1号楼", "嘉禾公寓02号楼"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            ["嘉禾公寓1号楼", "嘉禾公寓2号楼", "嘉禾公寓02号楼", "嘉禾公寓10号楼"]
        );
    }

    #[test]
    fn administrative_parts() {
        let a = "湖里区康乐路31号";
        assert_eq!(&a[admin_cuts(a)[0]..], "康乐路31号");
        let a = "福建省厦门市湖里区康乐路31号";
        let cuts = admin_cuts(a);
        assert_eq!(&a[cuts[1]..], "湖里区康乐路31号");
        let a = "宛城区医圣祠社区仲景佳园东区1号楼";
        assert_eq!(admin_cuts(a).len(), 1, "社区 is no district");
        assert!(admin_cuts("仲景佳园东区门口").is_empty(), "a section is no district");
        assert!(admin_cuts("康乐路31号").is_empty());
        assert!(admin_cuts("Mannerheimintie 5").is_empty());
    }
}
