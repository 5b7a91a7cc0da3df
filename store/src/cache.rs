//! Parsed datasets by id. A stored dataset never changes, so a parse stays good for as long as
//! it is kept; only the last few used are kept (a city's dataset takes seconds to parse and
//! hundreds of MB to hold).

use gis_core::Dataset;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Datasets kept parsed: the ones a planner works on and the one served, with room to spare.
pub(crate) const KEPT: usize = 4;

#[derive(Debug)]
pub(crate) struct DatasetCache {
    /// Most recently used first.
    entries: Mutex<VecDeque<(i64, Arc<Dataset>)>>,
    capacity: usize,
}

impl DatasetCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(VecDeque::with_capacity(capacity + 1)),
            capacity,
        }
    }

    pub fn get(&self, id: i64) -> Option<Arc<Dataset>> {
        let mut entries = self.entries.lock().expect("dataset cache lock");
        let at = entries.iter().position(|(i, _)| *i == id)?;
        let entry = entries.remove(at)?;
        let dataset = entry.1.clone();
        entries.push_front(entry);
        Some(dataset)
    }

    pub fn put(&self, id: i64, dataset: Arc<Dataset>) {
        let mut entries = self.entries.lock().expect("dataset cache lock");
        entries.retain(|(i, _)| *i != id);
        entries.push_front((id, dataset));
        entries.truncate(self.capacity);
    }
}
