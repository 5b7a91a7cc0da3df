//! Suggestions as people type, on the Kangle and Zhongjing fixtures: ranking, compounds named
//! without their section, street numbers, pinyin initials, every address finding its building,
//! and the limits.

use crate::common;

use common::*;
use gis_core::Dataset;
use gis_core::grid::{Grid, GridLevel};
use gis_core::lookup::normalize;
use gis_core::lookup::*;
use gis_core::partition::{PartitionOptions, partition};
use std::sync::LazyLock;

static KANGLE: LazyLock<(Dataset, Vec<Grid>, LookupIndex)> = LazyLock::new(|| index("kangle"));
static URBAN_VILLAGE: LazyLock<(Dataset, Vec<Grid>, LookupIndex)> = LazyLock::new(|| index("urban-village"));
static ZHONGJING: LazyLock<(Dataset, Vec<Grid>, LookupIndex)> = LazyLock::new(|| index("zhongjing"));

fn index(name: &str) -> (Dataset, Vec<Grid>, LookupIndex) {
    let d = load(name);
    let grids: Vec<Grid> = partition(&d, &PartitionOptions::default(), &mut |_, _| {}).grids;
    let i = LookupIndex::new(&d, grids.clone(), &d.staff).unwrap();
    (d, grids, i)
}

fn show(s: &[Suggestion]) -> String {
    s.iter()
        .map(|s| {
            format!(
                "{:?}/{:?} {} [{}]",
                s.kind,
                s.matched,
                s.label,
                s.detail.as_deref().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn labels(s: &[Suggestion]) -> Vec<&str> {
    s.iter().map(|s| s.label.as_str()).collect()
}

/// Ranked as documented: class, then kind (a resource by its street after building addresses).
fn assert_ranked(q: &str, s: &[Suggestion]) {
    let key = |s: &Suggestion| {
        let named = normalize(&s.label).contains(&normalize(q));
        let street = s.kind == SuggestionKind::Resource && s.matched != MatchClass::Initials && !named;
        (s.matched, gis_core::lookup::suggest::rank(s.kind, street))
    };
    for w in s.windows(2) {
        assert!(key(&w[0]) <= key(&w[1]), "{q}: out of order:\n{}", show(s));
    }
}

#[test]
fn a_community_name_begins_the_list_and_places_come_before_buildings() {
    let (_, _, i) = &*KANGLE;
    let s = i.suggest("康乐", 8).unwrap();
    assert_ranked("康乐", &s);
    assert_eq!(s.len(), 8);
    // The community by its name without 社区: exact.
    assert_eq!(
        (s[0].kind, s[0].matched, s[0].label.as_str()),
        (SuggestionKind::Community, MatchClass::Exact, "康乐社区")
    );
    assert_eq!(s[0].community_code.as_deref(), Some("350206001017"));
    // Resources named 康乐… before resources whose street is 康乐路 (and before the buildings).
    let resources: Vec<&Suggestion> = s.iter().filter(|s| s.kind == SuggestionKind::Resource).collect();
    let first_by_street = resources.iter().position(|r| !r.label.starts_with("康乐"));
    if let Some(p) = first_by_street {
        assert!(
            resources[p..].iter().all(|r| !r.label.starts_with("康乐")),
            "{}",
            show(&s)
        );
    }
    assert!(labels(&s).contains(&"康乐诊所"), "{}", show(&s));
    // No building is listed while places match: they all hold 康乐社区 only inside their address.
    assert!(s.iter().all(|s| s.kind != SuggestionKind::Address), "{}", show(&s));
}

#[test]
fn a_compound_then_its_buildings_in_natural_order() {
    let (d, _, i) = &*KANGLE;
    let s = i.suggest("嘉禾", 12).unwrap();
    assert_ranked("嘉禾", &s);
    assert_eq!((s[0].kind, s[0].label.as_str()), (SuggestionKind::Compound, "嘉禾公寓"));
    let buildings: Vec<&str> = s[1..].iter().map(|s| s.label.as_str()).collect();
    let n = d
        .buildings
        .iter()
        .filter(|b| b.compound.as_deref() == Some("嘉禾公寓"))
        .count()
        .min(11);
    let want: Vec<String> = (1..=n).map(|k| format!("嘉禾公寓{k}号楼")).collect();
    assert_eq!(buildings, want, "2号楼 before 10号楼:\n{}", show(&s));
    // Typing on narrows to the building, with the grid that holds it.
    let s = i.suggest("嘉禾公寓3", 8).unwrap();
    assert_eq!(s[0].label, "嘉禾公寓3号楼");
    assert_eq!(s[0].kind, SuggestionKind::Address);
    assert_eq!(s[0].detail.as_deref(), Some("湖里区康乐社区"));
    let b = s[0].building.as_deref().unwrap();
    let holder = i.geocode("嘉禾公寓3号楼", 1).unwrap().candidates[0]
        .grid
        .clone()
        .unwrap();
    assert_eq!(s[0].grid.as_deref(), Some(holder.code.as_str()));
    // Choosing it opens the same building and grid as the address lookup.
    let chosen = i.building(b).unwrap();
    assert_eq!(chosen.grid.unwrap().code, holder.code);
    assert_eq!(chosen.candidate.address, "湖里区康乐社区嘉禾公寓3号楼");
    // The whole address, as the dataset writes it, is exact.
    let s = i.suggest("湖里区康乐社区嘉禾公寓3号楼", 8).unwrap();
    assert_eq!((s[0].matched, s[0].building.as_deref()), (MatchClass::Exact, Some(b)));
    // Full-width digits and Chinese numerals read the same.
    let s = i.suggest("嘉禾公寓三号楼", 8).unwrap();
    assert_eq!(s[0].building.as_deref(), Some(b));
}

#[test]
fn a_street_number_finds_the_place_there() {
    let (d, _, i) = &*KANGLE;
    let s = i.suggest("康乐路31号", 8).unwrap();
    let r = d
        .resources
        .iter()
        .find(|r| r.address.as_deref() == Some("湖里区康乐路31号"))
        .unwrap();
    assert_eq!(s[0].kind, SuggestionKind::Resource);
    assert_eq!(s[0].matched, MatchClass::Exact);
    assert_eq!(s[0].resource.as_deref(), Some(r.id.as_str()));
    assert_eq!(s[0].resource_kind.as_deref(), Some(r.kind.as_str()));
    assert_eq!(s[0].label, r.name);
    // The street alone lists what is on it.
    let s = i.suggest("康乐路", 20).unwrap();
    assert_ranked("康乐路", &s);
    assert!(
        s.iter().any(|s| s.resource.as_deref() == Some(r.id.as_str())),
        "{}",
        show(&s)
    );
    // A lane's buildings come before the shops on it (the urban village's lanes).
    let (vd, _, v) = &*URBAN_VILLAGE;
    let on_lane = vd
        .resources
        .iter()
        .find_map(|r| r.address.as_deref().filter(|a| a.contains('巷')))
        .unwrap();
    // 天河区岗心村中坊3巷9号 → 岗心村中坊3巷
    let street = &on_lane[on_lane.find('区').unwrap() + '区'.len_utf8()..on_lane.find('巷').unwrap() + '巷'.len_utf8()];
    let s = v.suggest(street, 20).unwrap();
    assert_ranked(street, &s);
    assert_eq!(s[0].kind, SuggestionKind::Address, "{street}:\n{}", show(&s));
    assert!(s[0].label.starts_with(street));
    // Its resources, further down, when few buildings are on it.
    let s = v.suggest(on_lane.split_once('区').unwrap().1, 5).unwrap();
    assert_eq!(s[0].matched, MatchClass::Exact, "{}", show(&s));
}

#[test]
fn resource_names_by_prefix_infix_and_pinyin_initials() {
    let (_, _, i) = &*KANGLE;
    let s = i.suggest("康乐诊所", 8).unwrap();
    assert_eq!(
        (s[0].kind, s[0].matched, s[0].label.as_str()),
        (SuggestionKind::Resource, MatchClass::Exact, "康乐诊所")
    );
    let s = i.suggest("klzs", 8).unwrap();
    assert_eq!(
        (s[0].matched, s[0].label.as_str()),
        (MatchClass::Initials, "康乐诊所"),
        "{}",
        show(&s)
    );
    let s = i.suggest("KLZS", 8).unwrap();
    assert_eq!(s[0].label, "康乐诊所");
    let s = i.suggest("jhgy3", 8).unwrap();
    assert_eq!(
        (s[0].kind, s[0].label.as_str()),
        (SuggestionKind::Address, "嘉禾公寓3号楼"),
        "{}",
        show(&s)
    );
    // Inside a name: 诊所 finds every clinic named so, after any prefix match.
    let (_, _, z) = &*ZHONGJING;
    let s = z.suggest("药店", 20).unwrap();
    assert_ranked("药店", &s);
    assert!(s.len() > 3, "{}", show(&s));
    assert!(s.iter().all(|s| s.label.contains("药店")), "{}", show(&s));
    assert!(
        s.iter()
            .all(|s| s.matched == MatchClass::Infix || s.label.starts_with("药店"))
    );
}

#[test]
fn a_compound_without_its_section_suggests_its_sections() {
    let (d, _, i) = &*ZHONGJING;
    let s = i.suggest("宛城花园", 8).unwrap();
    assert_ranked("宛城花园", &s);
    assert_eq!(
        s[..2]
            .iter()
            .map(|s| (s.kind, s.matched, s.label.as_str()))
            .collect::<Vec<_>>(),
        [
            (SuggestionKind::Compound, MatchClass::Exact, "宛城花园东区"),
            (SuggestionKind::Compound, MatchClass::Exact, "宛城花园西区")
        ],
        "{}",
        show(&s)
    );
    // A building number after the name without the section: that building of each section.
    let with3 = |sec: &str| {
        d.buildings.iter().any(|b| {
            b.address
                .as_deref()
                .is_some_and(|a| a.ends_with(&format!("宛城花园{sec}3号楼")))
        })
    };
    assert!(
        with3("东区") && with3("西区"),
        "the fixture has building 3 in both sections"
    );
    let s = i.suggest("宛城花园3号楼", 8).unwrap();
    assert_eq!(
        labels(&s[..2]),
        ["宛城花园东区3号楼", "宛城花园西区3号楼"],
        "{}",
        show(&s)
    );
    assert!(s[..2].iter().all(|s| s.matched == MatchClass::Exact));
    // Every sectioned compound of the fixture answers to its base name with all its sections.
    let mut sections: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for c in d.buildings.iter().filter_map(|b| b.compound.as_deref()) {
        if let Some((base, _)) = gis_core::lookup::geocode::split_section(c) {
            let v = sections.entry(base.to_string()).or_default();
            if !v.iter().any(|x| x == c) {
                v.push(c.to_string());
            }
        }
    }
    assert!(sections.len() > 50, "{}", sections.len());
    for (base, secs) in &sections {
        let s = i.suggest(base, 20).unwrap();
        for sec in secs {
            assert!(
                s.iter().any(|s| s.kind == SuggestionKind::Compound && &s.label == sec),
                "{base}: {sec} missing:\n{}",
                show(&s)
            );
        }
    }
}

#[test]
fn the_address_lookup_reads_a_compound_without_its_section_too() {
    let (_, _, i) = &*ZHONGJING;
    let a = i.geocode("宛城花园", 5).unwrap();
    assert!(a.ambiguous);
    let names: Vec<_> = a
        .candidates
        .iter()
        .map(|c| c.candidate.compound.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(names, ["宛城花园东区", "宛城花园西区"], "{a:?}");
    assert!(a.candidates.iter().all(|c| c.candidate.level == MatchLevel::Compound));
    let a = i.geocode("汉画街社区宛城花园3号楼", 5).unwrap();
    assert!(a.ambiguous, "two sections have a building 3");
    let mut addrs: Vec<_> = a.candidates.iter().map(|c| c.candidate.address.as_str()).collect();
    addrs.sort();
    assert_eq!(a.candidates[0].candidate.score, a.candidates[1].candidate.score);
    assert_eq!(
        addrs,
        ["宛城区汉画街社区宛城花园东区3号楼", "宛城区汉画街社区宛城花园西区3号楼"]
    );
    // The section named: that building alone, as before.
    let a = i.geocode("宛城花园西区3号楼", 5).unwrap();
    assert!(!a.ambiguous);
    assert_eq!(a.candidates[0].candidate.address, "宛城区汉画街社区宛城花园西区3号楼");
}

#[test]
fn sections_split_as_people_write_them() {
    use gis_core::lookup::geocode::split_section;
    assert_eq!(split_section("宛城花园东区"), Some(("宛城花园", "东区")));
    assert_eq!(split_section("中荷华庭3期"), Some(("中荷华庭", "3期")));
    assert_eq!(split_section("金湖家园a区"), Some(("金湖家园", "a区")));
    assert_eq!(split_section("嘉禾公寓"), None);
    assert_eq!(split_section("东区"), None);
    assert_eq!(split_section("康乐社区"), None, "社区 is no section");
    assert_eq!(split_section("12期"), None);
}

#[test]
fn every_address_finds_its_building_and_every_grid_its_code() {
    for (d, grids, i) in [&*KANGLE, &*ZHONGJING] {
        let mut checked = 0;
        for b in d.buildings.iter().filter(|b| b.address.is_some()) {
            let mine = i.building(&b.id).unwrap();
            let label = i.suggest(mine.candidate.address.as_str(), 20).unwrap();
            assert!(
                label
                    .iter()
                    .any(|s| s.building.as_deref() == Some(b.id.as_str()) && s.matched == MatchClass::Exact),
                "{}: {}",
                b.id,
                show(&label)
            );
            checked += 1;
        }
        assert!(checked > 100);
        for g in grids.iter().filter(|g| g.level == GridLevel::Grid) {
            let s = i.suggest(&g.code, 5).unwrap();
            assert_eq!((s[0].kind, s[0].matched), (SuggestionKind::Grid, MatchClass::Exact));
            assert_eq!(s[0].grid.as_deref(), Some(g.code.as_str()));
            assert_eq!(i.grid(&g.code).unwrap().code, g.code);
        }
    }
}

#[test]
fn stable_and_bounded_answers_and_rejections() {
    let (_, _, i) = &*ZHONGJING;
    for q in ["宛", "花园", "1", "3号楼", "yszsq", "医圣祠社区仲景", "4113020010"] {
        let a = i.suggest(q, 20).unwrap();
        assert!(a.len() <= 20);
        assert_ranked(q, &a);
        assert_eq!(a, i.suggest(q, 20).unwrap(), "{q}: the same answer twice");
        // A smaller limit is the head of a larger one.
        let head = i.suggest(q, 5).unwrap();
        assert_eq!(head[..], a[..head.len().min(a.len())], "{q}");
    }
    assert!(i.suggest("北京市朝阳区", 8).unwrap().is_empty());
    assert!(matches!(i.suggest("", 8), Err(LookupError::EmptyQuery)));
    assert!(matches!(i.suggest("  　", 8), Err(LookupError::EmptyQuery)));
    assert!(matches!(
        i.suggest("宛", 0),
        Err(LookupError::InvalidLimit { max: 20, got: 0 })
    ));
    assert!(matches!(i.suggest("宛", 21), Err(LookupError::InvalidLimit { .. })));
    assert!(matches!(
        i.suggest(&"宛".repeat(101), 8),
        Err(LookupError::QueryTooLong { max: 100 })
    ));
    assert!(i.building("no-such-building").is_none());
    assert!(i.grid("000000000000000").is_none());
}

#[test]
fn the_search_example_is_an_address_of_the_data() {
    for (d, _, i) in [&*KANGLE, &*ZHONGJING] {
        let example = i.search_example().unwrap();
        assert!(
            d.buildings
                .iter()
                .any(|b| b.address.as_deref().is_some_and(|a| a.ends_with(example))),
            "{example}"
        );
        // And it finds its building.
        assert_eq!(i.suggest(example, 1).unwrap()[0].matched, MatchClass::Exact);
    }
}
