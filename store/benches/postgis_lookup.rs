//! The same point → grid lookups done by PostGIS, for comparison with the in-process index:
//! `ST_Covers` over a GiST index, lowest code first (the edge rule), one point per query, over
//! two connections, against the in-process `GridIndex` on one core in the same run.
//!
//! WANGGE_BENCH_GRIDS=out/city-grids.geojson DATABASE_URL=postgres://... cargo bench -p store --bench postgis_lookup
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
            ("fixtures/zhongjing".into(), partition(&d, &PartitionOptions::default(), &mut |_, _| {}).grids)
        }
    }
}

/// The same points as gis-core's lookup bench: 70% uniform, 30% within half a metre of an edge.
fn points(grids: &[Grid], n: usize) -> Vec<Coord<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let all = grids
        .iter()
        .filter_map(|g| g.area.bounding_rect())
        .reduce(|a, b| Rect::new(Coord { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) }, Coord { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) }))
        .expect("grids");
    let edges: Vec<[Coord<f64>; 2]> =
        grids.iter().flat_map(|g| g.area.0.iter()).flat_map(|p| p.exterior().lines()).map(|l| [l.start, l.end]).collect();
    let m = 1.0 / 111_320.0;
    (0..n)
        .map(|i| {
            if i % 10 < 7 {
                Coord { x: rng.random_range(all.min().x..all.max().x), y: rng.random_range(all.min().y..all.max().y) }
            } else {
                let [a, b] = edges[rng.random_range(0..edges.len())];
                let t: f64 = rng.random();
                Coord { x: a.x + (b.x - a.x) * t + rng.random_range(-0.5..0.5) * m, y: a.y + (b.y - a.y) * t + rng.random_range(-0.5..0.5) * m }
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
    println!("{source}: {} grids; in-process GridIndex, one core: {:.0} lookups/s", grids.iter().filter(|g| g.level == GridLevel::Grid).count(), in_process);

    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("wangge_bench_{}", std::process::id());
    let setup = async {
        let mut c = sqlx::PgConnection::connect(&url).await?;
        sqlx::query("CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public").execute(&mut c).await?;
        sqlx::query(&format!("CREATE SCHEMA \"{schema}\"")).execute(&mut c).await?;
        sqlx::query(&format!("CREATE TABLE \"{schema}\".grids (code TEXT PRIMARY KEY, geom geometry(MultiPolygon, 4326) NOT NULL)")).execute(&mut c).await?;
        let mut tx = c.begin().await?;
        for g in grids.iter().filter(|g| g.level == GridLevel::Grid) {
            sqlx::query(&format!("INSERT INTO \"{schema}\".grids VALUES ($1, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($2), 4326)))"))
                .bind(&g.code)
                .bind(geometry(&g.area).to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        sqlx::query(&format!("CREATE INDEX ON \"{schema}\".grids USING GIST (geom)")).execute(&mut c).await?;
        sqlx::query(&format!("ANALYZE \"{schema}\".grids")).execute(&mut c).await?;
        Ok::<_, sqlx::Error>(c)
    };
    let mut admin = match setup.await {
        Ok(c) => c,
        Err(e) => {
            println!("PostGIS at {url} not usable ({e}); skipped the PostGIS comparison");
            return;
        }
    };
    let pool = PgPoolOptions::new().max_connections(2).connect(&url).await.expect("pool");
    let sql = format!(
        "SELECT code FROM \"{schema}\".grids WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY code COLLATE \"C\" LIMIT 1"
    );
    // Warm the plan cache and the index pages.
    for p in pts.iter().take(200) {
        let _: Option<String> = sqlx::query_scalar(&sql).bind(p.x).bind(p.y).fetch_optional(&pool).await.expect("query");
    }
    let n = std::env::var("WANGGE_BENCH_PG_POINTS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000usize).min(pts.len());
    let start = Instant::now();
    let halves: Vec<Vec<Coord<f64>>> = pts[..n].chunks(n.div_ceil(2)).map(<[Coord<f64>]>::to_vec).collect();
    let tasks: Vec<_> = halves
        .into_iter()
        .map(|part| {
            let (pool, sql) = (pool.clone(), sql.clone());
            tokio::spawn(async move {
                let mut out = Vec::with_capacity(part.len());
                for p in part {
                    let code: Option<String> = sqlx::query_scalar(&sql).bind(p.x).bind(p.y).fetch_optional(&pool).await.expect("query");
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
    let same = pts[..n].iter().zip(&answers).filter(|(p, a)| index.locate_code(**p) == a.as_deref()).count();
    let pg = n as f64 / secs;
    println!(
        "PostGIS ST_Covers + GiST, one point per query, 2 connections: {pg:.0} lookups/s ({n} points in {secs:.1} s); \
         in-process index on one core is {:.0}x faster; answers agree on {same} of {n}",
        in_process / pg
    );
    let _ = sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE")).execute(&mut admin).await;
}
