//! Labels beside the grids' own: compound (小区) names, building numbers (楼号) and road names,
//! and the collision rule that keeps raster and printed labels clear of one another and of the
//! resource icons (the web map leaves that to MapLibre's collision, in the style's layer order).
//!
//! - A compound's label goes at the centre of the convex hull of its buildings, in the open
//!   between them, unless that point is on or nearest to another compound's building (an
//!   L-shaped compound round a neighbour): then on its own building nearest that centre.
//! - A building's number is read off its address, the way it is painted on the wall: "3号楼"
//!   from "嘉禾公寓3号楼", "10号" from "中坊1巷10号", "15 A" from "Aleksanterinkatu 15 A".
//! - A road's name is laid along the road, glyph by glyph, each turned to the road's direction
//!   and reading left to right; Chinese names on roads steeper than 45° stand upright, one
//!   character under the other, as Chinese maps write them.

use crate::text::{self, TextStyle};
use rstar::primitives::Rectangle;
use rstar::{AABB, RTree};

/// A box in pixels: x0, y0, x1, y1.
pub type PxBox = [f32; 4];

/// Where labels and icons already are; a label goes only where it overlaps none of them.
#[derive(Default)]
pub struct Collider {
    placed: RTree<Rectangle<[f32; 2]>>,
}

impl Collider {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether none of `boxes` overlaps anything placed.
    pub fn free(&self, boxes: &[PxBox]) -> bool {
        boxes.iter().all(|b| {
            self.placed
                .locate_in_envelope_intersecting(&AABB::from_corners([b[0], b[1]], [b[2], b[3]]))
                .next()
                .is_none()
        })
    }

    /// Marks `boxes` as taken.
    pub fn insert(&mut self, boxes: &[PxBox]) {
        for b in boxes {
            self.placed.insert(Rectangle::from_corners([b[0], b[1]], [b[2], b[3]]));
        }
    }

    /// Places `boxes` when they are free; says whether they were.
    pub fn place(&mut self, boxes: &[PxBox]) -> bool {
        let free = self.free(boxes);
        if free {
            self.insert(boxes);
        }
        free
    }

    pub fn len(&self) -> usize {
        self.placed.size()
    }

    pub fn is_empty(&self) -> bool {
        self.placed.size() == 0
    }
}

/// Whether two boxes overlap (touching edges do not).
pub fn overlap(a: &PxBox, b: &PxBox) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

/// The box of a line of text centred on (x, y), with `pad` pixels of air round it.
pub fn text_box(s: &str, style: &TextStyle, x: f32, y: f32, pad: f32) -> PxBox {
    let w = text::width(s, style) / 2.0 + pad;
    let h = style.size * 0.6 + pad;
    [x - w, y - h, x + w, y + h]
}

/// Characters a CJK font draws upright in vertical text (ideographs and kana).
pub fn is_cjk(ch: char) -> bool {
    matches!(ch as u32,
        0x3005..=0x3007 | 0x3021..=0x3029 | 0x3040..=0x30ff | 0x3400..=0x4dbf | 0x4e00..=0x9fff
        | 0xac00..=0xd7af | 0xf900..=0xfaff | 0x20000..=0x3134f)
}

/// Chinese numerals that may stand for a building's number (三号楼).
const CJK_DIGITS: &str = "〇零一二三四五六七八九十百";
/// What follows a building's number in a Chinese address, most specific first.
const BUILDING_MARKS: [&str; 4] = ["号楼", "栋", "幢", "座"];
/// A number longer than this is not a building number but some other code.
const MAX_NUMBER_CHARS: usize = 8;

/// The building's number as residents read it, from its address: the number before the last
/// 号楼 / 栋 / 幢 / 座 with its mark ("嘉禾公寓3号楼" → "3号楼", "A座"), else a trailing "…号"
/// ("中坊1巷10号" → "10号"), else the last number of a Latin-script address
/// ("Mannerheimintie 5" → "5", "Aleksanterinkatu 15 A" → "15 A"). `None` when the address has
/// no number.
pub fn building_number(address: &str) -> Option<String> {
    let a = address.trim();
    let run_before = |end: usize| -> Option<&str> {
        let head = &a[..end];
        let start = head
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '-' || CJK_DIGITS.contains(*c))
            .last()
            .map(|(i, _)| i)?;
        let run = &head[start..];
        (!run.is_empty() && run.chars().count() < MAX_NUMBER_CHARS).then_some(run)
    };
    let mut marks: Vec<(usize, &str)> = BUILDING_MARKS
        .iter()
        .flat_map(|m| a.match_indices(m).map(move |(i, _)| (i, *m)))
        .collect();
    // The last mark in the address first (a compound's own 栋 in its name comes earlier).
    marks.sort_by_key(|m| std::cmp::Reverse(m.0));
    for (at, mark) in marks {
        if let Some(run) = run_before(at) {
            return Some(format!("{run}{mark}"));
        }
    }
    if let Some(head) = a.strip_suffix('号')
        && let Some(run) = run_before(head.len())
    {
        return Some(format!("{run}号"));
    }
    // A Latin-script address: the last token holding a digit, with a one-letter staircase after
    // it ("15 A").
    let tokens: Vec<&str> = a.split([' ', ',']).filter(|t| !t.is_empty()).collect();
    let i = tokens.iter().rposition(|t| t.bytes().any(|b| b.is_ascii_digit()))?;
    let t = tokens[i];
    let start = t
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '-' || *c == '/')
        .last()
        .map(|(i, _)| i)?;
    let number = t[start..].trim_start_matches(|c: char| !c.is_ascii_digit());
    if number.is_empty() || number.chars().count() > MAX_NUMBER_CHARS {
        return None;
    }
    let staircase = tokens
        .get(i + 1)
        .filter(|s| s.len() == 1 && s.bytes().all(|b| b.is_ascii_alphabetic()));
    Some(match staircase {
        Some(s) => format!("{number} {s}"),
        None => number.to_string(),
    })
}

/// One glyph of a label laid along a line: its centre in pixels and its turn (radians,
/// clockwise in y-down pixels).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlyphAt {
    pub ch: char,
    pub x: f32,
    pub y: f32,
    pub angle: f32,
}

/// A label along a line: its glyphs and the boxes it covers.
#[derive(Debug, Clone)]
pub struct LineLabel {
    pub glyphs: Vec<GlyphAt>,
    pub boxes: Vec<PxBox>,
}

/// A polyline in pixels with its arc length, for walking along it.
struct Walk<'a> {
    pts: &'a [(f32, f32)],
    cum: Vec<f32>,
}

impl<'a> Walk<'a> {
    fn new(pts: &'a [(f32, f32)]) -> Self {
        let mut cum = Vec::with_capacity(pts.len());
        let mut s = 0.0;
        for (i, p) in pts.iter().enumerate() {
            if i > 0 {
                let q = pts[i - 1];
                s += (p.0 - q.0).hypot(p.1 - q.1);
            }
            cum.push(s);
        }
        Self { pts, cum }
    }

    fn len(&self) -> f32 {
        self.cum.last().copied().unwrap_or(0.0)
    }

    /// The point at arc length `s` and the direction of its segment (radians).
    fn at(&self, s: f32) -> (f32, f32, f32) {
        let i = match self.cum.binary_search_by(|c| c.total_cmp(&s)) {
            Ok(i) => i.min(self.pts.len() - 2),
            Err(i) => i.clamp(1, self.pts.len() - 1) - 1,
        };
        let (a, b) = (self.pts[i], self.pts[i + 1]);
        let seg = self.cum[i + 1] - self.cum[i];
        let t = if seg > 0.0 {
            ((s - self.cum[i]) / seg).clamp(0.0, 1.0)
        } else {
            0.0
        };
        (
            a.0 + (b.0 - a.0) * t,
            a.1 + (b.1 - a.1) * t,
            (b.1 - a.1).atan2(b.0 - a.0),
        )
    }
}

/// The smallest difference between two directions, in radians (0–π).
fn turn(a: f32, b: f32) -> f32 {
    let d = (a - b).rem_euclid(std::f32::consts::TAU);
    d.min(std::f32::consts::TAU - d)
}

/// Road names along their lines (raster tiles and the printed map alike): the most important
/// roads first, a label every `spacing` pixels, none within three label lengths (at least
/// `min_apart`) of the same name already placed — a fork, both carriageways — and each only
/// where `accept` takes its boxes. The placed labels, in placement order.
pub fn road_names<'f>(
    mut roads: Vec<&'f crate::data::Feature>,
    px: impl Fn([f64; 2]) -> (f32, f32),
    style: &TextStyle,
    min_apart: f32,
    spacing: f32,
    mut accept: impl FnMut(&LineLabel) -> bool,
) -> Vec<(&'f str, LineLabel)> {
    roads.sort_by_key(|f| (crate::raster::road_rank(f.str("class").unwrap_or("")), f.id));
    let mut placed: Vec<(&'f str, LineLabel)> = Vec::new();
    for f in roads {
        let (Some(name), crate::data::Shape::Lines(lines)) = (f.str("name"), &f.shape) else {
            continue;
        };
        if name.trim().is_empty() || !text::can_draw(name) {
            continue;
        }
        let apart = 3.0 * text::width(name, style).max(min_apart);
        for line in &lines.0 {
            let pts: Vec<(f32, f32)> = line.0.iter().map(|c| px([c.x, c.y])).collect();
            for label in along(&pts, name, style, spacing) {
                let mid = label.glyphs[label.glyphs.len() / 2];
                let repeated = placed.iter().any(|(n, other)| {
                    let m = other.glyphs[other.glyphs.len() / 2];
                    *n == name && (m.x - mid.x).hypot(m.y - mid.y) < apart
                });
                if !repeated && accept(&label) {
                    placed.push((name, label));
                }
            }
        }
    }
    placed
}

/// Where `text` can go along the polyline `line` (pixels): one placement at the line's middle
/// and others every `spacing` pixels on either side, nearest the middle first, each only where
/// the line is straight enough under the whole label (no bend over 30° between neighbouring
/// glyphs, 45° end to end). Positions are measured along the whole line, so every tile that
/// sees the line agrees on them.
pub fn along(line: &[(f32, f32)], label: &str, style: &TextStyle, spacing: f32) -> Vec<LineLabel> {
    // Repeated points would be segments with no direction.
    let mut line = line.to_vec();
    line.dedup();
    if line.len() < 2 || label.is_empty() {
        return Vec::new();
    }
    let walk = Walk::new(&line);
    let total = walk.len();
    let chars: Vec<char> = label.chars().collect();
    let advances: Vec<f32> = chars.iter().map(|c| text::advance(*c, style)).collect();
    let width: f32 = advances.iter().sum();
    // Upright characters stack one em apart.
    let upright_step = style.size * 1.05;
    let upright = chars.iter().all(|c| is_cjk(*c));
    let longest = if upright {
        width.max(upright_step * chars.len() as f32)
    } else {
        width
    };
    let pad = style.size * 0.5;
    if total < longest + 2.0 * pad {
        return Vec::new();
    }
    let mid = total / 2.0;
    let mut centres = vec![mid];
    let mut k = 1.0;
    while spacing > 0.0 && mid - k * spacing >= longest / 2.0 + pad {
        centres.push(mid - k * spacing);
        centres.push(mid + k * spacing);
        k += 1.0;
    }
    let r = style.size * 0.6 + style.halo.map_or(0.0, |h| h.1);
    let mut out = Vec::new();
    for s in centres {
        // The chord under a horizontal label decides the mode: steep Chinese stands upright.
        let (x0, y0, _) = walk.at(s - width / 2.0);
        let (x1, y1, _) = walk.at(s + width / 2.0);
        let steep = (y1 - y0).abs() > (x1 - x0).abs();
        let glyphs: Vec<GlyphAt> = if upright && steep {
            let n = chars.len() as f32;
            let from = s - upright_step * n / 2.0;
            // Top to bottom: along the line if it runs down the screen, else against it.
            let down = y1 > y0;
            chars
                .iter()
                .enumerate()
                .map(|(i, &ch)| {
                    let off = upright_step * (i as f32 + 0.5);
                    let (x, y, _) = walk.at(if down {
                        from + off
                    } else {
                        from + upright_step * n - off
                    });
                    GlyphAt { ch, x, y, angle: 0.0 }
                })
                .collect()
        } else {
            // Left to right: against the line when it runs leftwards.
            let forward = x1 >= x0;
            let from = s - width / 2.0;
            let mut pen = 0.0;
            chars
                .iter()
                .zip(&advances)
                .map(|(&ch, &adv)| {
                    let off = pen + adv / 2.0;
                    pen += adv;
                    let (x, y, a) = walk.at(if forward { from + off } else { from + width - off });
                    let angle = if forward { a } else { a + std::f32::consts::PI };
                    GlyphAt { ch, x, y, angle }
                })
                .collect()
        };
        let straight = glyphs
            .windows(2)
            .all(|w| turn(w[0].angle, w[1].angle) < 30f32.to_radians())
            && glyphs
                .first()
                .zip(glyphs.last())
                .is_none_or(|(a, b)| turn(a.angle, b.angle) < 45f32.to_radians());
        // Upright glyphs carry no angle: the line under them must still be straight.
        let straight = straight
            && (!(upright && steep) || {
                let n = 6;
                let a: Vec<f32> = (0..=n)
                    .map(|i| walk.at(s - longest / 2.0 + longest * i as f32 / n as f32).2)
                    .collect();
                a.windows(2).all(|w| turn(w[0], w[1]) < 30f32.to_radians()) && turn(a[0], a[n]) < 45f32.to_radians()
            });
        if !straight {
            continue;
        }
        let boxes = glyphs.iter().map(|g| [g.x - r, g.y - r, g.x + r, g.y + r]).collect();
        out.push(LineLabel { glyphs, boxes });
    }
    out
}

/// The lines of one road name joined end to end where they meet, so that a street drawn as
/// many short ways (as OpenStreetMap has it) is one line its name fits along. At a fork the
/// straightest continuation wins; the rest start lines of their own. Deterministic: lines are
/// taken in the order given.
pub fn join_lines(parts: &[Vec<[f64; 2]>]) -> Vec<Vec<[f64; 2]>> {
    use std::collections::HashMap;
    let key = |p: &[f64; 2]| (p[0].to_bits(), p[1].to_bits());
    let mut ends: HashMap<(u64, u64), Vec<usize>> = HashMap::new();
    for (i, p) in parts.iter().enumerate() {
        if p.len() >= 2 {
            ends.entry(key(&p[0])).or_default().push(i);
            ends.entry(key(&p[p.len() - 1])).or_default().push(i);
        }
    }
    let heading = |a: &[f64; 2], b: &[f64; 2]| (b[1] - a[1]).atan2(b[0] - a[0]);
    let mut used = vec![false; parts.len()];
    let mut out = Vec::new();
    for i in 0..parts.len() {
        if used[i] || parts[i].len() < 2 {
            continue;
        }
        used[i] = true;
        let mut line = parts[i].clone();
        for _ in 0..2 {
            loop {
                let n = line.len();
                let (end, before) = (line[n - 1], line[n - 2]);
                let dir = heading(&before, &end);
                let next = ends
                    .get(&key(&end))
                    .into_iter()
                    .flatten()
                    .filter(|&&j| !used[j])
                    .map(|&j| {
                        let p = &parts[j];
                        let forward = key(&p[0]) == key(&end);
                        let second = if forward { p[1] } else { p[p.len() - 2] };
                        (turn(dir as f32, heading(&end, &second) as f32), j, forward)
                    })
                    .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let Some((_, j, forward)) = next else { break };
                used[j] = true;
                if forward {
                    line.extend(parts[j].iter().skip(1));
                } else {
                    line.extend(parts[j].iter().rev().skip(1));
                }
            }
            // Then the other way, from the line's start.
            line.reverse();
        }
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::palette;

    #[test]
    fn building_numbers_come_from_addresses() {
        let n = |a: &str| building_number(a);
        assert_eq!(n("湖里区康乐社区嘉禾公寓3号楼").as_deref(), Some("3号楼"));
        assert_eq!(n("宛城区新华社区仁花花园东区10号楼").as_deref(), Some("10号楼"));
        assert_eq!(n("金湖家园12号楼2单元501室").as_deref(), Some("12号楼"));
        assert_eq!(n("某某小区A座").as_deref(), Some("A座"));
        assert_eq!(n("某某小区三栋").as_deref(), Some("三栋"));
        assert_eq!(n("天河区岗心村中坊1巷10号").as_deref(), Some("10号"));
        assert_eq!(n("康乐路31号").as_deref(), Some("31号"));
        assert_eq!(n("Mannerheimintie 5").as_deref(), Some("5"));
        assert_eq!(n("Aleksanterinkatu 15 A").as_deref(), Some("15 A"));
        assert_eq!(n("Fredrikinkatu 61a").as_deref(), Some("61a"));
        assert_eq!(n("湖里区康乐社区"), None);
        assert_eq!(n("Mannerheimintie"), None);
        assert_eq!(n(""), None);
        // A mark with no number before it is part of a name, not a number.
        assert_eq!(n("栋梁小区"), None);
    }

    #[test]
    fn labels_follow_the_line_and_read_left_to_right() {
        let style = TextStyle {
            size: 12.0,
            color: palette::TEXT,
            halo: Some((palette::HALO, 1.5)),
            bold: false,
        };
        // A line drawn right to left: the text still reads left to right, turned half round
        // from the line's own direction.
        let line = [(300.0, 100.0), (0.0, 100.0)];
        let placed = along(&line, "Mannerheimintie", &style, 0.0);
        assert_eq!(placed.len(), 1);
        let g = &placed[0].glyphs;
        assert!(g.windows(2).all(|w| w[1].x > w[0].x), "{g:?}");
        assert!(
            g.iter()
                .all(|x| (x.y - 100.0).abs() < 1e-3 && turn(x.angle, 0.0) < 1e-3)
        );
        // A steep road with a Chinese name: upright characters, top to bottom.
        let line = [(50.0, 300.0), (60.0, 0.0)];
        let placed = along(&line, "湖里路", &style, 0.0);
        let g = &placed[0].glyphs;
        assert!(
            g.windows(2).all(|w| w[1].y > w[0].y) && g.iter().all(|x| x.angle == 0.0),
            "{g:?}"
        );
        // Too short for the name, or too bent under it: nothing.
        assert!(along(&[(0.0, 0.0), (20.0, 0.0)], "湖里路", &style, 0.0).is_empty());
        // A repeated point does not bend the line.
        let placed = along(
            &[(0.0, 0.0), (150.0, 0.0), (150.0, 0.0), (300.0, 0.0)],
            "Mannerheimintie",
            &style,
            0.0,
        );
        assert_eq!(placed.len(), 1);
        let zigzag: Vec<(f32, f32)> = (0..40)
            .map(|i| (i as f32 * 6.0, if i % 2 == 0 { 0.0 } else { 6.0 }))
            .collect();
        assert!(along(&zigzag, "Mannerheimintie", &style, 0.0).is_empty());
        // Repeats along a long line, the middle first.
        let long = [(0.0, 0.0), (2000.0, 0.0)];
        let placed = along(&long, "湖里路", &style, 400.0);
        assert!(placed.len() >= 4);
        assert!((placed[0].glyphs[1].x - 1000.0).abs() < 1.0);
    }

    #[test]
    fn ways_of_one_street_join_into_one_line() {
        // Three ways in a row, one reversed, and a side branch at the middle joint.
        let parts = vec![
            vec![[1.0, 0.0], [2.0, 0.0]],
            vec![[3.0, 0.0], [2.0, 0.0]],
            vec![[0.0, 0.0], [1.0, 0.0]],
            vec![[2.0, 0.0], [2.0, 1.0]],
        ];
        let joined = join_lines(&parts);
        assert_eq!(joined.len(), 2);
        assert_eq!(joined[0], vec![[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]]);
        assert_eq!(joined[1], vec![[2.0, 0.0], [2.0, 1.0]]);
    }

    #[test]
    fn the_collider_refuses_overlaps() {
        let mut c = Collider::new();
        assert!(c.place(&[[0.0, 0.0, 10.0, 10.0]]));
        assert!(!c.place(&[[20.0, 0.0, 30.0, 10.0], [5.0, 5.0, 15.0, 15.0]]));
        assert!(c.place(&[[10.5, 0.0, 20.0, 10.0]]));
        assert_eq!(c.len(), 2);
        assert!(overlap(&[0.0, 0.0, 2.0, 2.0], &[1.0, 1.0, 3.0, 3.0]));
        assert!(!overlap(&[0.0, 0.0, 2.0, 2.0], &[2.0, 0.0, 3.0, 3.0]));
    }
}
