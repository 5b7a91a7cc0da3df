//! The same point → grid lookups done by PostGIS, for comparison with the in-process index:
//! `ST_Covers` over a GiST index, lowest code first (the edge rule), one point per query, over
//! two connections, against the in-process `GridIndex` on one core in the same run.
//!
//! WANGGE_BENCH_GRIDS=out/city-grids.geojson DATABASE_URL=postgres://... cargo bench -p store --bench postgis_lookup
//!
//! Then, in the same run, when the tools are there: the same lookups by `pgbench` (2 clients, 2
//! threads, prepared; each query joins its point from a table by primary key), and over HTTP
//! with `wrk` against a running `wangge serve` serving the same grids (WANGGE_BENCH_HTTP=
//! http://127.0.0.1:PORT; scripts/bench-http.sh starts one): lookups/s and p99 of each.
//!
//! Without WANGGE_BENCH_GRIDS it uses Zhongjing, partitioned here. The grids go into a scratch
//! schema (dropped afterwards); without PostGIS only the in-process figure is printed.

use geo::{BoundingRect, Coord, Rect};
use gis_core::grid::{Grid, GridLevel};
use gis_core::io::grids::{geometry, read_layer};
use gis_core::lookup::GridIndex;
use gis_core::partition::{PartitionOptions, partition};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::Connection;
use sqlx::postgres::PgPoolOptions;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

fn grids() -> (String, Vec<Grid>) {
    match std::env::var("WANGGE_BENCH_GRIDS") {
        Ok(path) => (path.clone(), read_layer(Path::new(&path)).expect("a grid layer").grids),
        Err(_) => {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/zhongjing");
            let d = gis_core::io::load_dataset(&dir).expect("fixture").dataset;
            (
                "fixtures/zhongjing".into(),
                partition(&d, &PartitionOptions::default(), &mut |_, _| {}).grids,
            )
        }
    }
}

/// The same points as gis-core's lookup bench: 70% uniform, 30% within half a metre of an edge.
fn points(grids: &[Grid], n: usize) -> Vec<Coord<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let all = grids
        .iter()
        .filter_map(|g| g.area.bounding_rect())
        .reduce(|a, b| {
            Rect::new(
                Coord {
                    x: a.min().x.min(b.min().x),
                    y: a.min().y.min(b.min().y),
                },
                Coord {
                    x: a.max().x.max(b.max().x),
                    y: a.max().y.max(b.max().y),
                },
            )
        })
        .expect("grids");
    let edges: Vec<[Coord<f64>; 2]> = grids
        .iter()
        .flat_map(|g| g.area.0.iter())
        .flat_map(|p| p.exterior().lines())
        .map(|l| [l.start, l.end])
        .collect();
    let m = 1.0 / 111_320.0;
    (0..n)
        .map(|i| {
            if i % 10 < 7 {
                Coord {
                    x: rng.random_range(all.min().x..all.max().x),
                    y: rng.random_range(all.min().y..all.max().y),
                }
            } else {
                let [a, b] = edges[rng.random_range(0..edges.len())];
                let t: f64 = rng.random();
                Coord {
                    x: a.x + (b.x - a.x) * t + rng.random_range(-0.5..0.5) * m,
                    y: a.y + (b.y - a.y) * t + rng.random_range(-0.5..0.5) * m,
                }
            }
        })
        .collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (source, grids) = grids();
    let index = GridIndex::new(grids.clone()).expect("unique codes");
    let pts = points(&grids, 200_000);
    let start = Instant::now();
    let mut runs = 0;
    while runs == 0 || start.elapsed() < Duration::from_secs(2) {
        black_box(pts.iter().filter(|&&p| index.locate_code(p).is_some()).count());
        runs += 1;
    }
    let in_process = (pts.len() * runs) as f64 / start.elapsed().as_secs_f64();
    println!(
        "{source}: {} grids; in-process GridIndex, one core: {:.0} lookups/s",
        grids.iter().filter(|g| g.level == GridLevel::Grid).count(),
        in_process
    );

    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("wangge_bench_{}", std::process::id());
    let setup = async {
        let mut c = sqlx::PgConnection::connect(&url).await?;
        sqlx::query("CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public")
            .execute(&mut c)
            .await?;
        sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
            .execute(&mut c)
            .await?;
        sqlx::query(&format!(
            "CREATE TABLE \"{schema}\".grids (code TEXT PRIMARY KEY, geom geometry(MultiPolygon, 4326) NOT NULL)"
        ))
        .execute(&mut c)
        .await?;
        let mut tx = c.begin().await?;
        for g in grids.iter().filter(|g| g.level == GridLevel::Grid) {
            sqlx::query(&format!(
                "INSERT INTO \"{schema}\".grids VALUES ($1, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($2), 4326)))"
            ))
            .bind(&g.code)
            .bind(geometry(&g.area).to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        sqlx::query(&format!("CREATE INDEX ON \"{schema}\".grids USING GIST (geom)"))
            .execute(&mut c)
            .await?;
        sqlx::query(&format!("ANALYZE \"{schema}\".grids"))
            .execute(&mut c)
            .await?;
        Ok::<_, sqlx::Error>(c)
    };
    let mut admin = match setup.await {
        Ok(c) => c,
        Err(e) => {
            println!("PostGIS at {url} not usable ({e}); skipped the PostGIS comparison");
            return;
        }
    };
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .expect("pool");
    let sql = format!(
        "SELECT code FROM \"{schema}\".grids WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY code COLLATE \"C\" LIMIT 1"
    );
    // Warm the plan cache and the index pages.
    for p in pts.iter().take(200) {
        let _: Option<String> = sqlx::query_scalar(&sql)
            .bind(p.x)
            .bind(p.y)
            .fetch_optional(&pool)
            .await
            .expect("query");
    }
    let n = std::env::var("WANGGE_BENCH_PG_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000usize)
        .min(pts.len());
    let start = Instant::now();
    let halves: Vec<Vec<Coord<f64>>> = pts[..n].chunks(n.div_ceil(2)).map(<[Coord<f64>]>::to_vec).collect();
    let tasks: Vec<_> = halves
        .into_iter()
        .map(|part| {
            let (pool, sql) = (pool.clone(), sql.clone());
            tokio::spawn(async move {
                let mut out = Vec::with_capacity(part.len());
                for p in part {
                    let code: Option<String> = sqlx::query_scalar(&sql)
                        .bind(p.x)
                        .bind(p.y)
                        .fetch_optional(&pool)
                        .await
                        .expect("query");
                    out.push(code);
                }
                out
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(n);
    for t in tasks {
        answers.extend(t.await.expect("task"));
    }
    let secs = start.elapsed().as_secs_f64();
    let same = pts[..n]
        .iter()
        .zip(&answers)
        .filter(|(p, a)| index.locate_code(**p) == a.as_deref())
        .count();
    let pg = n as f64 / secs;
    println!(
        "PostGIS ST_Covers + GiST, one point per query, 2 connections: {pg:.0} lookups/s ({n} points in {secs:.1} s); \
         in-process index on one core is {:.0}x faster; answers agree on {same} of {n}",
        in_process / pg
    );

    // The same points for pgbench and wrk.
    sqlx::query(&format!(
        "CREATE TABLE \"{schema}\".points (id INT PRIMARY KEY, pt geometry(Point, 4326) NOT NULL)"
    ))
    .execute(&mut admin)
    .await
    .expect("points table");
    for (k, chunk) in pts[..n].chunks(5000).enumerate() {
        let xs: Vec<f64> = chunk.iter().map(|p| p.x).collect();
        let ys: Vec<f64> = chunk.iter().map(|p| p.y).collect();
        sqlx::query(&format!(
            "INSERT INTO \"{schema}\".points SELECT $1 + o - 1, ST_SetSRID(ST_MakePoint(x, y), 4326) FROM UNNEST($2::float8[], $3::float8[]) WITH ORDINALITY AS t(x, y, o)"
        ))
        .bind((k * 5000) as i32)
        .bind(&xs)
        .bind(&ys)
        .execute(&mut admin)
        .await
        .expect("points");
    }
    let pgbench = pgbench(&url, &schema, n);
    match &pgbench {
        Some((rate, p99)) => {
            println!("pgbench (2 clients, prepared, point joined by id): {rate:.0} lookups/s, p99 {p99:.2} ms")
        }
        None => println!("pgbench not found or failed; skipped"),
    }
    if let Ok(base) = std::env::var("WANGGE_BENCH_HTTP") {
        match wrk(&base, &pts[..n], &index) {
            Ok((rate, p99, agree)) => {
                println!(
                    "wangge over HTTP (wrk, 2 threads, 32 connections, loopback): {rate:.0} lookups/s, p99 {p99:.2} ms; {agree}"
                );
                if let Some((pg_rate, _)) = pgbench {
                    println!("wangge over HTTP / pgbench: {:.2}x", rate / pg_rate);
                }
                println!("wangge over HTTP / PostGIS (sqlx, 2 connections): {:.2}x", rate / pg);
            }
            Err(e) => println!("wrk run skipped: {e}"),
        }
    }
    let _ = sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .execute(&mut admin)
        .await;
}

/// Reads `p99` (ms) from wrk's or pgbench's output.
fn millis(text: &str, unit: &str) -> f64 {
    let v: f64 = text.trim_end_matches(unit).parse().unwrap_or(f64::NAN);
    match unit {
        "us" => v / 1000.0,
        "s" => v * 1000.0,
        _ => v,
    }
}

/// pgbench over 2 connections for 20 s: the lookup query with the point read by id.
fn pgbench(url: &str, schema: &str, n: usize) -> Option<(f64, f64)> {
    let dir = std::env::temp_dir().join(format!("wangge-pgbench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let script = dir.join("lookup.sql");
    std::fs::write(
        &script,
        format!(
            "\\set i random(0, {})\nSELECT g.code FROM \"{schema}\".grids g, \"{schema}\".points p WHERE p.id = :i AND ST_Covers(g.geom, p.pt) ORDER BY g.code COLLATE \"C\" LIMIT 1;\n",
            n - 1
        ),
    )
    .ok()?;
    let log = dir.join("latencies");
    std::fs::create_dir_all(&log).ok()?;
    let out = std::process::Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-c", "2", "-j", "2", "-T", "20", "-f"])
        .arg(&script)
        .args(["-l", "--log-prefix"])
        .arg(log.join("pgbench"))
        .arg(url)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let tps: f64 = text
        .lines()
        .find(|l| l.starts_with("tps"))?
        .split('=')
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    // Per-transaction log lines: client, tx, latency in µs, ...
    let mut lat: Vec<f64> = Vec::new();
    for f in std::fs::read_dir(&log).ok()?.flatten() {
        for line in std::fs::read_to_string(f.path()).ok()?.lines() {
            if let Some(us) = line.split_whitespace().nth(2).and_then(|v| v.parse::<f64>().ok()) {
                lat.push(us / 1000.0);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    lat.sort_by(f64::total_cmp);
    let p99 = lat.get(lat.len() * 99 / 100).copied().unwrap_or(f64::NAN);
    Some((tps, p99))
}

/// wrk for 20 s over the same points as `GET /v1/lookup?lon=&lat=`, after checking that the
/// service answers a sample of them as the index does.
fn wrk(base: &str, pts: &[Coord<f64>], index: &GridIndex) -> Result<(f64, f64, String), String> {
    let host = base.trim_start_matches("http://").trim_end_matches('/').to_string();
    let mut agree = 0;
    let sample = pts.iter().step_by((pts.len() / 500).max(1)).take(500);
    let mut checked = 0;
    for p in sample {
        let body = http_get(&host, &format!("/v1/lookup?lon={}&lat={}", p.x, p.y))?;
        // A 404 is a problem body, whose `code` is the problem's ("not_found"), not a grid's.
        let code = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .filter(|v| v.get("status").is_none())
            .and_then(|v| v["code"].as_str().map(String::from));
        if code.as_deref() == index.locate_code(*p) {
            agree += 1;
        }
        checked += 1;
    }
    let dir = std::env::temp_dir().join(format!("wangge-wrk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let script = dir.join("lookup.lua");
    let mut lua = String::from("local paths = {\n");
    for p in pts {
        lua.push_str(&format!("\"/v1/lookup?lon={}&lat={}\",\n", p.x, p.y));
    }
    lua.push_str(
        "}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend\n",
    );
    std::fs::write(&script, lua).map_err(|e| e.to_string())?;
    let out = std::process::Command::new("wrk")
        .args(["-t", "2", "-c", "32", "-d", "20s", "--latency", "-s"])
        .arg(&script)
        .arg(base)
        .output()
        .map_err(|e| format!("wrk: {e}"))?;
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let rate: f64 = text
        .lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no rate in wrk's output: {text}"))?;
    let p99 = text
        .lines()
        .find(|l| l.trim_start().starts_with("99%"))
        .and_then(|l| l.split_whitespace().nth(1))
        .map(|v| {
            if let Some(x) = v.strip_suffix("ms") {
                millis(x, "ms")
            } else if let Some(x) = v.strip_suffix("us") {
                millis(x, "us")
            } else {
                millis(v.trim_end_matches('s'), "s")
            }
        })
        .unwrap_or(f64::NAN);
    Ok((
        rate,
        p99,
        format!("the service's answer equals the index's on {agree} of {checked} sampled points"),
    ))
}

fn http_get(host: &str, path: &str) -> Result<String, String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(host).map_err(|e| format!("cannot reach {host}: {e}"))?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").map_err(|e| e.to_string())?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).map_err(|e| e.to_string())?;
    Ok(raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default())
}
