//! How long a server takes to get the current version ready to serve (dataset re-import, layer,
//! and the lookup index a server builds over them), and a few lookups on it:
//!
//! cargo run --release -p store --example published -- [DATABASE_URL | path/to/store.db]

use geo::Coord;
use gis_core::crs::Crs;
use std::path::Path;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = std::env::args().nth(1).unwrap_or_else(|| "wangge.db".into());
    let store = if target.starts_with("postgres") {
        store::Store::open(Some(&target), Path::new("unused")).await?
    } else {
        store::Store::open(None, Path::new(&target)).await?
    };
    let started = Instant::now();
    let Some(p) = store.published(None).await? else {
        println!("nothing published");
        return Ok(());
    };
    let index = gis_core::lookup::LookupIndex::new(&p.dataset, p.layer.grids.clone(), &p.staff)?;
    println!(
        "{:?}: version {} ready in {:.2} s ({} grids, {} buildings)",
        store.backend(),
        p.version.number,
        started.elapsed().as_secs_f64(),
        p.layer.grids.len(),
        p.dataset.buildings.len()
    );
    let sample: Vec<(&str, &str)> = p
        .dataset
        .buildings
        .iter()
        .filter_map(|b| b.address.as_deref().map(|a| (a, b.id.as_str())))
        .step_by(18)
        .take(10_000)
        .collect();
    let started = Instant::now();
    let answers: Vec<_> = sample.iter().map(|(a, _)| index.geocode(a, 3)).collect();
    let secs = started.elapsed().as_secs_f64();
    let right = sample
        .iter()
        .zip(&answers)
        .filter(|((_, id), r)| {
            r.as_ref()
                .is_ok_and(|r| r.candidates.first().and_then(|c| c.candidate.building.as_deref()) == Some(*id))
        })
        .count();
    println!(
        "geocoded {} addresses in {:.3} s ({:.0}/s); {right} found their own building first",
        sample.len(),
        secs,
        sample.len() as f64 / secs
    );
    let b = &p.dataset.buildings[0];
    let hit = index.locate(
        Coord {
            x: b.anchor.x(),
            y: b.anchor.y(),
        },
        Crs::Wgs84,
    )?;
    println!("{} is in grid {:?}", b.id, hit.map(|g| g.code));
    Ok(())
}
