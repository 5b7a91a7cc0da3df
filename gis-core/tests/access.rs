//! Life circles (`gis_core::access`): coverage per grid and community on the fixtures against a
//! brute-force walk from each building to every place of a kind, a home behind a wall getting
//! the longer walk, population points counted, and every bad `access.json` field named.

use crate::common::*;
use geo::{LineString, MultiLineString, MultiPolygon, Point, polygon};
use gis_core::Dataset;
use gis_core::access::{Access, AccessConfig, Homes, Walks};
use gis_core::grid::{Grid, GridLevel};
use gis_core::io::{InputProblemKind, load_dataset_files};
use gis_core::model::{Building, Community, CommunityCode, Resource, Road, WalkBarrier, WalkLayer, WalkPassage};
use gis_core::partition::{PartitionOptions, partition};
use gis_core::walk::WalkNetwork;
use serde_json::json;
use std::collections::BTreeMap;

fn grids_of(d: &Dataset) -> Vec<Grid> {
    partition(d, &PartitionOptions::default(), &mut |_, _| {}).grids
}

/// Metres from a building to its nearest place of `kind`, by a separate route to every place.
fn brute_force(net: &WalkNetwork, d: &Dataset, b: usize, kind: &str) -> f64 {
    let Some(from) = net.snap_building(&d.buildings[b].footprint, d.buildings[b].anchor) else {
        return f64::INFINITY;
    };
    d.resources
        .iter()
        .filter(|r| r.kind == kind)
        .filter_map(|r| net.snap(r.location.0))
        .filter_map(|to| net.route(&to, &from))
        .map(|r| r.metres)
        .fold(f64::INFINITY, f64::min)
}

/// The walks agree with brute force on every `step`-th building, and the report's counts with
/// a plain recount of the walks per community and per grid, circle by circle.
fn check(name: &str, step: usize) {
    let d = load(name);
    let grids = grids_of(&d);
    let net = WalkNetwork::build(&d.roads, &d.walk);
    let access = Access::compute(&d, &net, &grids, &AccessConfig::default());
    let config = &access.config;
    let mut compared = 0;
    for kind in ["clinic", "school", "hospital"] {
        let walk = access.walks.kind(kind).unwrap();
        for b in (0..d.buildings.len()).step_by(step) {
            let want = brute_force(&net, &d, b, kind);
            let got = walk.buildings[b];
            assert!(
                (want.is_infinite() && got.is_infinite()) || (want - got).abs() < 1e-6,
                "{name}: building {} to the nearest {kind}: {got} m by the region's search, {want} m by routes",
                d.buildings[b].id
            );
            compared += 1;
        }
    }
    assert!(compared > 100, "{compared}");
    let report = &access.report;
    // Everyone counted once per community: buildings and population points.
    let people: u64 = d.buildings.iter().map(|b| u64::from(b.population)).sum::<u64>()
        + d.points.iter().map(|p| u64::from(p.count)).sum::<u64>();
    assert_eq!(report.communities.iter().map(|c| c.residents).sum::<u64>(), people);
    let in_grids: u64 = grids
        .iter()
        .filter(|g| g.level == GridLevel::Grid)
        .map(|g| g.population)
        .sum();
    assert_eq!(report.grids.iter().map(|g| g.residents).sum::<u64>(), in_grids);
    for (k, kind) in config.kinds.keys().enumerate() {
        let walk = access.walks.kind(kind).unwrap();
        for (ci, c) in report.communities.iter().enumerate() {
            let ka = &c.kinds[k];
            assert_eq!(&ka.kind, kind);
            for (i, circle) in config.circles.iter().enumerate() {
                let want: u64 = d
                    .buildings
                    .iter()
                    .enumerate()
                    .filter(|(b, bl)| bl.community == ci && walk.buildings[*b] <= circle.metres)
                    .map(|(_, bl)| u64::from(bl.population))
                    .sum::<u64>()
                    + d.points
                        .iter()
                        .enumerate()
                        .filter(|(p, pt)| pt.community == ci && walk.points[*p] <= circle.metres)
                        .map(|(_, pt)| u64::from(pt.count))
                        .sum::<u64>();
                assert_eq!(
                    ka.within[i].residents, want,
                    "{name} {} {kind} within {} min",
                    c.code, circle.minutes
                );
            }
            let own = ka.within.iter().find(|w| w.minutes == ka.circle.minutes).unwrap();
            assert_eq!(own.residents + ka.residents_beyond, c.residents);
            assert_eq!(ka.covered_share, own.residents_share);
        }
        // Per grid: the basic and exclusive grids' counts add up to the communities' (every
        // building is in a grid).
        let within_grids: u64 = report.grids.iter().map(|g| g.kinds[k].within[2].residents).sum();
        let within_communities: u64 = report.communities.iter().map(|c| c.kinds[k].within[2].residents).sum();
        assert_eq!(within_grids, within_communities, "{name} {kind}");
        // The furthest buildings are beyond the circle, most residents × metres first.
        let far = &report.furthest[k];
        let circle = config.circle_of(kind).unwrap();
        let weights: Vec<f64> = far
            .buildings
            .iter()
            .map(|b| b.metres.map_or(f64::INFINITY, |m| m * b.residents as f64))
            .collect();
        assert!(weights.windows(2).all(|w| w[0] >= w[1]), "{name} {kind}: {weights:?}");
        assert!(far.buildings.iter().all(|b| b.metres.is_none_or(|m| m > circle.metres)));
        assert!(
            far.grids
                .windows(2)
                .all(|w| w[0].residents_beyond >= w[1].residents_beyond)
        );
    }
}

#[test]
fn kangle_coverage_agrees_with_a_route_from_every_building() {
    check("kangle", 1);
}

#[test]
fn zhongjing_coverage_agrees_with_routes_and_counts_its_population_points() {
    let d = load("zhongjing");
    assert!(!d.points.is_empty());
    check("zhongjing", 23);
}

/// Three buildings on a street with a clinic at its west end; the east one is walled in with
/// the only gate on the far side, so it walks round.
#[test]
fn a_building_behind_a_wall_gets_the_longer_walk() {
    let road = |id: &str, pts: &[(f64, f64)]| Road {
        id: id.into(),
        name: None,
        class: None,
        line: MultiLineString(vec![LineString::from(pts.to_vec())]),
    };
    let square = |x: f64, y: f64, id: &str, population: u32| {
        let h = 0.00005;
        let footprint = MultiPolygon(vec![polygon![
            (x: x - h, y: y - h), (x: x + h, y: y - h), (x: x + h, y: y + h), (x: x - h, y: y + h)
        ]]);
        Building {
            id: id.into(),
            footprint,
            population,
            households: population / 2,
            households_estimated: false,
            address: None,
            compound: None,
            floors: None,
            units: Vec::new(),
            anchor: Point::new(x, y),
            community: 0,
            exclusive_unit: None,
        }
    };
    // A street along y = 24.500 and a back lane along y = 24.502, joined at the far east end.
    let roads = vec![
        road("street", &[(118.100, 24.500), (118.102, 24.500), (118.106, 24.500)]),
        road("lane", &[(118.102, 24.502), (118.106, 24.502)]),
        road("link", &[(118.106, 24.500), (118.106, 24.502)]),
    ];
    let open = square(118.1020, 24.5006, "open", 100);
    let walled = square(118.1020, 24.5014, "walled", 100);
    // A wall between the two buildings, from the street's west end to beyond the east end: the
    // walled building reaches only the lane.
    let walk = WalkLayer {
        barriers: vec![WalkBarrier {
            id: "wall".into(),
            kind: "wall".into(),
            line: MultiLineString(vec![LineString::from(vec![(118.0995, 24.5010), (118.1070, 24.5010)])]),
        }],
        passages: vec![WalkPassage {
            id: "far-gate".into(),
            kind: "gate".into(),
            location: Point::new(118.106, 24.5010),
        }],
        ..WalkLayer::default()
    };
    let d = Dataset {
        communities: vec![Community {
            code: CommunityCode::parse("350206001017").unwrap(),
            name: "康乐社区".into(),
            boundary: MultiPolygon(vec![polygon![
                (x: 118.099, y: 24.499), (x: 118.107, y: 24.499), (x: 118.107, y: 24.503), (x: 118.099, y: 24.503)
            ]]),
        }],
        buildings: vec![open, walled],
        resources: vec![Resource {
            id: "C1".into(),
            kind: "clinic".into(),
            name: "诊所".into(),
            phone: None,
            hours: None,
            address: None,
            location: Point::new(118.1000, 24.4999),
            community: Some(0),
        }],
        roads,
        walk,
        ..Dataset::default()
    };
    let net = WalkNetwork::build(&d.roads, &d.walk);
    let homes = Homes::snap(&net, &d);
    let walks = Walks::compute(&net, &d, &homes, &["clinic".to_string()]);
    let m = &walks.kind("clinic").unwrap().buildings;
    // The open building: ~66 m to the street, 200 m west to the clinic.
    assert!(m[0] < 300.0, "{m:?}");
    // The walled one: up to the lane, east 400 m, down the link, west 600 m along the street.
    assert!(m[1] > 1000.0, "{m:?}");
    let access = Access::compute(&d, &net, &[], &AccessConfig::default());
    let clinic = access.report.communities[0]
        .kinds
        .iter()
        .find(|k| k.kind == "clinic")
        .unwrap();
    assert_eq!((clinic.within[0].residents, clinic.residents_beyond), (100, 100));
    assert_eq!(clinic.covered_share, Some(0.5));
    let far = &access
        .report
        .furthest
        .iter()
        .find(|f| f.kind == "clinic")
        .unwrap()
        .buildings;
    assert_eq!(far.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(), ["walled"]);
    assert_eq!(far[0].nearest.as_deref(), Some("C1"));
    // With no wall and no lane the same building walks straight down to the street: ~155 m
    // down, ~203 m west, ~11 m to the clinic.
    let d = Dataset {
        walk: WalkLayer::default(),
        roads: vec![d.roads[0].clone()],
        ..d
    };
    let net = WalkNetwork::build(&d.roads, &d.walk);
    let walks = Walks::compute(&net, &d, &Homes::snap(&net, &d), &["clinic".to_string()]);
    let near = walks.kind("clinic").unwrap().buildings[1];
    assert!((near - 369.0).abs() < 3.0, "{near}");
    assert!(m[1] > 3.0 * near, "{} vs {near}", m[1]);
}

fn kangle_with_access(access: serde_json::Value) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for f in [
        "boundary.geojson",
        "buildings.geojson",
        "roads.geojson",
        "resources.geojson",
    ] {
        files.insert(
            f.to_string(),
            std::fs::read_to_string(fixture("kangle").join(f)).unwrap(),
        );
    }
    files.insert("access.json".into(), access.to_string());
    files
}

#[test]
fn access_json_sets_circles_and_kinds() {
    let d = load_dataset_files(
        std::path::Path::new("kangle"),
        kangle_with_access(
            json!({"speed_m_per_min": 60, "circles": [{"minutes": 5}, {"minutes": 10, "metres": 700}],
            "kinds": {"诊所": 5, "Pharmacy": 10}, "furthest": 2}),
        ),
    )
    .unwrap()
    .dataset;
    assert_eq!(d.access.circles[0].metres, 300.0);
    assert_eq!(d.access.kinds.keys().collect::<Vec<_>>(), ["clinic", "pharmacy"]);
    let access = Access::of_dataset(&d, &grids_of(&d));
    assert_eq!(access.report.kinds.len(), 2);
    assert!(access.report.furthest.iter().all(|f| f.buildings.len() <= 2));
    let c = &access.report.communities[0];
    assert_eq!(c.kinds[0].within.len(), 2);
    assert_eq!(c.kinds[1].circle.metres, 700.0);
}

#[test]
fn every_bad_access_json_field_is_named() {
    let problems = match load_dataset_files(
        std::path::Path::new("kangle"),
        kangle_with_access(
            json!({"speed_m_per_min": "fast", "circles": [{"minutes": 5, "metres": 0}],
            "kinds": {"clinic": 15}, "colour": "red"}),
        ),
    ) {
        Ok(_) => panic!("a bad access.json was accepted"),
        Err(e) => e.problems,
    };
    let fields: Vec<(&str, Option<&str>)> = problems.iter().map(|p| (p.file.as_str(), p.field.as_deref())).collect();
    assert_eq!(
        fields,
        [
            ("access.json", Some("colour")),
            ("access.json", Some("speed_m_per_min")),
            ("access.json", Some("circles[0].metres")),
            ("access.json", Some("kinds.clinic")),
        ],
        "{problems:?}"
    );
    assert!(problems.iter().all(|p| p.kind == InputProblemKind::InvalidValue));
    let text = load_dataset_files(std::path::Path::new("kangle"), kangle_with_access(json!([1])))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("access.json") && text.contains("expected an object"),
        "{text}"
    );
    let e = AccessConfig::from_file(std::path::Path::new("/nonexistent/access.json")).unwrap_err();
    assert!(e.to_string().starts_with("/nonexistent/access.json"), "{e}");
}

#[test]
fn a_region_without_roads_reaches_nothing() {
    let mut d = load("kangle");
    d.roads.clear();
    let access = Access::of_dataset(&d, &[]);
    let c = &access.report.communities[0];
    assert!(c.kinds.iter().all(|k| k.within.iter().all(|w| w.residents == 0)));
    assert!(c.kinds.iter().all(|k| k.residents_unreached == c.residents));
    assert_eq!(access.report.homes_not_joined, d.buildings.len());
}
