//! A file's envelope: its JSON, the FeatureCollection, and each Feature with its properties.

use super::{Feature, NO_PROPERTIES, Props, Reader, number_text};
use crate::io::geometry::{Geom, Shape, kind_of};
use crate::io::json::{self, Parsed as Json};
use crate::io::stream::{self, Streamed};
use crate::io::text::{self, Text};
use crate::io::{FeatureRef, InputProblemKind};
use serde_json::Value;

/// How many features [`Reader::collection_in_chunks`] hands on at a time.
const CHUNK: usize = 4096;

/// A FeatureCollection's features, as the reader that took the file holds them.
pub(super) enum Collection {
    /// The tree reader's: each feature a `Value`.
    Tree(Vec<Value>),
    Streamed(Vec<Streamed>),
}

impl Collection {
    pub fn len(&self) -> usize {
        match self {
            Collection::Tree(v) => v.len(),
            Collection::Streamed(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Reader {
    /// The file's JSON, or None (with the problem recorded) when it is absent or unreadable.
    pub(super) fn json(&mut self, file: &str, required: bool) -> Option<Value> {
        let text = self.text(file, required)?;
        self.parse(file, &text)
    }

    /// The file's size in bytes, 0 when it cannot be known.
    pub(super) fn len_of(&self, file: &str) -> u64 {
        match &self.files {
            Some(files) => files.get(file).map_or(0, |t| t.len() as u64),
            None => std::fs::metadata(self.dir.join(file)).map_or(0, |m| m.len()),
        }
    }

    /// The file's text, or None (with the problem recorded) when it is absent or unreadable.
    fn text(&mut self, file: &str, required: bool) -> Option<Text> {
        let read = match &mut self.files {
            // Taken, not cloned: each file is read once, and a city's buildings are 100 MB.
            Some(files) => files
                .remove(file)
                .map(Text::from)
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound)),
            None => text::read(&self.dir.join(file)),
        };
        let text = match read {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if required {
                    self.problem(
                        file,
                        None,
                        None,
                        InputProblemKind::MissingFile,
                        "required file is missing",
                    );
                }
                return None;
            }
            Err(e) => {
                self.problem(
                    file,
                    None,
                    None,
                    InputProblemKind::Unreadable,
                    format!("cannot be read: {e}"),
                );
                return None;
            }
        };
        Some(text)
    }

    /// The text's JSON, or None (with the problem recorded) when it is not JSON.
    fn parse(&mut self, file: &str, text: &str) -> Option<Value> {
        match json::parse(text) {
            Json::Ok(v) | Json::NonFiniteQuoted(v) => Some(v),
            Json::Invalid(msg) => {
                self.problem(
                    file,
                    None,
                    None,
                    InputProblemKind::InvalidJson,
                    format!("is not valid JSON: {msg}"),
                );
                None
            }
        }
    }

    /// The `features` of a FeatureCollection file whose geometries are of `shape`: streamed
    /// when the file has the ordinary shape, else read as a whole tree (see `io::stream`).
    pub(super) fn collection(&mut self, file: &str, required: bool, shape: Shape) -> Option<Collection> {
        let text = self.text(file, required)?;
        if !self.trees_only
            && let Some(features) = stream::features(&text, shape)
        {
            self.report.files.push((file.to_string(), features.len()));
            return Some(Collection::Streamed(features));
        }
        self.tree(file, text)
    }

    /// The features of `file` handed to `each` in chunks of [`CHUNK`] (with the index of each
    /// chunk's first feature), read on another thread meanwhile, so that a city's buildings are
    /// never all held as JSON values at once. A file the streaming reader declines is read as a
    /// tree instead, and handed on in chunks the same way after what `each` recorded from the
    /// streamed part is undone — so both readers record the same problems in the same order.
    /// A file absent or not a FeatureCollection hands on nothing (the problem recorded).
    pub(super) fn collection_in_chunks<S: Default>(
        &mut self,
        file: &str,
        required: bool,
        shape: Shape,
        state: &mut S,
        each: &mut dyn FnMut(&mut Self, &mut S, &mut Collection, usize),
    ) {
        let Some(text) = self.text(file, required) else {
            return;
        };
        if !self.trees_only {
            let (problems, warnings) = (self.problems.len(), self.report.warnings.len());
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            // Chunks go back to the parser's thread to be freed there, where they were allocated.
            let (back, done) = std::sync::mpsc::channel::<Collection>();
            let streamed = std::thread::scope(|s| {
                let text: &str = &text;
                let parser = s.spawn(move || {
                    stream::features_in_chunks(text, shape, CHUNK, &mut |c| {
                        done.try_iter().for_each(drop);
                        tx.send(c).is_ok()
                    })
                });
                let mut first = 0;
                for chunk in rx {
                    let n = chunk.len();
                    let mut chunk = Collection::Streamed(chunk);
                    each(self, state, &mut chunk, first);
                    let _ = back.send(chunk);
                    first += n;
                }
                parser.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
            });
            if let Some(n) = streamed {
                self.report.files.push((file.to_string(), n));
                return;
            }
            self.problems.truncate(problems);
            self.report.warnings.truncate(warnings);
            *state = S::default();
        }
        let Some(Collection::Tree(values)) = self.tree(file, text) else {
            return;
        };
        let mut values = values.into_iter();
        let mut first = 0;
        loop {
            let chunk: Vec<Value> = values.by_ref().take(CHUNK).collect();
            if chunk.is_empty() {
                return;
            }
            let n = chunk.len();
            each(self, state, &mut Collection::Tree(chunk), first);
            first += n;
        }
    }

    /// A FeatureCollection file's features read as one `Value` tree: every problem of an unusual
    /// file worded.
    fn tree(&mut self, file: &str, text: Text) -> Option<Collection> {
        let mut root = self.parse(file, &text)?;
        drop(text);
        let kind = root.get("type").and_then(Value::as_str).unwrap_or("");
        if kind != "FeatureCollection" {
            let found = if kind.is_empty() {
                kind_of(&root)
            } else {
                format!("a GeoJSON {kind}")
            };
            self.problem(
                file,
                None,
                Some("type"),
                InputProblemKind::NotFeatureCollection,
                format!("expected a GeoJSON FeatureCollection, found {found}"),
            );
            return None;
        }
        match root.get_mut("features").map(Value::take) {
            Some(Value::Array(features)) => {
                self.report.files.push((file.to_string(), features.len()));
                Some(Collection::Tree(features))
            }
            other => {
                let found = other.as_ref().map_or("nothing".to_string(), kind_of);
                self.problem(
                    file,
                    None,
                    Some("features"),
                    InputProblemKind::NotFeatureCollection,
                    format!("expected an array of features, found {found}"),
                );
                None
            }
        }
    }

    /// The features of a collection whose envelope is sound; `id_key` names them in messages.
    /// Streamed geometries move out of `collection` into the features.
    pub(super) fn features<'v>(
        &mut self,
        file: &str,
        collection: &'v mut Collection,
        id_key: &str,
    ) -> Vec<Feature<'v>> {
        self.features_from(file, collection, id_key, 0)
    }

    /// As [`Reader::features`], for a chunk of a file whose first feature has index `first`.
    pub(super) fn features_from<'v>(
        &mut self,
        file: &str,
        collection: &'v mut Collection,
        id_key: &str,
        first: usize,
    ) -> Vec<Feature<'v>> {
        let mut out = Vec::with_capacity(collection.len());
        let items: Box<dyn Iterator<Item = (Item<'v>, Geom<'v>)>> = match collection {
            Collection::Tree(values) => Box::new(values.iter().map(|v| (Item::Tree(v), Geom::Tree(v.get("geometry"))))),
            Collection::Streamed(features) => Box::new(features.iter_mut().map(|f| {
                let geometry = Geom::Streamed(f.geometry.take());
                (Item::Streamed(f), geometry)
            })),
        };
        for (index, (v, geometry)) in (first..).zip(items) {
            let properties = v.properties();
            let own = match properties {
                Some(Ok(props)) => props.get(id_key).filter(|id| !id.is_null()),
                _ => None,
            };
            let id = own
                .or_else(|| if id_key == "id" { v.member("id") } else { None })
                .and_then(|id| match id {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(number_text(n)),
                    _ => None,
                });
            let at = FeatureRef { index, id };
            if v.member("type").and_then(Value::as_str) != Some("Feature") {
                self.problem(
                    file,
                    Some(&at),
                    Some("type"),
                    InputProblemKind::NotFeature,
                    format!("expected a GeoJSON Feature, found {}", v.describe_type()),
                );
                continue;
            }
            let props = match properties {
                None | Some(Err(Value::Null)) => Props::Tree(&NO_PROPERTIES),
                Some(Ok(props)) => props,
                Some(Err(other)) => {
                    self.problem(
                        file,
                        Some(&at),
                        Some("properties"),
                        InputProblemKind::WrongType,
                        format!("expected an object, found {}", kind_of(other)),
                    );
                    continue;
                }
            };
            out.push(Feature {
                at,
                props,
                geometry,
                member_id: v.member("id"),
            });
        }
        out
    }
}

/// One feature of a collection, as the reader that took the file holds it.
#[derive(Clone, Copy)]
enum Item<'v> {
    Tree(&'v Value),
    Streamed(&'v Streamed),
}

impl<'v> Item<'v> {
    /// A member other than `properties`.
    fn member(self, key: &str) -> Option<&'v Value> {
        match self {
            Item::Tree(v) => v.get(key),
            Item::Streamed(f) => f.members.get(key),
        }
    }

    /// `properties` when it is an object, else the value found instead; None when absent.
    fn properties(self) -> Option<Result<Props<'v>, &'v Value>> {
        match self {
            Item::Tree(v) => v.get("properties").map(|p| match p {
                Value::Object(m) => Ok(Props::Tree(m)),
                other => Err(other),
            }),
            Item::Streamed(f) => match &f.properties {
                Some(m) => Some(Ok(Props::Streamed(m))),
                None => f.members.get("properties").map(Err),
            },
        }
    }

    fn describe_type(self) -> String {
        match self.member("type").and_then(Value::as_str) {
            Some(t) => format!("type {t:?}"),
            None => match self {
                Item::Tree(v) => kind_of(v),
                // The streaming reader takes only objects as features.
                Item::Streamed(_) => kind_of(&Value::Object(Default::default())),
            },
        }
    }
}
