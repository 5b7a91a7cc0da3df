//! Printable residents' notices (告居民书): one A4 portrait page per notice at 150 dpi — a title,
//! the notice's text wrapped the Chinese way, the new grid's workers and phones in large type, the
//! issuing community and a small reference line — as PNG, or many pages as one PDF.
//!
//! The PDF carries each page as a picture ([`crate::pdf`]), drawn by the same code as the PNG.

use crate::palette::Rgb;
use crate::text::{self, TextStyle};
use tiny_skia::{Paint, Pixmap, Rect, Transform};

/// A4 at 150 dpi.
pub const WIDTH_PX: u32 = 1240;
pub const HEIGHT_PX: u32 = 1754;

const INK: Rgb = Rgb(0x1d, 0x27, 0x33);
const RED: Rgb = Rgb(0xb7, 0x1c, 0x1c);
const GREY: Rgb = Rgb(0x6b, 0x77, 0x85);
const BOX: Rgb = Rgb(0xf4, 0xf1, 0xea);

/// What one page says.
#[derive(Debug, Clone, PartialEq)]
pub struct NoticePage {
    /// 网格调整通知
    pub title: String,
    /// The notice's text (one paragraph).
    pub body: String,
    /// The new grid's workers: (role, name, phone); empty when nobody works there yet.
    pub contacts: Vec<(String, String, Option<String>)>,
    /// Said in the contacts' place when there are none.
    pub no_contacts: String,
    /// Right-aligned under the text: the issuing community, the date.
    pub signature: Vec<String>,
    /// Small grey line at the foot: codes and ids for the office's reference.
    pub reference: String,
}

#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    /// Chinese text cannot be drawn: no CJK font is installed (Debian: `fonts-noto-cjk`).
    #[error(
        "no CJK font is installed, so a notice in Chinese cannot be drawn (install fonts-noto-cjk); the text form works without one"
    )]
    NoCjkFont,
    #[error("nothing to print: no notice")]
    Empty,
}

fn paint(c: Rgb) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color(c.skia(1.0));
    p.anti_alias = true;
    p
}

/// Breaks `s` into lines no wider than `max` px: between any two CJK characters, never inside a
/// run of Latin letters or digits (a phone number stays whole), and never starting a line with
/// closing punctuation (it stays with the character before it).
pub fn wrap(s: &str, max: f32, style: &TextStyle) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    for ch in s.chars() {
        let word = ch.is_ascii_alphanumeric() || ch == '-' || ch == '+';
        let closing = "，。；：、）》」』！？,.;:)".contains(ch);
        match tokens.last_mut() {
            Some(last)
                if (word
                    && last
                        .chars()
                        .last()
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '+'))
                    || closing =>
            {
                last.push(ch)
            }
            _ => tokens.push(ch.to_string()),
        }
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for t in tokens {
        if t == "\n" {
            lines.push(std::mem::take(&mut line));
            continue;
        }
        let candidate = format!("{line}{t}");
        if !line.is_empty() && text::width(&candidate, style) > max {
            lines.push(std::mem::take(&mut line));
            line = t;
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Draws one notice page.
pub fn render(page: &NoticePage) -> Result<Pixmap, NoticeError> {
    let all = [
        page.title.as_str(),
        page.body.as_str(),
        page.no_contacts.as_str(),
        &page.signature.join(""),
    ]
    .concat();
    if !text::can_draw(&all) {
        return Err(NoticeError::NoCjkFont);
    }
    let (w, h) = (WIDTH_PX as f32, HEIGHT_PX as f32);
    let mut pm = Pixmap::new(WIDTH_PX, HEIGHT_PX).expect("A4 at 150 dpi fits a pixmap");
    pm.fill(tiny_skia::Color::WHITE);
    let margin = 130.0;
    let title = TextStyle {
        size: 76.0,
        color: RED,
        halo: None,
        bold: true,
    };
    text::draw_centered(&mut pm, &page.title, w / 2.0, 230.0, &title);
    let rule = Rect::from_xywh(margin, 300.0, w - 2.0 * margin, 5.0).expect("positive rule");
    pm.fill_rect(rule, &paint(RED), Transform::identity(), None);

    let body = TextStyle {
        size: 44.0,
        color: INK,
        halo: None,
        bold: false,
    };
    let line_h = body.size * 1.75;
    // The first line indented by two characters, as a Chinese paragraph is.
    let indent = text::width("　　", &body);
    let mut y = 420.0;
    let mut first = true;
    let mut rest = page.body.clone();
    while !rest.is_empty() {
        let avail = w - 2.0 * margin - if first { indent } else { 0.0 };
        let lines = wrap(&rest, avail, &body);
        let Some(line) = lines.first().cloned() else { break };
        text::draw(&mut pm, &line, margin + if first { indent } else { 0.0 }, y, &body);
        y += line_h;
        rest = rest[line.len()..].to_string();
        first = false;
    }

    // The workers in large type: what a resident looks for at the door.
    y += 40.0;
    let head = TextStyle {
        size: 40.0,
        color: GREY,
        halo: None,
        bold: true,
    };
    let big = TextStyle {
        size: 52.0,
        color: INK,
        halo: None,
        bold: true,
    };
    let rows = page.contacts.len().max(1) as f32;
    let box_h = 90.0 + rows * 82.0 + 30.0;
    if let Some(r) = Rect::from_xywh(margin, y, w - 2.0 * margin, box_h) {
        pm.fill_rect(r, &paint(BOX), Transform::identity(), None);
    }
    text::draw(&mut pm, "联系方式", margin + 40.0, y + 70.0, &head);
    let mut ry = y + 160.0;
    if page.contacts.is_empty() {
        let note = TextStyle { size: 40.0, ..body };
        for line in wrap(&page.no_contacts, w - 2.0 * margin - 80.0, &note) {
            text::draw(&mut pm, &line, margin + 40.0, ry, &note);
            ry += 60.0;
        }
    }
    for (role, name, phone) in &page.contacts {
        text::draw(&mut pm, &format!("{role}　{name}"), margin + 40.0, ry, &big);
        let phone = phone.as_deref().unwrap_or("电话待公布");
        let pw = text::width(phone, &big);
        text::draw(&mut pm, phone, w - margin - 40.0 - pw, ry, &big);
        ry += 82.0;
    }
    y += box_h + 110.0;

    for line in &page.signature {
        let lw = text::width(line, &body);
        text::draw(&mut pm, line, w - margin - lw, y, &body);
        y += line_h;
    }
    let small = TextStyle {
        size: 26.0,
        color: GREY,
        halo: None,
        bold: false,
    };
    text::draw(&mut pm, &page.reference, margin, h - 90.0, &small);
    Ok(pm)
}

pub fn render_png(page: &NoticePage) -> Result<Vec<u8>, NoticeError> {
    Ok(crate::raster::encode_png(&render(page)?))
}

/// All pages as one PDF, one A4 page per notice.
pub fn render_pdf(pages: &[NoticePage]) -> Result<Vec<u8>, NoticeError> {
    if pages.is_empty() {
        return Err(NoticeError::Empty);
    }
    crate::pdf::pages(pages.len(), crate::pdf::A4_PORTRAIT, |i| render(&pages[i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_numbers_whole_and_punctuation_off_the_line_start() {
        let style = TextStyle {
            size: 40.0,
            color: INK,
            halo: None,
            bold: false,
        };
        let text = "网格长王小明，电话13800000000；网格员李华，电话13900000000。";
        for max in [200.0, 260.0, 330.0, 420.0, 600.0] {
            let lines = wrap(text, max, &style);
            assert_eq!(lines.concat(), text, "wrapping loses nothing");
            for l in &lines {
                assert!(
                    !l.starts_with(['，', '；', '。']),
                    "{l:?} starts with punctuation at {max}"
                );
            }
            for phone in ["13800000000", "13900000000"] {
                assert!(
                    lines.iter().any(|l| l.contains(phone)),
                    "{phone} split at {max}: {lines:?}"
                );
            }
        }
    }
}
