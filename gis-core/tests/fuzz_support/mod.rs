//! Structure-aware mutation of JSON documents for the import fuzz targets, with proptest
//! strategies so a failing input shrinks to a few edits; and the time-boxed runner shared by
//! the long runs and the corpus replay.
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Tokens written raw into the text after serialisation: valid JSON syntax (mostly) that a
/// `serde_json::Value` cannot hold, or holds only as something else.
pub const RAW: &[&str] = &[
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "1e-400",
    "-0",
    "-0.0",
    "18446744073709551616",
    "-9223372036854775809",
    "123456789012345678901234567890.5",
    "4294967296",
    "4294967295",
    "\"\\ud800\"",
    "\"\\udc00\\ud800\"",
    "\"\\u0000\"",
    "\"\u{feff}350206001017\"",
    "\"1e400\"",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
];

pub const STRINGS: &[&str] = &[
    "",
    " ",
    "网格",
    "NaN",
    "-1",
    "350206001017",
    "350206001017001",
    "3502060010170010001",
    "Polygon",
    "MultiPolygon",
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "GeometryCollection",
    "Feature",
    "FeatureCollection",
    "basic",
    "exclusive",
    "grid",
    "micro",
    "households",
    "residents",
    "school",
    "hospital",
    "market",
    "clinic",
    "网格长",
    "\u{202e}lrt",
    "a\u{0}b",
    "../../etc/passwd",
    "' OR 1=1 --",
    "#",
    "KL-B0001",
    "KL-B0001#1单元",
];

/// Keys worth setting on any object: every property and member the dataset and layer formats name.
pub const KEYS: &[&str] = &[
    "type",
    "id",
    "code",
    "name",
    "population",
    "households",
    "units",
    "compound",
    "address",
    "floors",
    "kind",
    "level",
    "parent_code",
    "community_code",
    "buildings",
    "coordinates",
    "geometry",
    "geometries",
    "properties",
    "features",
    "count",
    "community",
    "wangge",
    "bounds",
    "min",
    "max",
    "basis",
    "code_scheme",
    "code_book",
    "crs",
    "bbox",
    "grid",
    "role",
    "phone",
    "capacity",
    "exclusive",
    "dormitory",
];

#[derive(Debug, Clone)]
pub enum Token {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'static str),
    LongStr(usize),
    Raw(&'static str),
    EmptyArray,
    EmptyObject,
    /// Nested arrays this deep.
    Deep(usize),
    /// A lon/lat position.
    Pos(f64, f64),
    /// A ring of positions near Kangle.
    Ring(Vec<(f64, f64)>),
}

#[derive(Debug, Clone)]
pub enum Edit {
    /// Node (preorder index, modulo the count) becomes the token.
    Replace(u32, Token),
    /// Node is removed from its parent.
    Delete(u32),
    /// Node is appended again to its parent array (or its parent object under a new key).
    Duplicate(u32),
    /// Object node (index among objects) gets the key set to the token.
    SetKey(u32, &'static str, Token),
    /// Node a becomes a copy of node b: valid pieces in wrong places.
    Transplant(u32, u32),
    /// Array node (index among arrays) keeps its first n items.
    TruncateArray(u32, u8),
    /// Number node (index among numbers) changes by a factor or gets an offset.
    Nudge(u32, f64),
}

#[derive(Debug, Clone)]
pub enum TextEdit {
    /// Cut at this fraction (of 65,536) of the length.
    Truncate(u16),
    Insert(u16, &'static [u8]),
    Remove(u16, u8),
    Byte(u16, u8),
}

pub const PIECES: &[&[u8]] = &[
    b"NaN",
    b"]",
    b"}",
    b"{",
    b"[",
    b",",
    b"\"",
    b"\\",
    b"\0",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\xef\xbb\xbf",
    b"1e999",
    b"null",
    b"-",
];

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => 118.09..118.13f64,
        4 => 24.49..24.52f64,
        1 => -200.0..200.0f64,
        1 => prop_oneof![Just(0.0), Just(-0.0), Just(90.0), Just(-90.0), Just(180.0), Just(-180.0), Just(1e308), Just(-1e308), Just(5e-324), Just(f64::EPSILON)],
    ]
}

pub fn token() -> impl Strategy<Value = Token> {
    prop_oneof![
        1 => Just(Token::Null),
        1 => any::<bool>().prop_map(Token::Bool),
        2 => prop_oneof![any::<i64>(), -3i64..5000, Just(i64::from(u32::MAX)), Just(i64::from(u32::MAX) + 1)].prop_map(Token::Int),
        2 => finite().prop_map(Token::Float),
        3 => prop::sample::select(STRINGS).prop_map(Token::Str),
        1 => prop_oneof![Just(256usize), Just(70_000usize)].prop_map(Token::LongStr),
        3 => prop::sample::select(RAW).prop_map(Token::Raw),
        1 => Just(Token::EmptyArray),
        1 => Just(Token::EmptyObject),
        1 => prop_oneof![1usize..8, Just(127usize), Just(129usize), Just(400usize)].prop_map(Token::Deep),
        2 => (finite(), finite()).prop_map(|(x, y)| Token::Pos(x, y)),
        2 => prop::collection::vec((118.105..118.125f64, 24.500..24.515f64), 0..7).prop_map(Token::Ring),
    ]
}

pub fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<u32>(), token()).prop_map(|(n, t)| Edit::Replace(n, t)),
        2 => any::<u32>().prop_map(Edit::Delete),
        1 => any::<u32>().prop_map(Edit::Duplicate),
        4 => (any::<u32>(), prop::sample::select(KEYS), token()).prop_map(|(n, k, t)| Edit::SetKey(n, k, t)),
        2 => (any::<u32>(), any::<u32>()).prop_map(|(a, b)| Edit::Transplant(a, b)),
        1 => (any::<u32>(), 0u8..4).prop_map(|(n, k)| Edit::TruncateArray(n, k)),
        2 => (any::<u32>(), prop_oneof![Just(-1.0), Just(0.0), Just(1e-9), Just(1e6), Just(0.5), -0.01..0.01f64]).prop_map(|(n, f)| Edit::Nudge(n, f)),
    ]
}

pub fn text_edit() -> impl Strategy<Value = TextEdit> {
    prop_oneof![
        any::<u16>().prop_map(TextEdit::Truncate),
        (any::<u16>(), prop::sample::select(PIECES)).prop_map(|(p, s)| TextEdit::Insert(p, s)),
        (any::<u16>(), any::<u8>()).prop_map(|(p, n)| TextEdit::Remove(p, n)),
        (any::<u16>(), any::<u8>()).prop_map(|(p, b)| TextEdit::Byte(p, b)),
    ]
}

/// Raw tokens go in as marker strings, replaced after serialisation.
fn marker(i: usize) -> String {
    format!("\u{1}RAW{i}\u{1}")
}

fn value(t: &Token, raws: &mut Vec<&'static str>) -> Value {
    match t {
        Token::Null => Value::Null,
        Token::Bool(b) => json!(b),
        Token::Int(i) => json!(i),
        Token::Float(f) => json!(f),
        Token::Str(s) => json!(s),
        Token::LongStr(n) => Value::String("长".repeat(*n)),
        Token::Raw(r) => {
            raws.push(r);
            Value::String(marker(raws.len() - 1))
        }
        Token::EmptyArray => json!([]),
        Token::EmptyObject => json!({}),
        Token::Deep(n) => (0..*n).fold(json!([]), |v, _| json!([v])),
        Token::Pos(x, y) => json!([x, y]),
        Token::Ring(r) => Value::Array(r.iter().map(|(x, y)| json!([x, y])).collect()),
    }
}

/// JSON pointers of every node, in preorder.
fn pointers(v: &Value) -> Vec<String> {
    fn walk(v: &Value, at: &mut String, out: &mut Vec<String>) {
        out.push(at.clone());
        let len = at.len();
        match v {
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    at.push('/');
                    at.push_str(&i.to_string());
                    walk(x, at, out);
                    at.truncate(len);
                }
            }
            Value::Object(o) => {
                for (k, x) in o {
                    at.push('/');
                    at.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    walk(x, at, out);
                    at.truncate(len);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut String::new(), &mut out);
    out
}

fn pick(v: &Value, n: u32, keep: impl Fn(&Value) -> bool) -> Option<String> {
    let all: Vec<String> = pointers(v)
        .into_iter()
        .filter(|p| v.pointer(p).is_some_and(&keep))
        .collect();
    (!all.is_empty()).then(|| all[n as usize % all.len()].clone())
}

fn parent(p: &str) -> Option<(&str, String)> {
    let (head, last) = p.rsplit_once('/')?;
    Some((head, last.replace("~1", "/").replace("~0", "~")))
}

fn apply(doc: &mut Value, e: &Edit, raws: &mut Vec<&'static str>) {
    match e {
        Edit::Replace(n, t) => {
            if let Some(p) = pick(doc, *n, |_| true) {
                let new = value(t, raws);
                *doc.pointer_mut(&p).expect("picked") = new;
            }
        }
        Edit::Delete(n) => {
            let Some(p) = pick(doc, *n, |_| true) else { return };
            let Some((head, last)) = parent(&p) else { return };
            match doc.pointer_mut(head) {
                Some(Value::Array(a)) => {
                    let i: usize = last.parse().expect("array index");
                    a.remove(i);
                }
                Some(Value::Object(o)) => {
                    o.remove(&last);
                }
                _ => {}
            }
        }
        Edit::Duplicate(n) => {
            let Some(p) = pick(doc, *n, |_| true) else { return };
            let Some((head, last)) = parent(&p) else { return };
            let copy = doc.pointer(&p).cloned().expect("picked");
            match doc.pointer_mut(head) {
                Some(Value::Array(a)) => a.push(copy),
                Some(Value::Object(o)) => {
                    o.insert(format!("{last}_"), copy);
                }
                _ => {}
            }
        }
        Edit::SetKey(n, k, t) => {
            if let Some(p) = pick(doc, *n, Value::is_object) {
                let new = value(t, raws);
                doc.pointer_mut(&p)
                    .and_then(Value::as_object_mut)
                    .expect("picked")
                    .insert((*k).into(), new);
            }
        }
        Edit::Transplant(a, b) => {
            let (Some(pa), Some(pb)) = (pick(doc, *a, |_| true), pick(doc, *b, |_| true)) else {
                return;
            };
            let copy = doc.pointer(&pb).cloned().expect("picked");
            *doc.pointer_mut(&pa).expect("picked") = copy;
        }
        Edit::TruncateArray(n, k) => {
            if let Some(p) = pick(doc, *n, Value::is_array) {
                doc.pointer_mut(&p)
                    .and_then(Value::as_array_mut)
                    .expect("picked")
                    .truncate(usize::from(*k));
            }
        }
        Edit::Nudge(n, f) => {
            if let Some(p) = pick(doc, *n, Value::is_number) {
                let node = doc.pointer_mut(&p).expect("picked");
                let x = node.as_f64().unwrap_or(0.0);
                let y = if f.abs() >= 0.5 { x * f } else { x + f };
                *node = json!(y);
            }
        }
    }
}

/// The document after the edits, serialised, raw tokens put in, then the text edits made.
pub fn mutate(doc: &Value, edits: &[Edit], text: &[TextEdit]) -> Vec<u8> {
    let mut doc = doc.clone();
    let mut raws = Vec::new();
    for e in edits {
        apply(&mut doc, e, &mut raws);
    }
    let mut s = serde_json::to_string(&doc).expect("a Value serialises");
    for (i, r) in raws.iter().enumerate() {
        // The marker serialises with its control characters escaped.
        let quoted = serde_json::to_string(&marker(i)).expect("a string serialises");
        s = s.replace(&quoted, r);
    }
    let mut bytes = s.into_bytes();
    for t in text {
        let at = |f: u16, len: usize| (usize::from(f) * len) / 65_536;
        match *t {
            TextEdit::Truncate(f) => bytes.truncate(at(f, bytes.len())),
            TextEdit::Insert(f, piece) => {
                let i = at(f, bytes.len() + 1);
                bytes.splice(i..i, piece.iter().copied());
            }
            TextEdit::Remove(f, n) => {
                let i = at(f, bytes.len());
                let j = (i + usize::from(n)).min(bytes.len());
                bytes.drain(i..j);
            }
            TextEdit::Byte(f, b) => {
                let i = at(f, bytes.len());
                if let Some(x) = bytes.get_mut(i) {
                    *x = b;
                }
            }
        }
    }
    bytes
}

/// Runs `check` on `input` in its own thread, failing if it panics and aborting (after saying
/// what hung, and saving it where `save` puts it) if it takes longer than `limit`: a hang would
/// otherwise stall the run with nothing to show for it.
pub fn bounded<T: Clone + Send + 'static, R: Send + 'static>(
    input: T,
    limit: Duration,
    describe: impl FnOnce(&T) -> String,
    check: fn(&T) -> R,
) -> Result<R, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let copy = input.clone();
    let handle = std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(move || {
            let r = check(&copy);
            let _ = tx.send(());
            r
        })
        .expect("spawn a checker thread");
    match rx.recv_timeout(limit) {
        Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => handle.join().map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into())
        }),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            eprintln!("HANG: no answer within {limit:?} for {}", describe(&input));
            std::process::abort();
        }
    }
}

/// How long a long run goes on: `FUZZ_SECONDS` (default 60), and how many cases a batch holds.
pub fn budget() -> Duration {
    Duration::from_secs(
        std::env::var("FUZZ_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(60),
    )
}

/// Runs `strategy` through `test` until the budget is spent, in batches of 64 cases with
/// shrinking on, each batch a fresh runner (a runner that has passed its cases runs no more) with
/// a fresh random seed; returns the number of cases run.
pub fn run_for<S: Strategy>(
    strategy: impl Fn() -> S + Sync,
    test: impl Fn(S::Value) -> Result<(), TestCaseError> + Sync,
) -> u64
where
    S::Value: std::fmt::Debug,
{
    const BATCH: u32 = 64;
    let started = Instant::now();
    let deadline = started + budget();
    let mut cases = 0u64;
    let mut last_report = started;
    while Instant::now() < deadline {
        let mut runner = TestRunner::new(Config {
            cases: BATCH,
            failure_persistence: None,
            max_shrink_iters: 2000,
            ..Config::default()
        });
        // Deeply nested values are built, serialised and dropped recursively: a roomy stack.
        let outcome = std::thread::scope(|s| {
            std::thread::Builder::new()
                .stack_size(256 << 20)
                .spawn_scoped(s, || runner.run(&strategy(), &test).map_err(|e| e.to_string()))
                .expect("spawn")
                .join()
        });
        if let Err(e) = outcome.expect("the runner does not panic") {
            panic!("after {cases} cases: {e}");
        }
        cases += u64::from(BATCH);
        if last_report.elapsed() > Duration::from_secs(30) {
            last_report = Instant::now();
            eprintln!("{cases} cases, {:.0} s", started.elapsed().as_secs_f64());
        }
    }
    cases
}
