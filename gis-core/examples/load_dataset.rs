//! Loads a dataset folder with the strict reader and prints what it holds: for profiling the
//! reader on its own, with the system allocator (heaptrack sees every allocation), e.g.
//! `heaptrack target/release/examples/load_dataset out/city`.

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: load_dataset DATASET");
        std::process::exit(2);
    };
    let started = std::time::Instant::now();
    match gis_core::io::load_dataset(std::path::Path::new(&dir)) {
        Ok(loaded) => {
            let d = &loaded.dataset;
            println!(
                "{} communities, {} buildings, {} points, {} resources, {} roads in {:.2} s",
                d.communities.len(),
                d.buildings.len(),
                d.points.len(),
                d.resources.len(),
                d.roads.len(),
                started.elapsed().as_secs_f64()
            );
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
