//! What a change does to residents, as planners explain it: the diff's residents, households and
//! buildings in and out per grid and per micro-grid (checked against a count made here, from the
//! layers' building lists and the fixture's own files, population points placed by a
//! point-in-polygon test of our own); the refusal of a large move until it is confirmed (API and
//! command line); and the residents' notices as text, JSON, PNG and PDF.

use api::serve::{AppState, Limits, Token, router};
use api::snapshot::Snapshot;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use gis_core::partition::PartitionOptions;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tower::ServiceExt;

use crate::common::{TOKEN, call, fixture, s, text, wangge};

// ---- an independent count ----------------------------------------------------------------------

/// Residents and households of every layer member (building id, and `ID#UNIT` for its units),
/// and the population points, read straight from a fixture's files.
struct People {
    members: HashMap<String, (u64, u64)>,
    points: Vec<([f64; 2], u64)>,
}

fn read(path: std::path::PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn people_of(buildings: &Value, population: Option<&Value>) -> People {
    let mut members = HashMap::new();
    for f in buildings["features"].as_array().unwrap() {
        let p = &f["properties"];
        let id = p["id"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| f["id"].to_string());
        let n = |v: &Value| v.as_u64().unwrap_or(0);
        members.insert(id.clone(), (n(&p["population"]), n(&p["households"])));
        for u in p["units"].as_array().into_iter().flatten() {
            members.insert(
                format!("{id}#{}", u["name"].as_str().unwrap()),
                (n(&u["population"]), n(&u["households"])),
            );
        }
    }
    let points = population
        .map(|pop| {
            pop["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    let c = &f["geometry"]["coordinates"];
                    (
                        [c[0].as_f64().unwrap(), c[1].as_f64().unwrap()],
                        f["properties"]["count"].as_u64().unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    People { members, points }
}

fn fixture_people(name: &str) -> People {
    let dir = fixture(name);
    let population = dir.join("population.geojson");
    let population = population.exists().then(|| read(population));
    people_of(&read(dir.join("buildings.geojson")), population.as_ref())
}

/// Even-odd rule over every ring of a (Multi)Polygon.
fn contains(geometry: &Value, [x, y]: [f64; 2]) -> bool {
    let polygons: Vec<&Value> = match geometry["type"].as_str() {
        Some("Polygon") => vec![&geometry["coordinates"]],
        Some("MultiPolygon") => geometry["coordinates"].as_array().unwrap().iter().collect(),
        _ => vec![],
    };
    polygons.into_iter().any(|rings| {
        let mut inside = false;
        for ring in rings.as_array().unwrap() {
            let r: Vec<[f64; 2]> = ring
                .as_array()
                .unwrap()
                .iter()
                .map(|c| [c[0].as_f64().unwrap(), c[1].as_f64().unwrap()])
                .collect();
            let mut j = r.len() - 1;
            for i in 0..r.len() {
                let ([xi, yi], [xj, yj]) = (r[i], r[j]);
                if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                    inside = !inside;
                }
                j = i;
            }
        }
        inside
    })
}

/// Where each member and each point is at `level` ("grid" or "micro") of a layer.
fn place(layer: &Value, level: &str, people: &People) -> (HashMap<String, String>, Vec<Option<String>>) {
    let mut grids: Vec<(&str, &Value, &Value)> = layer["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["level"] == level)
        .map(|f| {
            (
                f["properties"]["code"].as_str().unwrap(),
                &f["geometry"],
                &f["properties"],
            )
        })
        .collect();
    grids.sort_by(|a, b| a.0.cmp(b.0));
    let mut members = HashMap::new();
    for (code, _, p) in &grids {
        for b in p["buildings"].as_array().unwrap() {
            members.insert(b.as_str().unwrap().to_string(), code.to_string());
        }
    }
    // A point on a shared edge goes to the lowest code, as the lookup's edge rule says.
    let points = people
        .points
        .iter()
        .map(|(p, _)| {
            grids
                .iter()
                .find(|(_, g, _)| contains(g, *p))
                .map(|(c, _, _)| c.to_string())
        })
        .collect();
    (members, points)
}

#[derive(Debug, Default, PartialEq)]
struct Expect {
    before: u64,
    after: u64,
    res_in: u64,
    hh_in: u64,
    bld_in: u64,
    res_out: u64,
    hh_out: u64,
    bld_out: u64,
    from: BTreeMap<Option<String>, u64>,
    to: BTreeMap<Option<String>, u64>,
}

/// Per code at `level`: residents before and after, in and out, and from / to where.
fn expected(old: &Value, new: &Value, level: &str, people: &People) -> BTreeMap<String, Expect> {
    let (om, op) = place(old, level, people);
    let (nm, np) = place(new, level, people);
    let mut out: BTreeMap<String, Expect> = BTreeMap::new();
    let mut add = |from: Option<&String>, to: Option<&String>, res: u64, hh: u64, building: bool| {
        if let Some(f) = from {
            out.entry(f.clone()).or_default().before += res;
        }
        if let Some(t) = to {
            out.entry(t.clone()).or_default().after += res;
        }
        if from == to {
            return;
        }
        if let Some(f) = from {
            let e = out.entry(f.clone()).or_default();
            e.res_out += res;
            e.hh_out += hh;
            e.bld_out += u64::from(building);
            *e.to.entry(to.cloned()).or_default() += res;
        }
        if let Some(t) = to {
            let e = out.entry(t.clone()).or_default();
            e.res_in += res;
            e.hh_in += hh;
            e.bld_in += u64::from(building);
            *e.from.entry(from.cloned()).or_default() += res;
        }
    };
    let members: BTreeSet<&String> = om.keys().chain(nm.keys()).collect();
    for m in members {
        let (res, hh) = people.members.get(m).copied().unwrap_or((0, 0));
        add(om.get(m), nm.get(m), res, hh, true);
    }
    for (i, (_, count)) in people.points.iter().enumerate() {
        add(op[i].as_ref(), np[i].as_ref(), *count, 0, false);
    }
    out
}

/// Every grid the diff lists at `key` agrees with the count here, and every grid the count here
/// sees people moving in or out of is listed. Households are checked where no population point
/// is involved (a point's households are an estimate made by the service).
fn check_level(diff: &Value, key: &str, want: &BTreeMap<String, Expect>, with_points: bool) -> usize {
    let listed = diff[key]
        .as_array()
        .unwrap_or_else(|| panic!("diff has no {key}: {diff}"));
    let mut seen = BTreeSet::new();
    for g in listed {
        let code = g["code"].as_str().unwrap();
        seen.insert(code.to_string());
        let e = want
            .get(code)
            .unwrap_or_else(|| panic!("{key} lists {code}, which holds nobody in either layer"));
        let n = |k: &str| g[k].as_u64().unwrap();
        assert_eq!(
            (n("residents_before"), n("residents_after")),
            (e.before, e.after),
            "{key} {code}: residents before/after"
        );
        assert_eq!(
            (n("residents_in"), n("residents_out")),
            (e.res_in, e.res_out),
            "{key} {code}: in/out"
        );
        assert_eq!(
            (n("buildings_in"), n("buildings_out")),
            (e.bld_in, e.bld_out),
            "{key} {code}: buildings"
        );
        if !with_points {
            assert_eq!(
                (n("households_in"), n("households_out")),
                (e.hh_in, e.hh_out),
                "{key} {code}: households"
            );
        }
        let shares = |k: &str| -> BTreeMap<Option<String>, u64> {
            g[k].as_array()
                .unwrap()
                .iter()
                .map(|s| (s["code"].as_str().map(String::from), s["residents"].as_u64().unwrap()))
                .filter(|(_, r)| *r > 0)
                .collect()
        };
        let nonzero = |m: &BTreeMap<Option<String>, u64>| -> BTreeMap<Option<String>, u64> {
            m.iter()
                .filter(|(_, r)| **r > 0)
                .map(|(k, v)| (k.clone(), *v))
                .collect()
        };
        assert_eq!(shares("from"), nonzero(&e.from), "{key} {code}: from");
        assert_eq!(shares("to"), nonzero(&e.to), "{key} {code}: to");
        // Most residents moved first.
        let moved: Vec<u64> = g["from"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["residents"].as_u64().unwrap())
            .collect();
        assert!(
            moved.windows(2).all(|w| w[0] >= w[1]),
            "{key} {code}: from not sorted {moved:?}"
        );
    }
    for (code, e) in want {
        if e.res_in + e.res_out + e.bld_in + e.bld_out > 0 {
            assert!(
                seen.contains(code),
                "{key}: {code} has people moving ({e:?}) but is not listed"
            );
        }
    }
    let order: Vec<u64> = listed
        .iter()
        .map(|g| g["residents_in"].as_u64().unwrap() + g["residents_out"].as_u64().unwrap())
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] >= w[1]),
        "{key} not sorted by residents moved: {order:?}"
    );
    listed.len()
}

/// Whether the count here passes the documented thresholds: ≥ 10% of a community's residents
/// change grid, or a grid loses more than 30% of its residents to other grids.
fn large_by_count(old: &Value, want: &BTreeMap<String, Expect>) -> bool {
    let community: HashMap<&str, &str> = old["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["level"] == "grid")
        .map(|f| {
            (
                f["properties"]["code"].as_str().unwrap(),
                f["properties"]["community_code"].as_str().unwrap(),
            )
        })
        .collect();
    let mut by: HashMap<&str, (u64, u64)> = HashMap::new();
    let mut grid_over = false;
    for (code, e) in want {
        let Some(c) = community.get(code.as_str()) else {
            continue;
        };
        let moved: u64 = e.to.iter().filter(|(k, _)| k.is_some()).map(|(_, r)| r).sum();
        let x = by.entry(c).or_default();
        x.0 += e.before;
        x.1 += moved;
        grid_over |= e.before > 0 && moved as f64 > 0.3 * e.before as f64;
    }
    grid_over
        || by
            .values()
            .any(|(all, moved)| *moved > 0 && *moved as f64 >= 0.1 * *all as f64)
}

// ---- services ----------------------------------------------------------------------------------

async fn service_of(name: &str) -> (axum::Router, store::Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = store::Store::open_sqlite(&dir.path().join("w.db")).await.unwrap();
    let options = PartitionOptions {
        micro: Some(PartitionOptions::default_micro()),
        ..PartitionOptions::default()
    };
    planner::load(&store, &fixture(name), options, "initial").await.unwrap();
    let published = store.published(None).await.unwrap().unwrap();
    let state = AppState::with_store(
        Snapshot::published(&published),
        store.clone(),
        Some(Token::new(TOKEN).unwrap()),
        Limits::default(),
    );
    (router(state), store, dir)
}

/// A GET with the token, answering status, content type and the raw bytes.
async fn raw(app: &axum::Router, uri: &str) -> (StatusCode, String, Vec<u8>) {
    let req = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header(header::HOST, "planner.example")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(res.into_body(), 256 << 20).await.unwrap().to_vec();
    (status, ct, bytes)
}

/// Pages in a PDF: its page objects (`/Type /Page`, not `/Pages`), and the page tree's `/Count`.
fn pdf_pages(pdf: &[u8]) -> (usize, Option<usize>) {
    let text = String::from_utf8_lossy(pdf);
    let objects = text.matches("/Type /Page").count() - text.matches("/Type /Pages").count();
    let count = text
        .split("/Count ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok());
    (objects, count)
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("the notice is a PNG");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).expect("the PNG decodes");
    (info.width, info.height)
}

// ---- tests -------------------------------------------------------------------------------------

#[tokio::test]
async fn a_fresh_partition_over_kangle_counts_moves_per_grid_is_confirmed_and_has_notices() {
    let (app, store, _dir) = service_of("kangle").await;
    let t = Some(TOKEN);
    let people = fixture_people("kangle");
    // Smaller grids, drawn from scratch over version 1: most of Kangle changes grid.
    let (status, made) = call(
        &app,
        Method::POST,
        "/v1/datasets/1/partition",
        t,
        Some(json!({"min": 1000, "max": 1400})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let draft = made["draft"]["id"].as_i64().unwrap();
    let (_, old) = call(&app, Method::GET, "/v1/versions/1/grids", None, None).await;
    let (_, new) = call(&app, Method::GET, &format!("/v1/drafts/{draft}/grids"), t, None).await;
    let (status, diff) = call(&app, Method::GET, &format!("/v1/drafts/{draft}/diff"), t, None).await;
    assert_eq!(status, StatusCode::OK, "{diff}");

    let grids = expected(&old, &new, "grid", &people);
    let micro = expected(&old, &new, "micro", &people);
    assert!(check_level(&diff, "grids", &grids, false) >= 7);
    assert!(check_level(&diff, "micro_grids", &micro, false) >= 7);
    // The total moved is the residents leaving one grid for another.
    let moved: u64 = grids
        .values()
        .flat_map(|e| e.to.iter().filter(|(k, _)| k.is_some()).map(|(_, r)| r))
        .sum();
    assert!(moved > 1000, "a fresh partition moved only {moved}");
    assert_eq!(diff["moved_residents"], moved);
    assert_eq!(diff["communities"][0]["moved"], moved, "{}", diff["communities"]);
    assert_eq!(diff["communities"][0]["residents"], 9241);
    // Every old → new flow, largest first, adding up to the total.
    let flows = diff["moves"].as_array().unwrap();
    assert_eq!(
        flows.iter().map(|m| m["residents"].as_u64().unwrap()).sum::<u64>(),
        moved
    );
    assert!(large_by_count(&old, &grids));
    let large = &diff["large_moves"];
    assert_eq!(large["moved_residents"], moved, "{large}");
    assert_eq!(large["largest"][0], flows[0]);
    assert_eq!(large["community_share"], 0.1);

    // Publishing is refused until the large move is confirmed; nothing is published meanwhile.
    let url = format!("/v1/drafts/{draft}/publish");
    let (status, refused) = call(
        &app,
        Method::POST,
        &url,
        t,
        Some(json!({"note": "smaller grids", "acknowledge_unstaffed": true})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["code"], "large_moves_unconfirmed", "{refused}");
    assert_eq!(refused["large_moves"], diff["large_moves"]);
    assert!(refused["detail"].as_str().unwrap().contains("confirm"), "{refused}");
    assert_eq!(store.versions().await.unwrap().len(), 1);

    // Notices: one per building (or its units moving together) whose grid changes.
    let (status, n) = call(
        &app,
        Method::GET,
        &format!("/v1/drafts/{draft}/notices?format=json&from=2026-12-15"),
        t,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{n}");
    let notices = n["notices"].as_array().unwrap();
    let (om, _) = place(&old, "grid", &people);
    let (nm, _) = place(&new, "grid", &people);
    let groups: BTreeSet<(String, &String, &String)> = om
        .iter()
        .filter_map(|(m, from)| {
            let to = nm.get(m)?;
            (to != from).then(|| (m.split('#').next().unwrap().to_string(), from, to))
        })
        .collect();
    assert_eq!(notices.len(), groups.len(), "notices vs buildings changing grid");
    // A known building: its text, grid, and the new grid's workers (or that it has none yet).
    let staff: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(fixture("kangle").join("staff.json")).unwrap()).unwrap();
    let buildings = read(fixture("kangle").join("buildings.geojson"));
    let (mut staffed, mut unstaffed) = (0, 0);
    for x in notices {
        let id = x["building"].as_str().unwrap();
        let to = x["to"].as_str().unwrap();
        // The member that moved: the building, or one of its units (all going to `to`).
        let prefix = format!("{id}#");
        let member = x["units"][0].as_str().map(String::from).unwrap_or_else(|| {
            if om.contains_key(id) {
                id.to_string()
            } else {
                om.keys()
                    .find(|k| k.starts_with(&prefix) && nm.get(*k).map(String::as_str) == Some(to))
                    .unwrap()
                    .clone()
            }
        });
        assert_eq!(nm.get(&member).map(String::as_str), Some(to), "{x}");
        let address = buildings["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["properties"]["id"] == id)
            .map(|f| f["properties"]["address"].as_str().unwrap().to_string())
            .unwrap();
        let mut place = address.split("康乐社区").nth(1).unwrap().to_string();
        let units: Vec<&str> = x["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u.as_str().unwrap().split_once('#').unwrap().1)
            .collect();
        place.push_str(&units.join("、"));
        let from = &om[&member];
        let text = x["text"].as_str().unwrap();
        let want = format!(
            "自2026年12月15日起，{place}由康乐社区{}网格划入康乐社区{}网格。",
            &from[12..],
            &to[12..]
        );
        assert!(text.starts_with(&want), "{text}\n  wanted it to start with {want}");
        let workers: Vec<&Value> = staff.iter().filter(|s| s["grid"] == to).collect();
        if workers.is_empty() {
            assert!(text.contains("尚在安排中") && !text.contains("电话"), "{text}");
            unstaffed += 1;
        } else {
            for w in workers {
                let said = format!(
                    "{}{}，电话{}",
                    w["role"].as_str().unwrap(),
                    w["name"].as_str().unwrap(),
                    w["phone"].as_str().unwrap()
                );
                assert!(text.contains(&said), "{text} does not name {said}");
            }
            staffed += 1;
        }
    }
    // Drawn from scratch, the buildings that move go to grids with new codes: nobody works there yet.
    assert!(unstaffed > 0, "staffed {staffed}, unstaffed {unstaffed}");

    // As text, the same notices; a PNG of one; a PDF of all, one page each.
    // A building with one notice (its units, if any, all go one way).
    let first = notices
        .iter()
        .map(|x| x["building"].as_str().unwrap())
        .find(|b| notices.iter().filter(|x| x["building"] == *b).count() == 1)
        .unwrap();
    let (status, ct, body) = raw(&app, &format!("/v1/drafts/{draft}/notices?format=txt&from=2026-12-15")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/plain"), "{ct}");
    let body = String::from_utf8(body).unwrap();
    assert_eq!(body.matches("网格调整通知").count(), notices.len());
    assert!(body.contains(notices[0]["text"].as_str().unwrap()));
    let (status, ct, png) = raw(
        &app,
        &format!("/v1/drafts/{draft}/notices?format=png&from=2026-12-15&building={first}"),
    )
    .await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "image/png"));
    assert_eq!(png_size(&png), (1240, 1754));
    let (status, problem) = call(
        &app,
        Method::GET,
        &format!("/v1/drafts/{draft}/notices?format=png"),
        t,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["code"], "one_notice_per_png");
    let (status, ct, pdf) = raw(&app, &format!("/v1/drafts/{draft}/notices?format=pdf&from=2026-12-15")).await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/pdf"));
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    assert_eq!(pdf_pages(&pdf), (notices.len(), Some(notices.len())));

    // Bad requests say what is wrong.
    for (query, status, code) in [
        ("from=2026-02-30", StatusCode::BAD_REQUEST, "bad_date"),
        ("format=docx", StatusCode::BAD_REQUEST, "bad_request"),
        ("building=NOT-A-BUILDING", StatusCode::NOT_FOUND, "no_notice"),
    ] {
        let (got, problem) = call(
            &app,
            Method::GET,
            &format!("/v1/drafts/{draft}/notices?{query}"),
            t,
            None,
        )
        .await;
        assert_eq!(
            (got, problem["code"].as_str()),
            (status, Some(code)),
            "{query}: {problem}"
        );
    }
    let (status, _) = call(&app, Method::GET, "/v1/drafts/99/notices", t, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Confirmed: published, and the note says what was confirmed.
    let (status, published) = call(
        &app,
        Method::POST,
        &url,
        t,
        Some(json!({"note": "smaller grids", "acknowledge_unstaffed": true, "confirm_large_moves": true})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{published}");
    let note = published["version"]["note"].as_str().unwrap();
    assert!(
        note.contains(&format!(
            "[large moves confirmed: {moved} residents change grid; communities 350206001017 "
        )),
        "{note}"
    );
    // The versions' diff says the same as the draft's did.
    let (_, vd) = call(&app, Method::GET, "/v1/versions/1/diff/2", None, None).await;
    assert_eq!(vd["grids"], diff["grids"]);
    assert_eq!(vd["micro_grids"], diff["micro_grids"]);
}

#[tokio::test]
async fn a_zhongjing_repartition_counts_moves_per_grid_with_population_points() {
    let (app, _store, _dir) = service_of("zhongjing").await;
    let t = Some(TOKEN);
    // The urban village (population points, no buildings) grows by three residents a point:
    // its grid goes over the maximum and is re-drawn, so points change grid.
    let dir = fixture("zhongjing");
    let mut files = serde_json::Map::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        files.insert(p.file_name().unwrap().to_string_lossy().into_owned(), read(p));
    }
    let population = files.get_mut("population.geojson").unwrap();
    for f in population["features"].as_array_mut().unwrap() {
        let count = &mut f["properties"]["count"];
        *count = json!(count.as_u64().unwrap() + 3);
    }
    let people = people_of(&files["buildings.geojson"], files.get("population.geojson"));
    assert!(!people.points.is_empty(), "Zhongjing has its urban village as points");
    let (status, up) = call(&app, Method::POST, "/v1/datasets", t, Some(json!({"files": files}))).await;
    assert_eq!(status, StatusCode::CREATED, "{up}");
    let id = up["dataset"]["id"].as_i64().unwrap();
    let (status, rp) = call(&app, Method::POST, &format!("/v1/datasets/{id}/repartition"), t, None).await;
    assert_eq!(status, StatusCode::CREATED, "{rp}");
    let draft = rp["draft"]["id"].as_i64().unwrap();
    let (_, old) = call(&app, Method::GET, "/v1/versions/1/grids", None, None).await;
    let (_, new) = call(&app, Method::GET, &format!("/v1/drafts/{draft}/grids"), t, None).await;
    let (status, diff) = call(&app, Method::GET, &format!("/v1/drafts/{draft}/diff"), t, None).await;
    assert_eq!(status, StatusCode::OK, "{diff}");
    let grids = expected(&old, &new, "grid", &people);
    // Points did change grid here (counted by our own point-in-polygon test).
    let (_, before) = place(&old, "grid", &people);
    let (_, after) = place(&new, "grid", &people);
    let moved_points = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a.is_some() && b.is_some() && a != b)
        .count();
    assert!(moved_points > 0, "no population point changed grid");
    let listed = check_level(&diff, "grids", &grids, true);
    assert!((1..20).contains(&listed), "a local re-partition listed {listed} grids");
    check_level(&diff, "micro_grids", &expected(&old, &new, "micro", &people), true);
    assert_eq!(
        diff["large_moves"].is_object(),
        large_by_count(&old, &grids),
        "{}",
        diff["large_moves"]
    );
    // Nine communities, each with its own share.
    assert_eq!(
        diff["communities"].as_array().unwrap().len(),
        9,
        "{}",
        diff["communities"]
    );
}

#[test]
fn the_command_line_refuses_a_large_move_without_the_flag_and_writes_notices() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let out = wangge(&["load", s(&fixture("kangle")), "--store", s(&db), "--micro"]);
    assert!(out.status.success(), "{}", text(&out));
    // Kangle with 600 more residents in one building: a sixth grid, taken from its neighbours.
    let grown = dir.path().join("grown");
    std::fs::create_dir(&grown).unwrap();
    for entry in std::fs::read_dir(fixture("kangle")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, grown.join(p.file_name().unwrap())).unwrap();
    }
    let mut b = read(grown.join("buildings.geojson"));
    let f = &mut b["features"][0]["properties"];
    f["population"] = json!(f["population"].as_u64().unwrap() + 600);
    f.as_object_mut().unwrap().remove("units");
    std::fs::write(grown.join("buildings.geojson"), b.to_string()).unwrap();
    let out = wangge(&["load", s(&grown), "--store", s(&db), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let draft = serde_json::from_slice::<Value>(&out.stdout).unwrap()["draft"].to_string();

    let out = wangge(&[
        "publish",
        &draft,
        "--note",
        "grown",
        "--acknowledge-unstaffed",
        "--store",
        s(&db),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("--confirm-large-moves"), "{said}");
    assert!(
        said.contains("community 350206001017:") && said.contains("largest moves:"),
        "{said}"
    );

    // The notices, as text on standard output and as a PDF.
    let out = wangge(&["notices", &draft, "--from", "2026-12-15", "--store", s(&db)]);
    assert!(out.status.success(), "{}", text(&out));
    let notices = String::from_utf8(out.stdout).unwrap();
    let n = notices.matches("网格调整通知").count();
    assert!(n >= 10, "{notices}");
    assert!(notices.contains("自2026年12月15日起，"), "{notices}");
    // The new grid 006 has nobody yet: its notices say so instead of naming anyone.
    assert!(
        notices.contains("划入康乐社区006网格。该网格的网格长和网格员尚在安排中"),
        "{notices}"
    );
    // A grid that keeps its code keeps its workers (staff.json): named with their phones.
    assert!(notices.contains("划入康乐社区001网格。网格长吕建，电话13919513198；网格员张超，电话15895240638；网格员郑玲，电话18088324740。"), "{notices}");
    let pdf = dir.path().join("n.pdf");
    let out = wangge(&[
        "notices",
        &draft,
        "--format",
        "pdf",
        "--out",
        s(&pdf),
        "--store",
        s(&db),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert_eq!(pdf_pages(&bytes), (n, Some(n)));
    let out = wangge(&["notices", &draft, "--format", "png", "--store", s(&db)]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--out"), "{}", text(&out));
    let out = wangge(&["notices", &draft, "--from", "15.12.2026", "--store", s(&db)]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("YYYY-MM-DD"), "{}", text(&out));

    let out = wangge(&[
        "publish",
        &draft,
        "--note",
        "grown",
        "--acknowledge-unstaffed",
        "--confirm-large-moves",
        "--store",
        s(&db),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = wangge(&["versions", "--json", "--store", s(&db)]);
    let versions: Value = serde_json::from_slice(&out.stdout).unwrap();
    let note = versions["versions"][1]["note"].as_str().unwrap();
    assert!(note.contains("[large moves confirmed: "), "{note}");
}
