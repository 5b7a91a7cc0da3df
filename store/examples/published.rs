//! How long a server takes to get the current version ready to serve (dataset re-import, layer,
//! indexes), and a few lookups on it:
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
    println!(
        "{:?}: version {} ready in {:.2} s ({} grids, {} buildings)",
        store.backend(),
        p.version.number,
        started.elapsed().as_secs_f64(),
        p.layer.grids.len(),
        p.dataset.buildings.len()
    );
    let addresses: Vec<&str> = p.dataset.buildings.iter().filter_map(|b| b.address.as_deref()).step_by(97).take(10_000).collect();
    let started = Instant::now();
    let found = addresses.iter().filter(|a| p.region.geocode(a, 3).is_ok_and(|r| !r.candidates.is_empty())).count();
    let secs = started.elapsed().as_secs_f64();
    println!("geocoded {found} of {} addresses in {:.3} s ({:.0}/s)", addresses.len(), secs, addresses.len() as f64 / secs);
    let b = &p.dataset.buildings[0];
    let hit = p.region.locate(Coord { x: b.anchor.x(), y: b.anchor.y() }, Crs::Wgs84)?;
    println!("{} is in grid {:?}", b.id, hit.map(|g| g.code));
    Ok(())
}
