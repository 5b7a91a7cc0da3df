//! Tile archives of a published version (`wangge tiles export`): every vector tile `serve`
//! answers with content at `/tiles/{z}/{x}/{y}.mvt`, gzip-compressed, in one PMTiles v3 or
//! MBTiles 1.3 file with the TileJSON as its metadata, so any static host or CDN (or Martin)
//! can serve the map without wangge. The file is written beside the target and renamed, so a
//! reader never sees half an archive. With a previous archive and its version's map data only
//! the tiles that can differ are rendered again ([`tiles::pyramid::changed`]); the others are
//! copied as they are.

pub mod mbtiles;
pub mod pmtiles;
pub mod site;

use rayon::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use tiles::data::MapData;
use tiles::mercator::TileId;
use tiles::pyramid::TileSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pmtiles,
    Mbtiles,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Pmtiles => "PMTiles",
            Format::Mbtiles => "MBTiles",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}: {reason}")]
    Pmtiles { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Sqlite { path: PathBuf, source: sqlx::Error },
    #[error("{path} is not an archive wangge wrote: {reason}")]
    Foreign { path: PathBuf, reason: String },
}

/// What an archive says about itself: the TileJSON (`vector_layers` and all) with a `wangge`
/// member naming the version and zooms it holds, and the header's box and centre.
#[derive(Debug, Clone)]
pub struct Meta {
    pub tilejson: Value,
    pub version: i64,
    pub zooms: RangeInclusive<u8>,
    pub bounds: [f64; 4],
    pub center: [f64; 2],
}

impl Meta {
    /// The TileJSON of `map` (as `/tiles.json` gives it, without tile URLs: the archive holds
    /// the tiles) for the zooms exported.
    pub fn new(map: &MapData, version: i64, zooms: RangeInclusive<u8>) -> Self {
        let mut tilejson = tiles::style::tilejson(map, "");
        let o = tilejson.as_object_mut().expect("TileJSON is an object");
        o.remove("tiles");
        o.insert("minzoom".into(), (*zooms.start()).into());
        o.insert("maxzoom".into(), (*zooms.end()).into());
        o.insert(
            "wangge".into(),
            serde_json::json!({"version": version, "minzoom": zooms.start(), "maxzoom": zooms.end()}),
        );
        let [w, s, e, n] = map.bounds;
        Self {
            tilejson,
            version,
            zooms,
            bounds: map.bounds,
            center: [(w + e) / 2.0, (s + n) / 2.0],
        }
    }

    /// The version and zooms an archive's metadata records (`None` when it has no `wangge`
    /// member: not one wangge wrote).
    pub fn recorded(tilejson: &Value) -> Option<(i64, RangeInclusive<u8>)> {
        let w = tilejson.get("wangge")?;
        let v = w.get("version")?.as_i64()?;
        let lo = u8::try_from(w.get("minzoom")?.as_u64()?).ok()?;
        let hi = u8::try_from(w.get("maxzoom")?.as_u64()?).ok()?;
        Some((v, lo..=hi))
    }
}

/// A previous archive to copy unchanged tiles from, and the map data of the version it holds.
pub struct Previous<'a> {
    pub map: &'a MapData,
    pub archive: Source,
}

/// What an export did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    /// Tiles some feature box meets: the ones that can hold data.
    pub candidates: u64,
    /// Of those, rendered now (the rest copied from the previous archive).
    pub rendered: u64,
    /// Tiles with data, written to the archive.
    pub written: u64,
    /// Bytes of the archive.
    pub bytes: u64,
}

/// Every tile of `zooms` that can hold data, in PMTiles tile-id order (zoom, then along the
/// Hilbert curve: neighbours near each other in the file).
pub fn plan(map: &MapData, zooms: RangeInclusive<u8>) -> Vec<TileId> {
    let mut all: Vec<(u64, TileId)> = zooms
        .flat_map(|z| tiles::pyramid::candidates(map, z))
        .map(|t| (pmtiles::tile_id(t), t))
        .collect();
    all.sort_unstable_by_key(|(id, _)| *id);
    all.into_iter().map(|(_, t)| t).collect()
}

/// The vector tile as `serve` answers it, gzip-compressed; `None` when it is empty.
pub fn render(map: &MapData, t: TileId) -> Option<Vec<u8>> {
    let mvt = tiles::mvt::encode(map, t);
    (!mvt.is_empty()).then(|| gzip(&mvt))
}

/// Deterministic gzip (no name, no time), so the same tile is the same bytes in every archive.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 3), flate2::Compression::default());
    enc.write_all(bytes).expect("writing to memory");
    enc.finish().expect("writing to memory")
}

/// Tiles rendered in parallel per batch, then written in order.
const BATCH: usize = 512;

/// Writes the archive of `map` to `out` (through a temporary file beside it, renamed at the end;
/// removed on failure). `progress(done, total)` after each batch.
pub async fn export(
    map: &MapData,
    meta: &Meta,
    format: Format,
    out: &Path,
    previous: Option<Previous<'_>>,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Summary, ArchiveError> {
    let partial = Partial::new(out)?;
    let planned = plan(map, meta.zooms.clone());
    // Per zoom, the tiles that can differ from the previous archive's (all when None).
    let mut previous = previous.map(|p| {
        let zooms: Vec<u8> = meta.zooms.clone().collect();
        let dirty: BTreeMap<u8, Option<TileSet>> = zooms
            .into_par_iter()
            .map(|z| (z, tiles::pyramid::changed(p.map, map, z)))
            .collect::<Vec<_>>()
            .into_iter()
            .collect();
        (p.archive, dirty)
    });
    let mut sink = Sink::create(format, partial.path(), meta).await?;
    let mut summary = Summary {
        candidates: planned.len() as u64,
        ..Summary::default()
    };
    for (n, batch) in planned.chunks(BATCH).enumerate() {
        // Tiles that cannot differ from the previous archive's are copied from it.
        let mut copied: Vec<Option<Option<Vec<u8>>>> = vec![None; batch.len()];
        if let Some((archive, dirty)) = previous.as_mut() {
            for (slot, t) in copied.iter_mut().zip(batch) {
                if dirty[&t.z].as_ref().is_some_and(|set| !set.contains(&(t.x, t.y))) {
                    *slot = Some(archive.get(*t).await?);
                }
            }
        }
        summary.rendered += copied.iter().filter(|c| c.is_none()).count() as u64;
        let done: Vec<Option<Vec<u8>>> = batch
            .par_iter()
            .zip(copied.into_par_iter())
            .map(|(t, copy)| copy.unwrap_or_else(|| render(map, *t)))
            .collect();
        for (t, bytes) in batch.iter().zip(done) {
            if let Some(b) = bytes {
                sink.add(*t, &b).await?;
                summary.written += 1;
            }
        }
        progress(((n * BATCH) + batch.len()) as u64, planned.len() as u64);
    }
    sink.finish(meta).await?;
    summary.bytes = partial.commit()?;
    Ok(summary)
}

/// The archive being written: a hidden file beside the target, removed unless committed.
struct Partial {
    tmp: PathBuf,
    out: PathBuf,
    committed: bool,
}

impl Partial {
    fn new(out: &Path) -> Result<Self, ArchiveError> {
        let name = out.file_name().ok_or_else(|| ArchiveError::Write {
            path: out.to_path_buf(),
            source: std::io::Error::other("not a file path"),
        })?;
        let dir = out
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = dir.join(format!(".{}.partial", name.to_string_lossy()));
        // Fails now, before any rendering, when the folder is missing or not writable.
        std::fs::File::create(&tmp).map_err(|source| ArchiveError::Write {
            path: out.to_path_buf(),
            source,
        })?;
        Ok(Self {
            tmp,
            out: out.to_path_buf(),
            committed: false,
        })
    }

    fn path(&self) -> &Path {
        &self.tmp
    }

    /// Renames the finished file over the target; its size.
    fn commit(mut self) -> Result<u64, ArchiveError> {
        let err = |source| ArchiveError::Write {
            path: self.out.clone(),
            source,
        };
        let bytes = std::fs::metadata(&self.tmp).map_err(err)?.len();
        std::fs::rename(&self.tmp, &self.out).map_err(err)?;
        self.committed = true;
        Ok(bytes)
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// An archive being written.
enum Sink {
    // Boxed: the PMTiles writer's buffers are large beside an SQLite connection.
    Pmtiles(Box<pmtiles::Writer>),
    Mbtiles(mbtiles::Writer),
}

impl Sink {
    async fn create(format: Format, path: &Path, meta: &Meta) -> Result<Self, ArchiveError> {
        Ok(match format {
            Format::Pmtiles => Sink::Pmtiles(Box::new(pmtiles::Writer::create(path, meta)?)),
            Format::Mbtiles => Sink::Mbtiles(mbtiles::Writer::create(path, meta).await?),
        })
    }

    async fn add(&mut self, t: TileId, gz: &[u8]) -> Result<(), ArchiveError> {
        match self {
            Sink::Pmtiles(w) => w.add(t, gz),
            Sink::Mbtiles(w) => w.add(t, gz).await,
        }
    }

    async fn finish(self, meta: &Meta) -> Result<(), ArchiveError> {
        match self {
            Sink::Pmtiles(w) => w.finish(),
            Sink::Mbtiles(w) => w.finish(meta).await,
        }
    }
}

/// An archive being read: its metadata and tiles (as stored, gzip-compressed).
pub enum Source {
    Pmtiles(pmtiles::Reader),
    Mbtiles(mbtiles::Reader),
}

impl Source {
    pub async fn open(format: Format, path: &Path) -> Result<Self, ArchiveError> {
        Ok(match format {
            Format::Pmtiles => Source::Pmtiles(pmtiles::Reader::open(path).await?),
            Format::Mbtiles => Source::Mbtiles(mbtiles::Reader::open(path).await?),
        })
    }

    /// The TileJSON the archive holds.
    pub async fn tilejson(&mut self) -> Result<Value, ArchiveError> {
        match self {
            Source::Pmtiles(r) => r.tilejson().await,
            Source::Mbtiles(r) => r.tilejson().await,
        }
    }

    pub async fn get(&mut self, t: TileId) -> Result<Option<Vec<u8>>, ArchiveError> {
        match self {
            Source::Pmtiles(r) => r.get(t).await,
            Source::Mbtiles(r) => r.get(t).await,
        }
    }
}
