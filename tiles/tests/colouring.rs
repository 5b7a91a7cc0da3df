//! The residents' map colouring: no two grids sharing a border of positive length share a
//! colour — checked against an independent oracle (geo's DE-9IM `relate`: the boundaries meet in
//! a line) on Zhongjing's nine communities and on a real OpenStreetMap import (Helsinki's
//! centre) — and colours stay with their codes when a version is re-published or re-partitioned.

use crate::common;

use common::*;
use geo::{BoundingRect, Relate, coordinate_position::CoordPos, dimensions::Dimensions};
use gis_core::grid::{Grid, GridKind, GridLevel};
use gis_core::io::grids::{GridLayer, LayerMeta};
use gis_core::partition::{PartitionOptions, RepartitionOptions, partition, repartition};
use std::collections::{BTreeMap, BTreeSet};
use tiles::data::grid_colours;
use tiles::palette::GRID_COLOURS;

/// Pairs of grid-level grids (indices into `grids`) whose boundaries meet in a line, by `relate`.
fn oracle_pairs(grids: &[Grid]) -> BTreeSet<(usize, usize)> {
    let level: Vec<usize> = (0..grids.len())
        .filter(|&i| grids[i].level == GridLevel::Grid)
        .collect();
    let rects: Vec<_> = level.iter().map(|&i| grids[i].area.bounding_rect().unwrap()).collect();
    let mut out = BTreeSet::new();
    for (x, &a) in level.iter().enumerate() {
        for (y, &b) in level.iter().enumerate().skip(x + 1) {
            let (p, q) = (rects[x], rects[y]);
            if p.max().x < q.min().x || q.max().x < p.min().x || p.max().y < q.min().y || q.max().y < p.min().y {
                continue;
            }
            let m = grids[a].area.relate(&grids[b].area);
            if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                out.insert((a, b));
            }
        }
    }
    out
}

/// Checks the colouring of `grids` against the oracle; returns (grids, borders, colours used).
fn check_proper(name: &str, grids: &[Grid]) -> (usize, usize, usize) {
    let colours = grid_colours(grids);
    let pairs = oracle_pairs(grids);
    assert!(!pairs.is_empty(), "{name}: no neighbouring grids at all?");
    for &(a, b) in &pairs {
        assert_ne!(
            colours[&a], colours[&b],
            "{name}: neighbours {} and {} share colour {}",
            grids[a].code, grids[b].code, colours[&a]
        );
    }
    assert!(colours.values().all(|&c| (c as usize) < GRID_COLOURS.len()));
    // Not a trivial colouring: the palette is used.
    let used: BTreeSet<u64> = colours.values().copied().collect();
    assert!(used.len() >= 4, "{name}: only colours {used:?}");
    (colours.len(), pairs.len(), used.len())
}

fn by_code(grids: &[Grid]) -> BTreeMap<String, u64> {
    let c = grid_colours(grids);
    c.into_iter().map(|(i, c)| (grids[i].code.clone(), c)).collect()
}

#[test]
fn zhongjing_neighbours_differ_and_colours_follow_codes() {
    let d = gis_core::io::load_dataset(&root().join("fixtures/zhongjing"))
        .expect("fixture")
        .dataset;
    let p = partition(&d, &PartitionOptions::default(), &mut |_, _| {});
    let (n, borders, used) = check_proper("zhongjing", &p.grids);
    let pairs = oracle_pairs(&p.grids);
    let across = pairs
        .iter()
        .filter(|&&(a, b)| p.grids[a].community_code != p.grids[b].community_code)
        .count();
    eprintln!("zhongjing: {n} grids, {borders} borders ({across} across community lines), {used} colours");
    assert!(
        across > 0,
        "Zhongjing's communities touch: some borders cross community lines"
    );

    // Re-published with the same codes (any order): the same colours.
    let before = by_code(&p.grids);
    let mut shuffled = p.grids.clone();
    shuffled.reverse();
    assert_eq!(by_code(&shuffled), before);

    // Re-partitioned after the biggest grid grew past the maximum: grids that keep their code
    // and whose neighbourhood did not change keep their colour, nearly all of them.
    let mut d2 = d.clone();
    let big = p
        .grids
        .iter()
        .filter(|g| g.kind == GridKind::Basic && g.level == GridLevel::Grid)
        .max_by_key(|g| g.population)
        .unwrap();
    let ids: BTreeSet<&str> = big.buildings.iter().map(String::as_str).collect();
    for b in d2.buildings.iter_mut().filter(|b| ids.contains(b.id.as_str())) {
        b.population += b.population * 20 / 100 + 1;
    }
    let layer = GridLayer {
        grids: p.grids.clone(),
        meta: LayerMeta {
            bounds: Some(Default::default()),
            ..LayerMeta::default()
        },
    };
    let r = repartition(&d2, &layer, &RepartitionOptions::default()).unwrap();
    check_proper("zhongjing re-partitioned", &r.layer.grids);
    let after = by_code(&r.layer.grids);
    let neighbourhood = |grids: &[Grid]| -> BTreeMap<String, BTreeSet<String>> {
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in oracle_pairs(grids) {
            m.entry(grids[a].code.clone())
                .or_default()
                .insert(grids[b].code.clone());
            m.entry(grids[b].code.clone())
                .or_default()
                .insert(grids[a].code.clone());
        }
        m
    };
    let (nb_before, nb_after) = (neighbourhood(&p.grids), neighbourhood(&r.layer.grids));
    let kept: Vec<&String> = after
        .keys()
        .filter(|c| before.contains_key(*c) && nb_before.get(*c) == nb_after.get(*c))
        .collect();
    let same = kept.iter().filter(|c| before[**c] == after[**c]).count();
    let changed = before.keys().filter(|c| after.get(*c) != before.get(*c)).count();
    eprintln!(
        "re-partition: {} of {} grids with the same code and neighbours keep their colour; {changed} of {} codes changed colour or went",
        same,
        kept.len(),
        before.len()
    );
    assert!(kept.len() > 50, "the re-partition changed most of Zhongjing?");
    // A grid can still change when a neighbour with a smaller code had to (a colour cascades
    // along the code order); on this change 90 of 91 keep theirs.
    assert!(
        same * 100 >= kept.len() * 95,
        "only {same} of {} grids with the same code and neighbours kept their colour",
        kept.len()
    );
    assert!(
        changed * 10 <= before.len(),
        "{changed} of {} grids changed colour",
        before.len()
    );
}

#[test]
fn a_real_osm_import_neighbours_differ() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("helsinki");
    let spec: import::SourceSpec = root()
        .join("fixtures/osm/Helsinki.osm.pbf")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let imported = import::import(&import::ImportOptions::new(vec![spec], dir)).expect("Helsinki imports");
    let d = imported.loaded.dataset;
    let p = partition(&d, &PartitionOptions::default(), &mut |_, _| {});
    let (n, borders, used) = check_proper("helsinki", &p.grids);
    eprintln!("helsinki: {n} grids, {borders} borders, {used} colours");
    assert!(n >= 5, "Helsinki's centre holds several grids");
}
