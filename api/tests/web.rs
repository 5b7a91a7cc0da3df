//! The web map at `/`: its vendored MapLibre files are the pinned npm package's, byte for byte;
//! and the end-to-end test (web/tests/e2e.mjs: headless Chromium driven by playwright-core) passes
//! against the real binary serving the Kangle fixture (and Zhongjing, a street of nine
//! communities, and a Helsinki OpenStreetMap import). Needs node, Debian's chromium and
//! `npm ci --prefix web` (.ci/run installs them): under CI=true a missing tool fails, elsewhere
//! the test says loudly that it skipped.

use crate::common::Server;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skips (loudly) or, under CI, fails.
fn missing(what: &str) {
    let msg = format!("web e2e: {what}; run `npm ci --prefix web` and install Debian's chromium (see .ci/run)");
    if ci() {
        panic!("{msg}");
    }
    eprintln!("\n!!!!!!!! SKIPPED: {msg} !!!!!!!!\n");
}

#[test]
fn vendored_maplibre_is_the_pinned_package() {
    let web = root().join("web");
    let package: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(web.join("package.json")).unwrap()).unwrap();
    let pinned = package["dependencies"]["maplibre-gl"]
        .as_str()
        .expect("maplibre-gl pinned in web/package.json");
    assert!(
        pinned.chars().all(|c| c.is_ascii_digit() || c == '.'),
        "pin an exact version, not {pinned:?}"
    );
    // The page asks for the vendored files with the pinned version, which is what lets them cache.
    let index = std::fs::read_to_string(web.join("index.html")).unwrap();
    assert_eq!(
        index.matches(&format!("?v={pinned}\"")).count(),
        2,
        "index.html must load vendor/maplibre-gl.{{js,css}}?v={pinned}"
    );
    let dist = web.join("node_modules/maplibre-gl/dist");
    if !dist.exists() {
        return missing("web/node_modules is missing, so the vendored files were not compared");
    }
    let installed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(web.join("node_modules/maplibre-gl/package.json")).unwrap())
            .unwrap();
    assert_eq!(
        installed["version"].as_str(),
        Some(pinned),
        "web/node_modules is not the pinned maplibre-gl: run npm ci --prefix web"
    );
    for file in ["maplibre-gl.js", "maplibre-gl.css", "LICENSE.txt"] {
        let vendored = std::fs::read(web.join("vendor").join(file)).unwrap();
        let original = std::fs::read(dist.join(file)).unwrap();
        assert!(
            vendored == original,
            "web/vendor/{file} differs from maplibre-gl {pinned}'s dist: copy it again (npm run vendor --prefix web)"
        );
    }
    // pmtiles.js, for the static folder (`wangge tiles export --static`): the pinned package's build.
    let pm = package["dependencies"]["pmtiles"]
        .as_str()
        .expect("pmtiles pinned in web/package.json");
    assert!(
        pm.chars().all(|c| c.is_ascii_digit() || c == '.'),
        "pin an exact version, not {pm:?}"
    );
    let original = std::fs::read(web.join("node_modules/pmtiles/dist/pmtiles.js"))
        .expect("web/node_modules has the pinned pmtiles: run npm ci --prefix web");
    assert!(
        std::fs::read(web.join("vendor/pmtiles.js")).unwrap() == original,
        "web/vendor/pmtiles.js differs from pmtiles {pm}'s dist: copy it again (npm run vendor --prefix web)"
    );
}

#[test]
fn web_map_end_to_end_in_headless_chromium() {
    let web = root().join("web");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if Command::new("node").arg("--version").output().is_err() {
        return missing("node is not installed");
    }
    if !Path::new(&chromium).exists() {
        return missing(&format!("{chromium} is missing (Debian package chromium)"));
    }
    if !web.join("node_modules/playwright-core").exists() {
        return missing("web/node_modules/playwright-core is missing");
    }

    let dir = tempfile::tempdir().unwrap();
    let token = format!("e2e-planner-token-{}", std::process::id());
    let (_server, addr) = serve(&root().join("fixtures/kangle"), dir.path(), &token);
    // A real OpenStreetMap city centre (Helsinki), imported as a resident would see it: grid
    // colours and icon collisions are checked on it too.
    let osm = dir.path().join("helsinki");
    let imported = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args([
            "import",
            root().join("fixtures/osm/Helsinki.osm.pbf").to_str().unwrap(),
            "--out",
        ])
        .arg(&osm)
        .output()
        .unwrap();
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let osm_store = dir.path().join("osm-store");
    std::fs::create_dir_all(&osm_store).unwrap();
    let (_osm_server, osm_addr) = serve(&osm, &osm_store, &token);
    // A street of nine communities (Zhongjing): grid numbers repeat, labels must tell them apart.
    let street_store = dir.path().join("street-store");
    std::fs::create_dir_all(&street_store).unwrap();
    let (_street_server, street_addr) = serve(&root().join("fixtures/zhongjing"), &street_store, &token);

    let status = Command::new("node")
        .arg(web.join("tests/e2e.mjs"))
        .arg(format!("http://{addr}"))
        .arg(&token)
        .env("CHROMIUM", &chromium)
        .env("SCREENSHOTS", root().join("out/screenshots"))
        .env("WANGGE_E2E_OSM", format!("http://{osm_addr}"))
        .env("WANGGE_E2E_STREET", format!("http://{street_addr}"))
        .status()
        .expect("node runs");
    assert!(
        status.success(),
        "web/tests/e2e.mjs failed (its output above says which check)"
    );
}

/// `wangge serve --data DATA` on a free port with its store in `dir`: the server and its address.
fn serve(data: &Path, dir: &Path, token: &str) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["serve", "--data", data.to_str().unwrap(), "--bind", "127.0.0.1:0"])
        .args(["--store", dir.join("wangge.db").to_str().unwrap()])
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("WANGGE_TOKEN", token)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.split("http://")
                .nth(1)
                .map(|a| a.split_whitespace().next().unwrap_or("").to_string())
        })
        .expect("the server prints its address");
    // Keep reading what the server prints, so it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (server, addr)
}

/// The web map as a static folder (`wangge tiles export --static`), served by nginx (Debian's,
/// with its Range support: the pmtiles protocol reads the archive by byte ranges) with no wangge
/// behind the page: the map draws Kangle's grids from the PMTiles archive, and lookups go to the
/// `--api-url` service (web/tests/static.mjs in headless Chromium).
#[test]
fn static_web_map_from_a_folder_in_headless_chromium() {
    let web = root().join("web");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if Command::new("node").arg("--version").output().is_err() {
        return missing("node is not installed");
    }
    if !Path::new(&chromium).exists() {
        return missing(&format!("{chromium} is missing (Debian package chromium)"));
    }
    if !web.join("node_modules/playwright-core").exists() {
        return missing("web/node_modules/playwright-core is missing");
    }
    let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(nginx) = nginx else {
        return missing("nginx is missing (Debian package nginx)");
    };

    let dir = tempfile::tempdir().unwrap();
    let token = format!("static-token-{}", std::process::id());
    let (_server, addr) = serve(&root().join("fixtures/kangle"), dir.path(), &token);
    let site = dir.path().join("site");
    let exported = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["tiles", "export", "--static"])
        .arg(&site)
        .args(["--store", dir.path().join("wangge.db").to_str().unwrap()])
        .args(["--api-url", &format!("http://{addr}")])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    for f in [
        "index.html",
        "style.json",
        "tiles.json",
        "tiles.pmtiles",
        "sprites/sprite@2x.png",
        "app/vendor/pmtiles.js",
    ] {
        assert!(site.join(f).exists(), "the folder lacks {f}");
    }
    assert!(site.join("fonts/DejaVu Sans Bold/0-255.pbf").exists());

    // nginx on a free port, serving the folder and nothing else.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = dir.path().join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "user root;\nworker_processes 1;\npid {dir}/nginx.pid;\nerror_log {dir}/nginx-error.log;\nevents {{ worker_connections 64; }}\n\
             http {{ include /etc/nginx/mime.types; types {{ application/x-protobuf pbf; }} access_log off;\n\
             client_body_temp_path {dir}; proxy_temp_path {dir}; fastcgi_temp_path {dir}; uwsgi_temp_path {dir}; scgi_temp_path {dir};\n\
             server {{ listen 127.0.0.1:{port}; root {site}; }} }}\n",
            dir = dir.path().display(),
            site = site.display()
        ),
    )
    .unwrap();
    let nginx = Command::new(nginx)
        .args(["-e", dir.path().join("nginx-error.log").to_str().unwrap()])
        .args([
            "-p",
            dir.path().to_str().unwrap(),
            "-c",
            conf.to_str().unwrap(),
            "-g",
            "daemon off;",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _nginx = Server(nginx);
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed().as_secs() < 10,
            "nginx did not start: see {}",
            dir.path().join("nginx-error.log").display()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // A building's anchor and the grid holding it, from the dataset and the service's lookup.
    let d = gis_core::io::load_dataset(&root().join("fixtures/kangle"))
        .unwrap()
        .dataset;
    let b = &d.buildings[0];
    let (lon, lat) = (b.anchor.x(), b.anchor.y());
    let body = http_get(&addr, &format!("/v1/lookup?lon={lon}&lat={lat}"));
    let code = serde_json::from_str::<serde_json::Value>(&body).unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();

    let status = Command::new("node")
        .arg(web.join("tests/static.mjs"))
        .arg(format!("http://127.0.0.1:{port}"))
        .args([lon.to_string(), lat.to_string(), code])
        .arg(format!("http://{addr}"))
        .env("CHROMIUM", &chromium)
        .env("SCREENSHOTS", root().join("out/screenshots"))
        .status()
        .expect("node runs");
    assert!(
        status.success(),
        "web/tests/static.mjs failed (its output above says which check)"
    );
}

/// The body of a GET over plain HTTP.
fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    raw.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}
