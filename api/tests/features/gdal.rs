//! GDAL's OAPIF driver (`ogr2ogr`) reading the real `wangge serve` over HTTP.

use super::part2::positions;
use super::*;
use crate::common::Server;

fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status: u16 = raw.split(' ').nth(1).unwrap().parse().unwrap();
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn http_json(addr: &str, path: &str) -> Value {
    let (status, body) = http_get(addr, path);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Successful item-page requests the server has answered so far, from `/metrics`.
fn item_requests(addr: &str) -> u64 {
    let (_, text) = http_get(addr, "/metrics");
    text.lines()
        .find(|l| {
            l.starts_with("wangge_http_requests_total{route=\"/collections/{collectionId}/items\",status=\"200\"}")
        })
        .and_then(|l| l.rsplit(' ').next())
        .map_or(0, |n| n.parse().unwrap())
}

fn polygons(geometry: &Value) -> MultiPolygon<f64> {
    let ring = |r: &Value| {
        LineString::from(
            r.as_array()
                .unwrap()
                .iter()
                .map(|c| (c[0].as_f64().unwrap(), c[1].as_f64().unwrap()))
                .collect::<Vec<_>>(),
        )
    };
    let poly = |p: &Value| {
        let rings = p.as_array().unwrap();
        Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
    };
    match geometry["type"].as_str().unwrap() {
        "Polygon" => MultiPolygon(vec![poly(&geometry["coordinates"])]),
        "MultiPolygon" => MultiPolygon(geometry["coordinates"].as_array().unwrap().iter().map(poly).collect()),
        t => panic!("not polygonal: {t}"),
    }
}

fn ogr2ogr(addr: &str, out: &Path, layer: &str, extra: &[String]) -> Vec<String> {
    let _ = std::fs::remove_file(out);
    let mut cmd = Command::new("ogr2ogr");
    cmd.args(["-f", "GeoJSON"])
        .arg(out)
        .arg(format!("OAPIF:http://{addr}"))
        .arg(layer)
        .args(["-oo", "PAGE_SIZE=10"])
        .args(extra);
    // Talk to the server directly, whatever proxy the machine is set up with.
    cmd.env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1")
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY");
    let run = cmd.output().expect("ogr2ogr runs");
    assert!(
        run.status.success(),
        "ogr2ogr {layer} {extra:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    let key = if layer.ends_with("grids") { "code" } else { "id" };
    let mut ids: Vec<String> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"][key].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn gdal_reads_the_service_page_by_page_and_by_bbox() {
    if Command::new("ogr2ogr").arg("--version").output().is_err() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("ogr2ogr (Debian gdal-bin) is not installed; CI needs it for the OGC API – Features test");
        }
        eprintln!(
            "\n!!! SKIPPED gdal_reads_the_service_page_by_page_and_by_bbox: ogr2ogr not found (apt-get install gdal-bin) !!!\n"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args([
            "serve",
            "--data",
            fixture("kangle").to_str().unwrap(),
            "--store",
            dir.path().join("w.db").to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
        ])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _server = Server(child);
    let mut first = String::new();
    let mut lines = BufReader::new(stdout);
    lines.read_line(&mut first).unwrap();
    // Keep reading: a closed pipe would make the server's next println! panic and kill it.
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    let addr = first
        .split("http://")
        .nth(1)
        .expect("the address line")
        .trim()
        .to_string();
    let out = dir.path().join("out.json");

    // Every item at a page size of 10, and at least one request per page.
    for layer in ["grids", "micro_grids", "buildings"] {
        let matched = http_json(&addr, &format!("/collections/{layer}/items?limit=1"))["numberMatched"]
            .as_u64()
            .unwrap();
        assert!(matched > 0);
        let before = item_requests(&addr);
        let ids = ogr2ogr(&addr, &out, layer, &[]);
        let requests = item_requests(&addr) - before;
        assert_eq!(
            ids.len() as u64,
            matched,
            "{layer}: GDAL read {} of {matched}",
            ids.len()
        );
        assert_eq!(
            ids.iter().collect::<BTreeSet<_>>().len(),
            ids.len(),
            "{layer}: an item read twice"
        );
        assert!(
            requests >= matched.div_ceil(10),
            "{layer}: {requests} item requests for {matched} items at 10 a page"
        );
    }

    // A spatial filter: exactly the grids whose polygons meet the box, by geo's own test.
    let all = http_json(&addr, "/collections/grids/items?limit=10000");
    let grids: Vec<(String, MultiPolygon<f64>)> = all["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["properties"]["code"].as_str().unwrap().to_string(),
                polygons(&f["geometry"]),
            )
        })
        .collect();
    let ext = http_json(&addr, "/collections/grids")["extent"]["spatial"]["bbox"][0].clone();
    let e: Vec<f64> = ext.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    let (w, h) = (e[2] - e[0], e[3] - e[1]);
    let mut differing = 0;
    for (fx0, fy0, fx1, fy1) in [
        (0.1, 0.1, 0.3, 0.25),
        (0.45, 0.4, 0.55, 0.6),
        (0.7, 0.05, 0.95, 0.2),
        (0.0, 0.8, 0.15, 1.0),
    ] {
        let bbox = [e[0] + w * fx0, e[1] + h * fy0, e[0] + w * fx1, e[1] + h * fy1];
        let poly = rect_polygon(bbox);
        let mut want: Vec<String> = grids
            .iter()
            .filter(|(_, a)| a.intersects(&poly))
            .map(|(c, _)| c.clone())
            .collect();
        want.sort();
        differing += grids
            .iter()
            .filter(|(_, a)| {
                use geo::BoundingRect;
                a.bounding_rect().unwrap().to_polygon().intersects(&poly) && !a.intersects(&poly)
            })
            .count();
        let spat: Vec<String> = bbox.iter().map(|v| format!("{v}")).collect();
        let got = ogr2ogr(&addr, &out, "grids", &[vec!["-spat".to_string()], spat].concat());
        assert_eq!(got, want, "grids meeting {bbox:?}");
        let served = http_json(
            &addr,
            &format!(
                "/collections/grids/items?bbox={},{},{},{}",
                bbox[0], bbox[1], bbox[2], bbox[3]
            ),
        );
        assert_eq!(served["numberMatched"], want.len());
    }
    eprintln!("bbox checks where a grid's envelope meets the box but the grid does not: {differing}");

    // Part 2: a newer GDAL (pyogrio's; Debian's 3.6 has no CRS option) asks for EPSG:3857 and
    // EPSG:4490, and pyproj says where every vertex should be.
    let Some(python) = python() else { return };
    let script = r#"
import json, sys, urllib.request
import pyogrio
from pyproj import Transformer
url, layer, crs, out = sys.argv[1:5]
meta, fids, geoms, fields = pyogrio.raw.read("OAPIF:" + url, layer=layer, CRS=crs, PAGE_SIZE="10")
pyogrio.raw.write(out, geoms, fields, meta["fields"], crs=meta["crs"], geometry_type=meta["geometry_type"], driver="GeoJSON")
src = json.load(urllib.request.urlopen(url + "/collections/" + layer + "/items?limit=10000"))
t = Transformer.from_crs("OGC:CRS84", crs, always_xy=True)
def walk(c):
    return [walk(x) for x in c] if isinstance(c[0], list) else list(t.transform(c[0], c[1]))
print(json.dumps({"crs": meta["crs"], "pyproj": {f["id"]: walk(f["geometry"]["coordinates"]) for f in src["features"]}}))
"#;
    for (layer, crs, tolerance) in [
        ("grids", "EPSG:3857", 1e-3),
        ("buildings", "EPSG:3857", 1e-3),
        ("grids", "EPSG:4490", 1e-9),
    ] {
        let _ = std::fs::remove_file(&out);
        let run = Command::new(&python)
            .arg("-c")
            .arg(script)
            .args([&format!("http://{addr}"), layer, crs, out.to_str().unwrap()])
            .env("NO_PROXY", "127.0.0.1")
            .env("no_proxy", "127.0.0.1")
            .env_remove("http_proxy")
            .env_remove("HTTP_PROXY")
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "pyogrio {layer} {crs}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let said: Value = serde_json::from_slice(&run.stdout).unwrap();
        assert_eq!(said["crs"], crs);
        let gdal: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let features = gdal["features"].as_array().unwrap();
        assert_eq!(
            features.len(),
            said["pyproj"].as_object().unwrap().len(),
            "{layer} {crs}"
        );
        let key = if layer == "grids" { "code" } else { "id" };
        let mut worst: f64 = 0.0;
        for f in features {
            let id = f["properties"][key].as_str().unwrap();
            let want = positions(&serde_json::json!({"coordinates": said["pyproj"][id]}));
            let got = positions(&f["geometry"]);
            assert_eq!(got.len(), want.len(), "{id}");
            for (g, w) in got.iter().zip(&want) {
                worst = worst.max((g[0] - w[0]).abs()).max((g[1] - w[1]).abs());
            }
        }
        // GDAL hands EPSG:4490 out longitude first (its GIS order), so this also checks that the
        // service sent latitude first, as EPSG orders it.
        assert!(
            worst < tolerance,
            "{layer} in {crs}: GDAL's reading is {worst} off pyproj's"
        );
        eprintln!("{layer} in {crs}: GDAL's reading within {worst:e} of pyproj's");
    }
}

/// The CI venv's Python with GDAL's reader and PROJ (pyogrio, pyproj), or `None` outside CI.
fn python() -> Option<PathBuf> {
    crate::common::python_with("pyogrio, pyproj")
}
