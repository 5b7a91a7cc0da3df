//! A building's grid card a resident can keep: the stable link `/b/{id}`, the placard
//! (楼栋公示牌) as PNG, PDF and JSON with a QR code that reads back — with an independent decoder
//! (rqrr) — as that link, under `--public-url` or the request's host; every building of a grid
//! as one PDF; drawn from the version being served (a new publish shows at once); unknown ids
//! are 404 problem bodies with a code. The same from the command line (`wangge placard`), and
//! the printed map (`wangge map`, `/map/{community}.png|pdf`) with its workers.

use crate::common::{TOKEN, call, fixture, s, service, text, wangge};
use api::serve::Limits;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use tower::ServiceExt;

async fn raw(app: &axum::Router, uri: &str) -> (StatusCode, String, Vec<u8>, Option<String>) {
    let req = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header(header::HOST, "wangge.example:8080")
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let get = |h: header::HeaderName| res.headers().get(h).map(|v| v.to_str().unwrap().to_string());
    let ct = get(header::CONTENT_TYPE).unwrap_or_default();
    let location = get(header::LOCATION);
    let bytes = axum::body::to_bytes(res.into_body(), 256 << 20).await.unwrap().to_vec();
    (status, ct, bytes, location)
}

/// The one QR code in a PNG, decoded.
fn qr_of(png_bytes: &[u8]) -> String {
    let img = image::load_from_memory(png_bytes).expect("a PNG").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().expect("the QR code decodes").1
}

fn pdf_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    text.matches("/Type /Page").count() - text.matches("/Type /Pages").count()
}

#[tokio::test]
async fn a_buildings_placard_links_to_its_grid_card_and_follows_the_served_version() {
    let (app, state, _store, _dir) = service(Limits::default()).await;
    let cjk = tiles::text::has_cjk();

    // What it says: the building's grid and its workers as the lookup answers them now.
    let (status, ct, body, _) = raw(&app, "/v1/buildings/KL-B0003/placard.json").await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/json"));
    let card: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let (_, lookup) = call(&app, Method::GET, "/v1/lookup?building=KL-B0003", None, None).await;
    let grid = &lookup["candidates"][0]["grid"];
    assert_eq!(card["grid"], grid["code"]);
    assert_eq!(card["address"], "嘉禾公寓3号楼");
    assert_eq!(card["community_name"], "康乐社区");
    assert_eq!(card["version"], 1);
    assert_eq!(
        card["link"], "http://wangge.example:8080/b/KL-B0003",
        "the request's host"
    );
    let names: Vec<&str> = card["staff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for s in grid["staff"].as_array().unwrap() {
        assert!(names.contains(&s["name"].as_str().unwrap()), "{names:?} lacks {s}");
    }
    assert_eq!(card["staff"][0]["role"], "网格长", "the leader first");
    // Kangle has roads: every service is printed by walk, as the card's nearest-by-walk answers it.
    let nearby = card["nearby"].as_array().unwrap();
    assert!(!nearby.is_empty());
    assert!(nearby.iter().all(|n| n["by"] == "walk"), "{nearby:?}");
    let at = &lookup["candidates"][0]["location"];
    let (_, near) = call(
        &app,
        Method::GET,
        &format!(
            "/v1/resources/nearest?lon={}&lat={}&kind=clinic,hospital&limit=1",
            at[0], at[1]
        ),
        None,
        None,
    )
    .await;
    assert_eq!(near["by"], "walk");
    let walk_m = near["resources"][0]["walk_m"].as_f64().unwrap();
    assert_eq!(nearby[0]["name"], near["resources"][0]["name"]);
    assert!(
        (nearby[0]["distance_m"].as_f64().unwrap() - walk_m).abs() < 0.1,
        "{nearby:?} against {near}"
    );

    if cjk {
        let (status, ct, png, _) = raw(&app, "/v1/buildings/KL-B0003/placard.png").await;
        assert_eq!((status, ct.as_str()), (StatusCode::OK, "image/png"));
        assert_eq!(qr_of(&png), "http://wangge.example:8080/b/KL-B0003");
        if let Ok(dir) = std::env::var("WANGGE_SCREENSHOTS") {
            std::fs::write(std::path::Path::new(&dir).join("placard-KL-B0003.png"), &png).unwrap();
        }
        let (status, ct, pdf, _) = raw(&app, "/v1/buildings/KL-B0003/placard.pdf").await;
        assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/pdf"));
        assert_eq!(pdf_pages(&pdf), 1);
        // Every building of a grid, one page each (the grid with fewest, to keep a debug build
        // within the read timeout).
        let (_, all) = call(&app, Method::GET, "/collections/grids/items?limit=100", None, None).await;
        let (code, ids) = all["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                let mut ids: Vec<String> = g["properties"]["buildings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| b.as_str().unwrap().split('#').next().unwrap().to_string())
                    .collect();
                ids.sort();
                ids.dedup();
                (g["properties"]["code"].as_str().unwrap().to_string(), ids)
            })
            .filter(|(_, ids)| !ids.is_empty())
            .min_by_key(|(_, ids)| ids.len())
            .unwrap();
        let (status, _, pdf, _) = raw(&app, &format!("/v1/grids/{code}/placards.pdf")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(pdf_pages(&pdf), ids.len(), "one page per building of {code}");
    }

    // The stable link opens the building's card on the web map.
    let (status, _, _, location) = raw(&app, "/b/KL-B0003").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/?building=KL-B0003"));

    // Unknown ids and files are 404 problem bodies with a code.
    for (uri, code) in [
        ("/v1/buildings/NO-SUCH/placard.png", "no_such_building"),
        ("/v1/buildings/NO-SUCH/placard.json", "no_such_building"),
        ("/v1/buildings/KL-B0003/placard.gif", "not_found"),
        ("/v1/grids/350206001017999/placards.pdf", "no_such_grid"),
        ("/b/NO-SUCH", "no_such_building"),
        ("/map/350206001099.png", "no_such_community"),
    ] {
        let (status, problem) = call(&app, Method::GET, uri, None, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {problem}");
        assert_eq!(problem["code"], code, "{uri}: {problem}");
    }

    // A publish (here a rollback, published as version 2) shows on the next placard, and a
    // public URL set for the service is the link's base.
    let (status, r) = call(&app, Method::POST, "/v1/versions/1/rollback", Some(TOKEN), None).await;
    assert!(status.is_success(), "{r}");
    state.set_public_url("https://wangge.example.cn/");
    let (_, _, body, _) = raw(&app, "/v1/buildings/KL-B0003/placard.json").await;
    let card: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(card["version"], 2);
    assert_eq!(card["link"], "https://wangge.example.cn/b/KL-B0003");
    if cjk {
        let (_, _, png, _) = raw(&app, "/v1/buildings/KL-B0003/placard.png").await;
        assert_eq!(qr_of(&png), "https://wangge.example.cn/b/KL-B0003");
    }
}

#[tokio::test]
async fn the_printed_map_lists_the_workers_as_the_service_has_them() {
    let (app, _state, _store, _dir) = service(Limits::default()).await;
    let (status, ct, png, _) = raw(&app, "/map/350206001017.png").await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "image/png"));
    if let Ok(dir) = std::env::var("WANGGE_SCREENSHOTS") {
        std::fs::write(std::path::Path::new(&dir).join("print-map-kangle.png"), &png).unwrap();
    }
    let (status, ct, pdf, _) = raw(&app, "/map/350206001017.pdf").await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/pdf"));
    assert_eq!(pdf_pages(&pdf), 1);
}

#[test]
fn the_command_line_draws_placards_and_maps() {
    let dir = tempfile::tempdir().unwrap();
    let kangle = fixture("kangle");
    let png = dir.path().join("p.png");
    let o = wangge(&[
        "placard",
        s(&kangle),
        "--building",
        "KL-B0003",
        "--out",
        s(&png),
        "--public-url",
        "https://wangge.example.cn",
    ]);
    if tiles::text::has_cjk() {
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(
            qr_of(&std::fs::read(&png).unwrap()),
            "https://wangge.example.cn/b/KL-B0003"
        );
        // Every building of a grid as one PDF.
        let pdf = dir.path().join("g.pdf");
        let o = wangge(&[
            "placard",
            s(&kangle),
            "--grid",
            "350206001017001",
            "--out",
            s(&pdf),
            "--public-url",
            "https://wangge.example.cn",
        ]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(pdf_pages(&std::fs::read(&pdf).unwrap()) > 5, "{}", text(&o));
    }
    // Unknown building: refused naming it; no link base: refused by the argument parser.
    let o = wangge(&[
        "placard",
        s(&kangle),
        "--building",
        "NO-SUCH",
        "--out",
        s(&png),
        "--public-url",
        "https://wangge.example.cn",
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("NO-SUCH"), "{}", text(&o));
    let o = wangge(&["placard", s(&kangle), "--building", "KL-B0003", "--out", s(&png)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--public-url"), "{}", text(&o));
    let o = wangge(&[
        "placard",
        s(&kangle),
        "--grid",
        "350206001017001",
        "--out",
        s(&png),
        "--public-url",
        "https://wangge.example.cn",
    ]);
    assert!(!o.status.success(), "a grid's placards are a PDF");

    // The printed map as PDF, with the fixture's staff.json in its table.
    let map = dir.path().join("m.pdf");
    let o = wangge(&["map", s(&kangle), "--community", "350206001017", "--out", s(&map)]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(std::fs::read(&map).unwrap().starts_with(b"%PDF"));
    assert!(text(&o).contains("7 grids in the table"), "{}", text(&o));
    // Kangle's staff.json has nobody for the school's and the market's exclusive grids.
    assert!(text(&o).contains("2 without a worker in staff.json"), "{}", text(&o));
}
