//! Reading a FeatureCollection feature by feature, without a tree of the whole file: each
//! feature's members other than its geometry, and its properties, become short lists of
//! [`Members`] (the property checks read those), and its geometry's coordinates go straight into
//! `geo` coordinates.
//!
//! This reader only takes the ordinary shape of a file: an object of type FeatureCollection whose
//! `features` are objects, each geometry null or an object whose coordinates nest as its type
//! says, every position two or three numbers. On anything else — and on invalid JSON, `NaN`, a
//! byte it cannot read — it declines, and the file is read as a whole tree as before, which words
//! every problem. Both readers use the same parser and keep the same member when a key repeats,
//! so where this one accepts a file the tree reader would read the same values from it (the fuzz
//! tests compare the two on every input).

use super::geometry::Shape;
use geo::Coord;
use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::fmt;

/// One feature: its members, with `properties` (when an object) and `geometry` read apart.
pub(crate) struct Streamed {
    /// Its members other than `geometry`, and other than `properties` when that is an object.
    pub members: Members,
    /// `properties` when it is an object; any other value is among `members`.
    pub properties: Option<Members>,
    /// None when the member is absent or null.
    pub geometry: Option<Geometry>,
}

impl Streamed {
    /// The feature without its geometry as a `Value` object would hold it, and the geometry.
    pub fn into_parts(self) -> (Value, Option<Geometry>) {
        let mut members = self.members.into_map();
        if let Some(properties) = self.properties {
            members.insert("properties".to_string(), Value::Object(properties.into_map()));
        }
        (Value::Object(members), self.geometry)
    }
}

/// An object's members in the order read, looked up by key; a key read again keeps its last
/// value, as in a `Value` object. A feature's few members and properties are each looked up a
/// few times: a `Value` map of each (its nodes, and a `String` per key) was most of what reading
/// a city's buildings allocated and freed.
pub(crate) struct Members {
    list: Vec<(Key, Value)>,
    /// `units` when it is an array (of a building's entrances, each an object): its items kept
    /// as members too. Any other `units` value is in `list`.
    units: Option<Vec<Result<Members, Value>>>,
}

/// A member's key: one the readers look up is borrowed from [`KNOWN`], any other is owned.
type Key = Cow<'static, str>;

/// The keys the readers look up in features, properties and geometries.
const KNOWN: [&str; 20] = [
    "type",
    "properties",
    "geometry",
    "coordinates",
    "id",
    "population",
    "households",
    "address",
    "compound",
    "floors",
    "units",
    "name",
    "code",
    "count",
    "kind",
    "phone",
    "hours",
    "class",
    "barrier",
    "level",
];

impl Members {
    fn with_capacity(n: usize) -> Self {
        Members {
            list: Vec::with_capacity(n),
            units: None,
        }
    }

    /// A member's value; `units` is here only when it is not an array (see [`Members::units`]).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.list.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The items of `units` when it is an array: each object as members, anything else as read.
    pub fn units(&self) -> Option<&[Result<Members, Value>]> {
        self.units.as_deref()
    }

    fn push(&mut self, key: Key, value: Value) {
        if key == "units" {
            self.units = None;
        }
        self.list.push((key, value));
    }

    /// The members as a `Value` object would hold them.
    pub fn into_map(self) -> Map<String, Value> {
        // In the order read: a later member replaces an earlier one of the same key.
        let mut map: Map<String, Value> = self.list.into_iter().map(|(k, v)| (k.into_owned(), v)).collect();
        if let Some(units) = self.units {
            let items = units
                .into_iter()
                .map(|u| u.map_or_else(|v| v, |m| Value::Object(m.into_map())))
                .collect();
            map.insert("units".to_string(), Value::Array(items));
        }
        map
    }
}

/// A feature's geometry, as far as the file's [`Shape`] needs it.
pub(crate) enum Geometry {
    /// `type` absent, or not a string.
    Untyped,
    /// A type this file does not take.
    Other(String),
    /// A type this file takes, without `coordinates`.
    NoCoordinates,
    Shaped(Shaped),
}

/// Coordinates nested as their geometry type says; not yet checked for range or shape.
pub(crate) enum Shaped {
    Point(Coord<f64>),
    LineString(Vec<Coord<f64>>),
    MultiLineString(Vec<Vec<Coord<f64>>>),
    Polygon(Vec<Vec<Coord<f64>>>),
    MultiPolygon(Vec<Vec<Vec<Coord<f64>>>>),
}

impl Shaped {
    pub fn kind(&self) -> &'static str {
        match self {
            Shaped::Point(_) => "Point",
            Shaped::LineString(_) => "LineString",
            Shaped::MultiLineString(_) => "MultiLineString",
            Shaped::Polygon(_) => "Polygon",
            Shaped::MultiPolygon(_) => "MultiPolygon",
        }
    }
}

/// The features of a FeatureCollection text (a byte-order mark is skipped), or None when this
/// reader declines the file (see the module's note).
pub(crate) fn features(text: &str, shape: Shape) -> Option<Vec<Streamed>> {
    let mut all = Vec::new();
    features_in_chunks(text, shape, usize::MAX, &mut |chunk| {
        all.extend(chunk);
        true
    })?;
    Some(all)
}

/// As [`features`], handing the features to `sink` in chunks of `chunk` as they are read, so
/// that a big file's features are never all held at once (their members as `Value`s are most of
/// a city's reading memory). The number of features, or None when the file is declined — or
/// `sink` returns false — perhaps after some chunks were handed on: the caller discards them.
pub(crate) fn features_in_chunks(
    text: &str,
    shape: Shape,
    chunk: usize,
    sink: &mut dyn FnMut(Vec<Streamed>) -> bool,
) -> Option<usize> {
    read(
        text,
        Collection {
            shape,
            chunk,
            sink,
            members: None,
        },
    )
}

/// As [`features`], with the collection's other members (all but `features`, e.g. a layer's
/// metadata) as a `Value` object would hold them.
pub(crate) fn collection(text: &str, shape: Shape) -> Option<(Map<String, Value>, Vec<Streamed>)> {
    let (mut all, mut members) = (Vec::new(), Map::new());
    let sink = &mut |chunk| {
        all.extend(chunk);
        true
    };
    read(
        text,
        Collection {
            shape,
            chunk: usize::MAX,
            sink,
            members: Some(&mut members),
        },
    )?;
    Some((members, all))
}

fn read(text: &str, collection: Collection) -> Option<usize> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // A root that is not an object is a problem the tree reader words.
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let count = collection.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(count)
}

/// Declines the file: the tree reader takes over (the message is never shown).
fn decline<E: de::Error>() -> E {
    E::custom("not the ordinary shape; read as a tree")
}

struct Collection<'s> {
    shape: Shape,
    chunk: usize,
    sink: &'s mut dyn FnMut(Vec<Streamed>) -> bool,
    /// Where the members other than `features` go, when the caller wants them.
    members: Option<&'s mut Map<String, Value>>,
}

impl<'de> DeserializeSeed<'de> for Collection<'_> {
    type Value = usize;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Collection<'_> {
    type Value = usize;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a FeatureCollection")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut kind, mut count) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            // A repeated key keeps its last value, as in a `Value` object.
            match key.as_str() {
                // Features already handed on cannot be taken back: a second `features` member
                // is the tree reader's to read (it keeps the last).
                "features" if count.is_some() => return Err(decline()),
                "features" => {
                    count = Some(map.next_value_seed(Features {
                        shape: self.shape,
                        chunk: self.chunk,
                        sink: &mut *self.sink,
                    })?)
                }
                // Read as a value, not skipped: skipping would let through numbers `Value` rejects.
                _ => {
                    let value = map.next_value::<Value>()?;
                    if key == "type" {
                        kind = Some(value.clone());
                    }
                    if let Some(members) = self.members.as_mut() {
                        members.insert(key, value);
                    }
                }
            }
        }
        match (kind, count) {
            (Some(Value::String(k)), Some(count)) if k == "FeatureCollection" => Ok(count),
            _ => Err(decline()),
        }
    }
}

struct Features<'s> {
    shape: Shape,
    chunk: usize,
    sink: &'s mut dyn FnMut(Vec<Streamed>) -> bool,
}

impl<'de> DeserializeSeed<'de> for Features<'_> {
    type Value = usize;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Features<'_> {
    type Value = usize;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of features")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (mut out, mut count) = (Vec::new(), 0);
        while let Some(f) = seq.next_element_seed(Feature { shape: self.shape })? {
            out.push(f);
            count += 1;
            if out.len() >= self.chunk && !(self.sink)(std::mem::take(&mut out)) {
                return Err(decline());
            }
        }
        if !out.is_empty() && !(self.sink)(out) {
            return Err(decline());
        }
        Ok(count)
    }
}

struct Feature {
    shape: Shape,
}

impl<'de> DeserializeSeed<'de> for Feature {
    type Value = Streamed;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Feature {
    type Value = Streamed;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a feature object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Members::with_capacity(3);
        let (mut properties, mut geometry) = (None, None);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match &*key {
                "geometry" => geometry = map.next_value_seed(GeometrySeed { shape: self.shape })?,
                // The last `properties` counts, object or not.
                "properties" => match map.next_value_seed(PropertiesSeed)? {
                    Ok(object) => {
                        members.list.retain(|(k, _)| k != "properties");
                        properties = Some(object);
                    }
                    Err(other) => {
                        properties = None;
                        members.push(key, other);
                    }
                },
                _ => members.push(key, map.next_value::<Value>()?),
            }
        }
        Ok(Streamed {
            members,
            properties,
            geometry,
        })
    }
}

/// For a visitor whose value is `Result<_, Value>`: a scalar (null, a boolean, a number, a
/// string) read into `Err`, as `Value`'s own visitor reads it.
macro_rules! scalars_as_values {
    () => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Err(Value::Null))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Err(Value::Bool(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Err(Value::Number(v.into())))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Err(Value::Number(v.into())))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Err(Number::from_f64(v).map_or(Value::Null, Value::Number)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Err(Value::String(v.to_string())))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Err(Value::String(v)))
        }
    };
}

/// Reads `units`: an array into its items, each object as [`Members`] and anything else as a
/// `Value`; anything but an array into the `Value` the tree reader would hold.
struct UnitsSeed;

impl<'de> DeserializeSeed<'de> for UnitsSeed {
    type Value = Result<Vec<Result<Members, Value>>, Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UnitsSeed {
    type Value = Result<Vec<Result<Members, Value>>, Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("units")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        while let Some(item) = seq.next_element_seed(PropertiesSeed)? {
            items.push(item);
        }
        Ok(Ok(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(Err)
    }
    scalars_as_values!();
}

/// Reads a key into a [`Key`].
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(known(v).map_or_else(|| Cow::Owned(v.to_string()), Cow::Borrowed))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Key, E> {
        Ok(known(&v).map_or(Cow::Owned(v), Cow::Borrowed))
    }
}

/// The [`KNOWN`] key equal to `key`, if any.
fn known(key: &str) -> Option<&'static str> {
    KNOWN.iter().find(|k| **k == key).copied()
}

/// Reads `properties`: an object into [`Members`], anything else into the `Value` the tree
/// reader would hold (for its problem to be worded).
struct PropertiesSeed;

impl<'de> DeserializeSeed<'de> for PropertiesSeed {
    type Value = Result<Members, Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PropertiesSeed {
    type Value = Result<Members, Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("properties")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Members::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if key == "units" {
                match map.next_value_seed(UnitsSeed)? {
                    Ok(items) => {
                        members.list.retain(|(k, _)| k != "units");
                        members.units = Some(items);
                    }
                    Err(other) => members.push(key, other),
                }
            } else {
                members.push(key, map.next_value::<Value>()?);
            }
        }
        Ok(Ok(members))
    }
    scalars_as_values!();
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(SeqAccessDeserializer::new(seq)).map(Err)
    }
}

struct GeometrySeed {
    shape: Shape,
}

impl<'de> DeserializeSeed<'de> for GeometrySeed {
    type Value = Option<Geometry>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for GeometrySeed {
    type Value = Option<Geometry>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a geometry object or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut kind, mut coordinates) = (None, None);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match &*key {
                "type" => kind = Some(map.next_value::<Value>()?),
                "coordinates" => coordinates = Some(map.next_value_seed(Nested)?),
                _ => drop(map.next_value::<Value>()?),
            }
        }
        let Some(Value::String(kind)) = kind else {
            return Ok(Some(Geometry::Untyped));
        };
        if !self.shape.allows(&kind) {
            return Ok(Some(Geometry::Other(kind)));
        }
        let Some(coordinates) = coordinates else {
            return Ok(Some(Geometry::NoCoordinates));
        };
        // Nested otherwise than the type says: the tree reader names the position at fault.
        let shaped = match (kind.as_str(), coordinates) {
            ("Point", Coords::Position(c)) => Shaped::Point(c),
            ("LineString", Coords::Line(l)) => Shaped::LineString(l),
            ("MultiLineString", Coords::Lines(l)) => Shaped::MultiLineString(l),
            ("Polygon", Coords::Lines(r)) => Shaped::Polygon(r),
            ("MultiPolygon", Coords::Polygons(p)) => Shaped::MultiPolygon(p),
            _ => return Err(decline()),
        };
        Ok(Some(Geometry::Shaped(shaped)))
    }
}

/// Coordinates of any depth: the depth is known from the first element of each array.
enum Coords {
    Position(Coord<f64>),
    Line(Vec<Coord<f64>>),
    Lines(Vec<Vec<Coord<f64>>>),
    Polygons(Vec<Vec<Vec<Coord<f64>>>>),
}

/// Reads [`Coords`], declining an empty array (whose depth is unknown) and anything not a
/// number or an array.
struct Nested;

impl<'de> DeserializeSeed<'de> for Nested {
    type Value = Coords;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Nested {
    type Value = Coords;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("coordinates")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        match seq.next_element_seed(First)?.ok_or_else(decline)? {
            Item::Number(x) => {
                let y = seq.next_element::<f64>()?.ok_or_else(decline)?;
                Ok(Coords::Position(position_end(x, y, &mut seq)?))
            }
            Item::Nested(Coords::Position(c)) => Ok(Coords::Line(rest(c, &mut seq, || Position)?)),
            Item::Nested(Coords::Line(l)) => Ok(Coords::Lines(rest(l, &mut seq, || Many(Position))?)),
            Item::Nested(Coords::Lines(r)) => Ok(Coords::Polygons(rest(r, &mut seq, || Many(Many(Position)))?)),
            Item::Nested(Coords::Polygons(_)) => Err(decline()),
        }
    }
}

/// The first element and the ones after it, each read by a fresh `seed()`.
fn rest<'de, A, S, T>(first: T, seq: &mut A, seed: impl Fn() -> S) -> Result<Vec<T>, A::Error>
where
    A: SeqAccess<'de>,
    S: DeserializeSeed<'de, Value = T>,
{
    let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(4) + 1);
    out.push(first);
    while let Some(item) = seq.next_element_seed(seed())? {
        out.push(item);
    }
    Ok(out)
}

enum Item {
    Number(f64),
    Nested(Coords),
}

/// An array's first element: a number (the array is a position) or an array (one level up).
struct First;

impl<'de> DeserializeSeed<'de> for First {
    type Value = Item;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for First {
    type Value = Item;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number or an array")
    }
    // The same conversions as `Value::as_f64`.
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Item, E> {
        Ok(Item::Number(v as f64))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Item, E> {
        Ok(Item::Number(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Item, E> {
        Ok(Item::Number(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Item, A::Error> {
        Nested.visit_seq(seq).map(Item::Nested)
    }
}

/// Exactly one position: two numbers, or three (the altitude is ignored).
#[derive(Clone, Copy)]
struct Position;

impl<'de> DeserializeSeed<'de> for Position {
    type Value = Coord<f64>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Position {
    type Value = Coord<f64>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a position")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let x = seq.next_element::<f64>()?.ok_or_else(decline)?;
        position_end(x, seq.next_element::<f64>()?.ok_or_else(decline)?, &mut seq)
    }
}

/// A position's `y` and its end: an altitude is allowed and ignored, a fourth number is not.
fn position_end<'de, A: SeqAccess<'de>>(x: f64, y: f64, seq: &mut A) -> Result<Coord<f64>, A::Error> {
    if seq.next_element::<f64>()?.is_some() && seq.next_element::<f64>()?.is_some() {
        return Err(decline());
    }
    Ok(Coord { x, y })
}

/// An array of what `S` reads; it may be empty, since its depth is known from the array around it.
#[derive(Clone, Copy)]
struct Many<S>(S);

impl<'de, S> DeserializeSeed<'de> for Many<S>
where
    S: DeserializeSeed<'de> + Copy,
{
    type Value = Vec<S::Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, S> Visitor<'de> for Many<S>
where
    S: DeserializeSeed<'de> + Copy,
{
    type Value = Vec<S::Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        while let Some(item) = seq.next_element_seed(self.0)? {
            out.push(item);
        }
        Ok(out)
    }
}
