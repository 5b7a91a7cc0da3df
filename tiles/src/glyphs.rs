//! MapLibre glyph PBFs: `/fonts/{fontstack}/{range}.pbf`.
//!
//! A style's `glyphs` URL asks for 256 code points at a time (`0-255`, `256-511`, …) of a font
//! stack. The answer is the style spec's `glyphs.proto` message:
//!
//! ```text
//! glyphs { repeated fontstack stacks = 1; }
//! fontstack { string name = 1; string range = 2; repeated glyph glyphs = 3; }
//! glyph { uint32 id = 1; bytes bitmap = 2; uint32 width = 3; uint32 height = 4;
//!         sint32 left = 5; sint32 top = 6; uint32 advance = 7; }
//! ```
//!
//! Each bitmap is a signed distance field as mapbox's sdf-glyph-foundry (node-fontnik) and
//! TinySDF make them, which is what MapLibre's text shader expects: the font at 24 px per em,
//! a 3 px buffer on every side of the glyph's (rounded) ink box, distances in pixels from each
//! pixel centre to the outline, capped at a radius of 8 px, and
//! `value = round(255 − 255·(d/8 + 0.25))` clamped to 0–255 with `d` negative inside; the
//! outline itself is at 191 (0.75 × 255, the shader's edge).
//!
//! Metrics are integers in 24-px units:
//! - `width`, `height`: the ink box, rounded to whole pixels; the bitmap is
//!   `(width + 6) × (height + 6)` bytes, rows top to bottom (MapLibre rejects any other size);
//! - `left`: the ink box's left edge from the pen position;
//! - `top`: the ink box's top edge from the baseline *minus the font's ascender* (rounded to
//!   whole pixels as FreeType reports it), exactly as fontnik writes it. MapLibre lays a line
//!   out from `y = −17` (`SHAPING_DEFAULT_OFFSET`, y down) and puts a glyph's bitmap top at
//!   `y − top − 3`, so the baseline lands `ascender − 17` px below the line's origin: with the
//!   ascender subtracted, text centres on its anchor; writing the plain baseline-relative top
//!   (a common bug) floats every label about one line height too high;
//! - `advance`: the horizontal advance, rounded.
//!
//! The distance field is computed exactly (to within a 0.01 px flattening of the curves) from
//! ab_glyph's outline rather than from a rasterised bitmap, and the inside test uses the
//! non-zero winding rule of TrueType, so overlapping contours are solid. Output is a pure
//! function of the font and the range: the same bytes every time, fit for an HTTP cache.

use ab_glyph::{Font, FontRef, GlyphId, OutlineCurve};

/// Pixels per em the glyphs are rendered at (fontnik's and MapLibre's `ONE_EM`).
pub const FONT_SIZE: f64 = 24.0;
/// Blank pixels around each glyph's ink box in the bitmap (MapLibre's `GLYPH_PBF_BORDER`).
pub const BUFFER: u32 = 3;
/// Distances are encoded up to this many pixels from the outline.
pub const RADIUS: f64 = 8.0;
/// The share of the 0–255 range given to the inside of the glyph.
pub const CUTOFF: f64 = 0.25;
/// Code points in one range.
pub const RANGE_LEN: u32 = 256;

/// Curves are flattened into segments at most this far (px) from the true curve.
const FLATNESS: f64 = 0.01;

static DEJAVU_SANS: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

/// The font stacks served, by the names a style uses in `text-font`.
const FONTS: &[(&str, &[u8])] = &[
    ("DejaVu Sans Book", DEJAVU_SANS),
    ("DejaVu Sans Bold", DEJAVU_SANS_BOLD),
];
const FONTSTACKS: &[&str] = &["DejaVu Sans Book", "DejaVu Sans Bold"];

/// The names of the fonts [`glyphs`] serves, to use in a style's `text-font`.
pub fn fontstacks() -> &'static [&'static str] {
    FONTSTACKS
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlyphError {
    #[error(
        "bad glyph range {0:?}: expected \"START-END\" with START a multiple of 256 and \
         END = START + 255 ≤ 65535"
    )]
    BadRange(String),
    #[error("no font of the stack {stack:?} is served (known: {known})", known = FONTSTACKS.join(", "))]
    UnknownFontstack { stack: String },
    #[error("the embedded font {0:?} could not be read")]
    Font(&'static str),
}

/// The PBF for one range of one font stack, e.g. `glyphs("DejaVu Sans Book", "0-255")`.
///
/// `fontstack` is the decoded `{fontstack}` of the URL: one name or a comma-separated stack,
/// of which the first name served here is used (a stack such as
/// `"Noto Sans Regular,DejaVu Sans Book"` falls back to DejaVu). Code points the font lacks
/// are left out; a range the font has nothing in gives a valid, empty font stack.
pub fn glyphs(fontstack: &str, range: &str) -> Result<Vec<u8>, GlyphError> {
    let start = parse_range(range)?;
    let (name, data) = fontstack
        .split(',')
        .map(str::trim)
        .find_map(|want| FONTS.iter().find(|(name, _)| *name == want))
        .ok_or_else(|| GlyphError::UnknownFontstack {
            stack: fontstack.to_owned(),
        })?;
    let font = FontRef::try_from_slice(data).map_err(|_| GlyphError::Font(name))?;
    Ok(glyph_range(&font, name, start))
}

/// Whether the served font stack has a glyph for `ch` (a label's character the style asks the
/// server for; Chinese comes from the browser's fonts, see [`crate::labels::is_cjk`]).
pub fn covers(fontstack: &str, ch: char) -> bool {
    FONTS
        .iter()
        .find(|(name, _)| *name == fontstack)
        .and_then(|(_, data)| FontRef::try_from_slice(data).ok())
        .is_some_and(|font| font.glyph_id(ch).0 != 0)
}

/// `"{start}-{start+255}"` to `start`.
fn parse_range(range: &str) -> Result<u32, GlyphError> {
    let bad = || GlyphError::BadRange(range.to_owned());
    let (a, b) = range.split_once('-').ok_or_else(bad)?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 5 && s.bytes().all(|c| c.is_ascii_digit());
    if !digits(a) || !digits(b) {
        return Err(bad());
    }
    let start: u32 = a.parse().map_err(|_| bad())?;
    let end: u32 = b.parse().map_err(|_| bad())?;
    if !start.is_multiple_of(RANGE_LEN) || end != start + RANGE_LEN - 1 || end > 0xFFFF {
        return Err(bad());
    }
    Ok(start)
}

/// The `glyphs` message for code points `start..=start + 255` of `font`, its one font stack
/// named `fontstack_name`.
pub fn glyph_range(font: &FontRef, fontstack_name: &str, start: u32) -> Vec<u8> {
    let end = start.saturating_add(RANGE_LEN - 1);
    let mut stack = Vec::new();
    pb::bytes(&mut stack, 1, fontstack_name.as_bytes());
    pb::bytes(&mut stack, 2, format!("{start}-{end}").as_bytes());
    let mut msg = Vec::new();
    for ch in (start..=end).filter_map(char::from_u32) {
        let id = font.glyph_id(ch);
        if id.0 == 0 {
            continue; // .notdef: the font has no glyph for it
        }
        let g = SdfGlyph::render(font, id);
        msg.clear();
        pb::uint(&mut msg, 1, u32::from(ch));
        if !g.bitmap.is_empty() {
            pb::bytes(&mut msg, 2, &g.bitmap);
        }
        pb::uint(&mut msg, 3, g.width);
        pb::uint(&mut msg, 4, g.height);
        pb::sint(&mut msg, 5, g.left);
        pb::sint(&mut msg, 6, g.top);
        pb::uint(&mut msg, 7, g.advance);
        pb::bytes(&mut stack, 3, &msg);
    }
    let mut out = Vec::with_capacity(stack.len() + 8);
    pb::bytes(&mut out, 1, &stack);
    out
}

/// One glyph's distance field and metrics, as they go into the PBF.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SdfGlyph {
    width: u32,
    height: u32,
    left: i32,
    top: i32,
    advance: u32,
    /// `(width + 2·BUFFER) × (height + 2·BUFFER)`, rows top to bottom; empty for a glyph
    /// without ink (a space).
    bitmap: Vec<u8>,
}

/// A directed outline segment in pixels, y up.
#[derive(Clone, Copy)]
struct Seg {
    a: (f64, f64),
    b: (f64, f64),
}

impl SdfGlyph {
    fn render(font: &FontRef, id: GlyphId) -> Self {
        let upm = f64::from(font.units_per_em().unwrap_or(1000.0));
        let scale = FONT_SIZE / upm;
        // FreeType's size metrics round the ascender to whole pixels (TrueType fonts with
        // integer ppem, as DejaVu's head flags ask); fontnik then subtracts it from `top`.
        let ascender = (f64::from(font.ascent_unscaled()) * scale).round() as i32;
        let advance = (f64::from(font.h_advance_unscaled(id)) * scale).round().max(0.0) as u32;
        let empty = Self {
            width: 0,
            height: 0,
            left: 0,
            top: -ascender,
            advance,
            bitmap: Vec::new(),
        };
        let Some(outline) = font.outline(id) else {
            return empty;
        };
        let segs = flatten(&outline.curves, scale);
        if segs.is_empty() {
            return empty;
        }
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for s in &segs {
            for p in [s.a, s.b] {
                x0 = x0.min(p.0);
                y0 = y0.min(p.1);
                x1 = x1.max(p.0);
                y1 = y1.max(p.1);
            }
        }
        // The ink box, rounded to whole pixels as sdf-glyph-foundry does.
        let (x0, y0, x1, y1) = (x0.round(), y0.round(), x1.round(), y1.round());
        if x1 <= x0 || y1 <= y0 {
            return empty;
        }
        let width = (x1 - x0) as u32;
        let height = (y1 - y0) as u32;
        let b = f64::from(BUFFER);
        let w = (width + 2 * BUFFER) as usize;
        let h = (height + 2 * BUFFER) as usize;
        let mut bitmap = vec![0u8; w * h];
        let mut near: Vec<&Seg> = Vec::with_capacity(segs.len());
        let mut crossings: Vec<(f64, i32)> = Vec::new();
        for row in 0..h {
            // The centre of this row of pixels, y up: row 0 is the top of the buffered box.
            let y = y1 + b - row as f64 - 0.5;
            near.clear();
            near.extend(
                segs.iter()
                    .filter(|s| s.a.1.min(s.b.1) <= y + RADIUS && s.a.1.max(s.b.1) >= y - RADIUS),
            );
            // Where a ray along this row crosses the outline, and which way (non-zero rule).
            crossings.clear();
            for s in &near {
                if (s.a.1 > y) != (s.b.1 > y) {
                    let t = (y - s.a.1) / (s.b.1 - s.a.1);
                    let x = s.a.0 + t * (s.b.0 - s.a.0);
                    crossings.push((x, if s.b.1 > s.a.1 { 1 } else { -1 }));
                }
            }
            for col in 0..w {
                let x = x0 - b + col as f64 + 0.5;
                let winding: i32 = crossings.iter().filter(|(cx, _)| *cx > x).map(|(_, dir)| dir).sum();
                let mut d2 = RADIUS * RADIUS;
                for s in &near {
                    d2 = d2.min(dist2_to_segment((x, y), s));
                }
                let d = if winding != 0 { -d2.sqrt() } else { d2.sqrt() };
                bitmap[row * w + col] = sdf_value(d);
            }
        }
        Self {
            width,
            height,
            left: x0 as i32,
            top: y1 as i32 - ascender,
            advance,
            bitmap,
        }
    }
}

/// A signed distance (px, negative inside) as a byte: TinySDF's `255 − 255·(d/r + cutoff)`.
fn sdf_value(d: f64) -> u8 {
    (255.0 - 255.0 * (d / RADIUS + CUTOFF)).round().clamp(0.0, 255.0) as u8
}

fn dist2_to_segment(p: (f64, f64), s: &Seg) -> f64 {
    let (dx, dy) = (s.b.0 - s.a.0, s.b.1 - s.a.1);
    let l2 = dx * dx + dy * dy;
    let t = if l2 == 0.0 {
        0.0
    } else {
        (((p.0 - s.a.0) * dx + (p.1 - s.a.1) * dy) / l2).clamp(0.0, 1.0)
    };
    let (ex, ey) = (s.a.0 + t * dx - p.0, s.a.1 + t * dy - p.1);
    ex * ex + ey * ey
}

/// ab_glyph's outline curves (font units, y up) as line segments in pixels (y up).
fn flatten(curves: &[OutlineCurve], scale: f64) -> Vec<Seg> {
    let px = |p: ab_glyph::Point| (f64::from(p.x) * scale, f64::from(p.y) * scale);
    let mut segs = Vec::with_capacity(curves.len() * 4);
    let mut push = |a: (f64, f64), b: (f64, f64)| {
        if a != b {
            segs.push(Seg { a, b });
        }
    };
    // Segments for a curve deviating at most `dev` px from its chord: the error of n chords
    // falls as 1/n².
    let pieces = |dev: f64| ((dev / FLATNESS).sqrt().ceil() as usize).clamp(1, 64);
    for c in curves {
        match *c {
            OutlineCurve::Line(a, b) => push(px(a), px(b)),
            OutlineCurve::Quad(a, b, c) => {
                let (a, b, c) = (px(a), px(b), px(c));
                let dd = ((a.0 - 2.0 * b.0 + c.0).powi(2) + (a.1 - 2.0 * b.1 + c.1).powi(2)).sqrt();
                let n = pieces(dd / 4.0);
                let mut prev = a;
                for i in 1..=n {
                    let t = i as f64 / n as f64;
                    let u = 1.0 - t;
                    let p = (
                        u * u * a.0 + 2.0 * u * t * b.0 + t * t * c.0,
                        u * u * a.1 + 2.0 * u * t * b.1 + t * t * c.1,
                    );
                    push(prev, p);
                    prev = p;
                }
            }
            OutlineCurve::Cubic(a, b, c, d) => {
                let (a, b, c, d) = (px(a), px(b), px(c), px(d));
                let dd1 = ((a.0 - 2.0 * b.0 + c.0).powi(2) + (a.1 - 2.0 * b.1 + c.1).powi(2)).sqrt();
                let dd2 = ((b.0 - 2.0 * c.0 + d.0).powi(2) + (b.1 - 2.0 * c.1 + d.1).powi(2)).sqrt();
                let n = pieces(dd1.max(dd2) * 0.75);
                let mut prev = a;
                for i in 1..=n {
                    let t = i as f64 / n as f64;
                    let u = 1.0 - t;
                    let (k0, k1, k2, k3) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
                    let p = (
                        k0 * a.0 + k1 * b.0 + k2 * c.0 + k3 * d.0,
                        k0 * a.1 + k1 * b.1 + k2 * c.1 + k3 * d.1,
                    );
                    push(prev, p);
                    prev = p;
                }
            }
        }
    }
    segs
}

/// Protobuf encoding for the three small messages of `glyphs.proto`. Hand-written rather than
/// `prost`: the schema is fixed by the style spec and needs only varints, zigzag varints and
/// length-delimited fields (a dozen lines), while prost would add prost-derive (and, to
/// compile the `.proto`, prost-build and protoc) to every build of the crate. Fields are
/// written in field-number order, as protobuf's own encoders do, so the output is canonical.
mod pb {
    pub fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn key(out: &mut Vec<u8>, field: u32, wire_type: u32) {
        varint(out, u64::from(field << 3 | wire_type));
    }

    /// A `uint32` field (wire type 0).
    pub fn uint(out: &mut Vec<u8>, field: u32, v: u32) {
        key(out, field, 0);
        varint(out, u64::from(v));
    }

    /// A `sint32` field: zigzag, then varint.
    pub fn sint(out: &mut Vec<u8>, field: u32, v: i32) {
        key(out, field, 0);
        varint(out, u64::from(((v << 1) ^ (v >> 31)) as u32));
    }

    /// A `string`, `bytes` or embedded-message field (wire type 2).
    pub fn bytes(out: &mut Vec<u8>, field: u32, b: &[u8]) {
        key(out, field, 2);
        varint(out, b.len() as u64);
        out.extend_from_slice(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ab_glyph::{PxScale, point};
    use std::collections::BTreeMap;

    /// A protobuf reader written from the wire format, independent of `pb` above.
    struct Reader<'a> {
        buf: &'a [u8],
        pos: usize,
    }

    #[derive(Debug)]
    enum Value<'a> {
        Varint(u64),
        Bytes(&'a [u8]),
    }

    impl<'a> Reader<'a> {
        fn new(buf: &'a [u8]) -> Self {
            Self { buf, pos: 0 }
        }

        fn varint(&mut self) -> u64 {
            let mut v = 0u64;
            for shift in (0..64).step_by(7) {
                let b = self.buf[self.pos];
                self.pos += 1;
                v |= u64::from(b & 0x7f) << shift;
                if b < 0x80 {
                    return v;
                }
            }
            panic!("varint too long");
        }

        fn next(&mut self) -> Option<(u64, Value<'a>)> {
            if self.pos >= self.buf.len() {
                return None;
            }
            let key = self.varint();
            let value = match key & 7 {
                0 => Value::Varint(self.varint()),
                2 => {
                    let n = self.varint() as usize;
                    let b = &self.buf[self.pos..self.pos + n];
                    self.pos += n;
                    Value::Bytes(b)
                }
                t => panic!("unexpected wire type {t}"),
            };
            Some((key >> 3, value))
        }
    }

    #[derive(Debug, Default, Clone)]
    struct Glyph {
        id: u32,
        bitmap: Vec<u8>,
        width: u32,
        height: u32,
        left: i32,
        top: i32,
        advance: u32,
        seen: u8,
    }

    #[derive(Debug, Default)]
    struct Stack {
        name: String,
        range: String,
        glyphs: BTreeMap<u32, Glyph>,
    }

    fn unzigzag(v: u64) -> i32 {
        ((v >> 1) as i64 ^ -((v & 1) as i64)) as i32
    }

    fn decode(pbf: &[u8]) -> Vec<Stack> {
        let mut stacks = Vec::new();
        let mut top = Reader::new(pbf);
        while let Some((field, value)) = top.next() {
            let (1, Value::Bytes(bytes)) = (field, value) else {
                panic!("glyphs: unexpected field {field}");
            };
            let mut stack = Stack::default();
            let mut r = Reader::new(bytes);
            while let Some((field, value)) = r.next() {
                match (field, value) {
                    (1, Value::Bytes(b)) => stack.name = String::from_utf8(b.to_vec()).unwrap(),
                    (2, Value::Bytes(b)) => stack.range = String::from_utf8(b.to_vec()).unwrap(),
                    (3, Value::Bytes(b)) => {
                        let mut g = Glyph::default();
                        let mut r = Reader::new(b);
                        while let Some((field, value)) = r.next() {
                            g.seen |= 1 << field;
                            match (field, value) {
                                (1, Value::Varint(v)) => g.id = v as u32,
                                (2, Value::Bytes(b)) => g.bitmap = b.to_vec(),
                                (3, Value::Varint(v)) => g.width = v as u32,
                                (4, Value::Varint(v)) => g.height = v as u32,
                                (5, Value::Varint(v)) => g.left = unzigzag(v),
                                (6, Value::Varint(v)) => g.top = unzigzag(v),
                                (7, Value::Varint(v)) => g.advance = v as u32,
                                (f, v) => panic!("glyph: unexpected field {f}: {v:?}"),
                            }
                        }
                        // id, width, height, left, top and advance are required in the proto.
                        assert_eq!(g.seen & 0b1111_1010, 0b1111_1010, "{g:?}");
                        assert!(stack.glyphs.insert(g.id, g).is_none(), "duplicate glyph");
                    }
                    (f, v) => panic!("fontstack: unexpected field {f}: {v:?}"),
                }
            }
            stacks.push(stack);
        }
        stacks
    }

    fn latin(stack: &str) -> Stack {
        let mut stacks = decode(&glyphs(stack, "0-255").unwrap());
        assert_eq!(stacks.len(), 1);
        stacks.pop().unwrap()
    }

    fn glyph(stack: &Stack, c: char) -> &Glyph {
        stack
            .glyphs
            .get(&u32::from(c))
            .unwrap_or_else(|| panic!("no glyph for {c:?}"))
    }

    #[test]
    fn latin_range_has_well_formed_distance_fields() {
        let stack = latin("DejaVu Sans Book");
        assert_eq!(stack.name, "DejaVu Sans Book");
        assert_eq!(stack.range, "0-255");
        assert!(stack.glyphs.len() > 180, "{} glyphs", stack.glyphs.len());
        for c in ['A', '0', '5', 'g', 'W', 'i', '.', 'é'] {
            let g = glyph(&stack, c);
            let (w, h) = (g.width as usize + 6, g.height as usize + 6);
            assert_eq!(g.bitmap.len(), w * h, "{c:?}");
            assert!(g.width > 0 && g.height > 0 && g.advance > 0, "{c:?}: {g:?}");
            // Some pixels well inside the outline…
            assert!(g.bitmap.iter().any(|&v| v > 192), "{c:?}: nothing inside");
            // …and the buffer's outer ring, at least 2.5 px from the ink box, outside it.
            for y in 0..h {
                for x in 0..w {
                    if x == 0 || y == 0 || x == w - 1 || y == h - 1 {
                        assert!(g.bitmap[y * w + x] < 128, "{c:?} ({x}, {y})");
                    }
                }
            }
        }
        // An L's top right corner is far from its strokes: the field is zero there.
        let l = glyph(&stack, 'L');
        let w = l.width as usize + 6;
        assert_eq!(l.bitmap[w - 1], 0);
        // Advances in 24-px units: a narrow i, a wide W, a space with no bitmap.
        let (i, w_, space) = (glyph(&stack, 'i'), glyph(&stack, 'W'), glyph(&stack, ' '));
        assert!(i.advance < w_.advance, "{} vs {}", i.advance, w_.advance);
        assert!((5..=9).contains(&i.advance) && (20..=28).contains(&w_.advance));
        assert!(space.bitmap.is_empty() && space.width == 0 && space.advance > 4);
        // Digits are tabular in DejaVu.
        assert_eq!(glyph(&stack, '0').advance, glyph(&stack, '5').advance);
    }

    #[test]
    fn metrics_follow_fontnik() {
        let stack = latin("DejaVu Sans Book");
        // DejaVu Sans: ascender 1901/2048 em = 22.3 px → 22; cap height 1493/2048 = 17.5 px.
        let a = glyph(&stack, 'A');
        assert_eq!(a.top, 17 - 22, "{a:?}");
        assert_eq!(a.height, 17);
        // Descenders reach below the baseline: g's ink box is taller than its top.
        let g = glyph(&stack, 'g');
        assert!(g.height as i32 > g.top + 22, "{g:?}");
        // 'x' sits on the baseline: height = top + ascender.
        let x = glyph(&stack, 'x');
        assert_eq!(x.height as i32, x.top + 22, "{x:?}");
        // Bold is wider.
        let bold = latin("DejaVu Sans Bold");
        assert!(glyph(&bold, 'W').advance > glyph(&stack, 'W').advance);
        assert_eq!(bold.name, "DejaVu Sans Bold");
    }

    /// The 191 edge of each distance field agrees with ab_glyph's own coverage rasteriser at
    /// the same size and placement: catches flips, off-by-buffer and baseline slips.
    #[test]
    fn edges_match_a_rasteriser() {
        let font = FontRef::try_from_slice(DEJAVU_SANS).unwrap();
        let stack = latin("DejaVu Sans Book");
        let upm = font.units_per_em().unwrap();
        let scale = PxScale::from(24.0 * font.height_unscaled() / upm);
        for c in "AaBgQ05@%&Wé".chars() {
            let g = glyph(&stack, c);
            let w = g.width as i32 + 6;
            let h = g.height as i32 + 6;
            // Our bitmap's top-left pixel, in y-down pixels from the pen on the baseline.
            let (ox, oy) = (g.left - 3, -(g.top + 22) - 3);
            let outlined = font
                .outline_glyph(font.glyph_id(c).with_scale_and_position(scale, point(0.0, 0.0)))
                .unwrap();
            let bounds = outlined.px_bounds();
            let mut coverage = vec![0f32; (w * h) as usize];
            outlined.draw(|x, y, v| {
                let (px, py) = (bounds.min.x as i32 + x as i32 - ox, bounds.min.y as i32 + y as i32 - oy);
                assert!(px >= 0 && py >= 0 && px < w && py < h, "{c:?}: ink outside the bitmap");
                coverage[(py * w + px) as usize] = v;
            });
            let mut wrong = 0;
            for (i, &v) in coverage.iter().enumerate() {
                let sdf = g.bitmap[i];
                if (v > 0.8 && sdf < 180) || (v < 0.2 && sdf > 200) {
                    wrong += 1;
                }
            }
            assert_eq!(wrong, 0, "{c:?}: {wrong} pixels disagree");
        }
    }

    #[test]
    fn ranges_fontstacks_and_determinism() {
        // CJK is not in DejaVu: a valid stack without glyphs.
        let cjk = decode(&glyphs("DejaVu Sans Book", "19968-20223").unwrap());
        assert_eq!(cjk.len(), 1);
        assert_eq!(cjk[0].range, "19968-20223");
        assert!(cjk[0].glyphs.is_empty());
        let last = decode(&glyphs("DejaVu Sans Bold", "65280-65535").unwrap());
        assert_eq!(last[0].range, "65280-65535");
        // Cyrillic is.
        assert!(
            !decode(&glyphs("DejaVu Sans Book", "1024-1279").unwrap())[0]
                .glyphs
                .is_empty()
        );
        // A stack takes its first served font.
        let fallback = decode(&glyphs("Noto Sans Regular, DejaVu Sans Bold,DejaVu Sans Book", "0-255").unwrap());
        assert_eq!(fallback[0].name, "DejaVu Sans Bold");
        // Deterministic bytes.
        assert_eq!(glyphs("DejaVu Sans Book", "0-255"), glyphs("DejaVu Sans Book", "0-255"));

        for bad in [
            "",
            "0",
            "0-",
            "-255",
            "1-256",
            "0-256",
            "256-255",
            "0-254",
            "65536-65791",
            "x-255",
            "+0-255",
            "0 -255",
            "0-255.pbf",
            "00000000000000000000-255",
            "-1-254",
        ] {
            assert_eq!(
                glyphs("DejaVu Sans Book", bad),
                Err(GlyphError::BadRange(bad.to_owned())),
                "{bad:?}"
            );
        }
        for bad in ["", "Arial Regular", "dejavu sans book", ",", "Noto Sans Regular,Arial"] {
            assert!(
                matches!(glyphs(bad, "0-255"), Err(GlyphError::UnknownFontstack { .. })),
                "{bad:?}"
            );
        }
        assert_eq!(fontstacks(), ["DejaVu Sans Book", "DejaVu Sans Bold"]);
    }

    #[test]
    fn protobuf_primitives() {
        let mut out = Vec::new();
        pb::sint(&mut out, 6, -5);
        assert_eq!(out, [6 << 3, 9]);
        out.clear();
        pb::uint(&mut out, 1, 300);
        assert_eq!(out, [8, 0xac, 0x02]);
        assert_eq!(unzigzag(9), -5);
        assert_eq!(sdf_value(0.0), 191);
        assert_eq!(sdf_value(-2.0), 255);
        assert_eq!(sdf_value(6.0), 0);
    }
}
