//! PMTiles v3 by the `pmtiles` crate: tiles added in tile-id order (so the archive is
//! clustered), identical tiles stored once and consecutive ones as one run, the root directory
//! in the first 16 KiB with leaf directories when it would not fit, directories and metadata
//! gzip-compressed, tiles gzip-compressed (by [`super::gzip`], so a copied tile is the same
//! bytes as a rendered one).

use super::{ArchiveError, Meta};
use pmtiles::{
    AsyncPmTilesReader, Compression, MmapBackend, NoCache, PmTilesStreamWriter, PmTilesWriter, TileCoord, TileType,
};
use serde_json::Value;
use std::fs::File;
use std::path::{Path, PathBuf};
use tiles::mercator::TileId;

/// The PMTiles tile id of a tile (zoom, then the Hilbert curve).
pub fn tile_id(t: TileId) -> u64 {
    pmtiles::TileId::from(coord(t)).value()
}

fn coord(t: TileId) -> TileCoord {
    TileCoord::new(t.z, t.x, t.y).expect("a wangge tile id is a valid PMTiles coordinate")
}

pub struct Writer {
    out: PmTilesStreamWriter<File>,
    path: PathBuf,
}

impl Writer {
    pub fn create(path: &Path, meta: &Meta) -> Result<Self, ArchiveError> {
        let file = File::create(path).map_err(|source| ArchiveError::Write {
            path: path.to_path_buf(),
            source,
        })?;
        let [w, s, e, n] = meta.bounds;
        let out = PmTilesWriter::new(TileType::Mvt)
            .precompressed(Compression::Gzip)
            .internal_compression(Compression::Gzip)
            .min_zoom(*meta.zooms.start())
            .max_zoom(*meta.zooms.end())
            .bounds(w, s, e, n)
            .center(meta.center[0], meta.center[1])
            .center_zoom(14.clamp(*meta.zooms.start(), *meta.zooms.end()))
            .metadata(meta.tilejson.to_string())
            .create(file)
            .map_err(|e| err(path, e))?;
        Ok(Self {
            out,
            path: path.to_path_buf(),
        })
    }

    /// Adds a gzip-compressed tile; tiles come in tile-id order.
    pub fn add(&mut self, t: TileId, gz: &[u8]) -> Result<(), ArchiveError> {
        self.out.add_tile(coord(t), gz).map_err(|e| err(&self.path, e))
    }

    pub fn finish(self) -> Result<(), ArchiveError> {
        self.out.finalize().map_err(|e| err(&self.path, e))
    }
}

fn err(path: &Path, e: pmtiles::PmtError) -> ArchiveError {
    ArchiveError::Pmtiles {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// A PMTiles archive read through a memory map.
pub struct Reader {
    inner: AsyncPmTilesReader<MmapBackend, NoCache>,
    path: PathBuf,
}

impl Reader {
    pub async fn open(path: &Path) -> Result<Self, ArchiveError> {
        let inner = AsyncPmTilesReader::<MmapBackend, NoCache>::new_with_path(path)
            .await
            .map_err(|e| err(path, e))?;
        let h = inner.get_header();
        if h.tile_type != TileType::Mvt || h.tile_compression != Compression::Gzip {
            return Err(ArchiveError::Foreign {
                path: path.to_path_buf(),
                reason: format!(
                    "it holds {:?} tiles compressed as {:?}, not gzip-compressed vector tiles",
                    h.tile_type, h.tile_compression
                ),
            });
        }
        Ok(Self {
            inner,
            path: path.to_path_buf(),
        })
    }

    pub async fn tilejson(&mut self) -> Result<Value, ArchiveError> {
        let text = self.inner.get_metadata().await.map_err(|e| err(&self.path, e))?;
        serde_json::from_str(&text).map_err(|e| ArchiveError::Foreign {
            path: self.path.clone(),
            reason: format!("its metadata is not JSON: {e}"),
        })
    }

    /// The tile as stored (gzip-compressed), or `None`.
    pub async fn get(&mut self, t: TileId) -> Result<Option<Vec<u8>>, ArchiveError> {
        let tile = self.inner.get_tile(coord(t)).await.map_err(|e| err(&self.path, e))?;
        Ok(tile.map(|b| b.to_vec()))
    }
}
