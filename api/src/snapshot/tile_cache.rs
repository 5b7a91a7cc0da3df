//! Rendered tiles of one snapshot, by tile and format, with their ETags: a map panning back and
//! forth costs one render per tile. Each snapshot has its own cache, so a new version never
//! answers with the old one's tiles.

use rustc_hash::FxHashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tiles::mercator::TileId;

/// Tiles a snapshot keeps before it starts over (tiles are cheap to redo).
pub const CAPACITY: usize = 50_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Mvt,
    /// A PNG at this scale (1: 256 px, 2: 512 px).
    Png(u32),
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Mvt => "application/vnd.mapbox-vector-tile",
            Format::Png(_) => "image/png",
        }
    }
}

pub struct CachedTile {
    pub bytes: Arc<Vec<u8>>,
    pub etag: String,
}

/// Rendered tiles by id and format; when full it starts over.
pub struct TileCache {
    entries: Mutex<FxHashMap<(TileId, Format), Arc<CachedTile>>>,
    capacity: usize,
    /// Which data this is, in the ETag: a tile of new data never matches an old ETag, even
    /// when its bytes are the same. A published version's number (so every replica serving it
    /// gives a tile the same ETag), else a number of this process's own.
    generation: u64,
}

/// Caches made so far in this process.
static GENERATIONS: AtomicU64 = AtomicU64::new(0);

impl TileCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(FxHashMap::default()),
            capacity,
            // The high bit keeps these apart from version numbers.
            generation: GENERATIONS.fetch_add(1, Ordering::Relaxed) | 1 << 63,
        }
    }

    /// The cache of published version `version`: its tiles' ETags are the same in every process
    /// serving that version (the bytes are: rendering is deterministic).
    pub fn for_version(capacity: usize, version: i64) -> Self {
        Self {
            entries: Mutex::new(FxHashMap::default()),
            capacity,
            generation: version as u64 & !(1 << 63),
        }
    }

    /// The cached tile, and whether it was rendered now.
    pub fn get_or_render(&self, key: (TileId, Format), render: impl FnOnce() -> Vec<u8>) -> (Arc<CachedTile>, bool) {
        if let Some(hit) = self.entries.lock().expect("cache lock").get(&key) {
            return (hit.clone(), false);
        }
        let bytes = render();
        let mut h = rustc_hash::FxHasher::default();
        bytes.hash(&mut h);
        self.generation.hash(&mut h);
        let tile = Arc::new(CachedTile {
            etag: format!("\"{:016x}\"", h.finish()),
            bytes: Arc::new(bytes),
        });
        let mut entries = self.entries.lock().expect("cache lock");
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(key, tile.clone());
        (tile, true)
    }
}
