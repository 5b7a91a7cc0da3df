//! The walking layer of real OpenStreetMap extracts (footways, walls, gates kept by import), and
//! walking distances on it checked by an independent router: networkx's Dijkstra
//! (`scripts/tests/walk_networkx.py`) on the same graph, exported as an edge list, for 1,000
//! random building–resource pairs on Helsinki's centre, within 1 m.

use super::*;
use gis_core::walk::{Snap, WalkNetwork};
use serde_json::json;

fn import(extract: &str, out: &Path) -> gis_core::Dataset {
    let r = wangge(&[
        "import",
        s(&fixture(extract)),
        "--out",
        s(out),
        "--community-code",
        "999999002001",
        "--json",
    ]);
    assert!(r.status.success(), "{}", text(&r));
    gis_core::io::load_dataset(out).unwrap().dataset
}

#[test]
fn osm_import_keeps_footways_walls_and_gates() {
    for extract in ["osm/Helsinki.osm.pbf", "osm/test.osm.pbf"] {
        let dir = tempfile::tempdir().unwrap();
        let d = import(extract, &dir.path().join("ds"));
        let w = &d.walk;
        let kinds: std::collections::BTreeSet<&str> = w.ways.iter().filter_map(|w| w.kind.as_deref()).collect();
        eprintln!(
            "{extract}: {} ways {kinds:?}, {} barriers, {} passages; {} roads",
            w.ways.len(),
            w.barriers.len(),
            w.passages.len(),
            d.roads.len()
        );
        assert!(w.ways.len() > 10, "{extract}: footways and paths kept");
        assert!(
            kinds.contains("footway") || kinds.contains("path"),
            "{extract}: {kinds:?}"
        );
        assert!(w.ways.iter().all(|w| w.id.starts_with("osm-w")));
        assert!(w.passages.iter().all(|p| p.id.starts_with("osm-n")));
        let net = WalkNetwork::build(&d.roads, &d.walk);
        let st = net.stats();
        eprintln!("{extract}: {st:?}");
        assert!(st.way_edges > 0 && st.road_edges > 0, "{extract}: {st:?}");
        // Footways join the streets: the walking layer is not a separate network.
        assert!(st.snappable_components <= 3, "{extract}: {st:?}");
    }
}

fn snap_json(net: &WalkNetwork, s: &Snap) -> serde_json::Value {
    let (a, b, len) = net.edge(s.edge);
    json!({"a": a, "b": b, "len": len, "t": s.t, "snap_m": s.snap_m})
}

#[test]
fn walks_agree_with_networkx_on_helsinki() {
    let Some(python) = python_with("networkx") else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = import("osm/Helsinki.osm.pbf", &dir.path().join("ds"));
    let net = WalkNetwork::build(&d.roads, &d.walk);
    let buildings: Vec<Snap> = d
        .buildings
        .iter()
        .filter_map(|b| net.snap_building(&b.footprint, b.anchor))
        .collect();
    let resources: Vec<Snap> = d.resources.iter().filter_map(|r| net.snap(r.location.0)).collect();
    assert_eq!(buildings.len(), d.buildings.len());
    assert_eq!(resources.len(), d.resources.len());
    // 50 random buildings × 20 random resources each (a fixed seed: the same pairs every run).
    let mut state = 0x5eed_u64;
    let mut pick = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) % n as u64) as usize
    };
    let mut pairs = Vec::new();
    let mut reached = 0;
    for _ in 0..50 {
        let from = &buildings[pick(buildings.len())];
        for _ in 0..20 {
            let to = &resources[pick(resources.len())];
            let metres = net.route(from, to).map(|r| r.metres);
            reached += usize::from(metres.is_some());
            pairs.push(json!({"from": snap_json(&net, from), "to": snap_json(&net, to), "metres": metres}));
        }
    }
    assert_eq!(pairs.len(), 1000);
    assert!(reached >= 950, "only {reached} of 1,000 pairs joined by a walk");
    let edges: Vec<_> = net.edges().map(|(a, b, m)| json!([a, b, m])).collect();
    let input = json!({"edges": edges, "pairs": pairs}).to_string();
    let mut child = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/tests/walk_networkx.py"))
        .arg("1.0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    eprintln!("networkx: {}", String::from_utf8_lossy(&o.stdout));
    assert!(o.status.success(), "walk_networkx.py: {}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["compared"].as_u64(), Some(reached as u64));
    assert!(v["worst_m"].as_f64().unwrap() <= 1.0);
}
