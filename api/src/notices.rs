//! Residents' notices in the forms a community office uses: text (to paste into a group chat or
//! a notice board system), JSON, a PNG of one notice, a PDF of many (one A4 page each). The same
//! for `wangge notices` and `GET /v1/drafts/{id}/notices`.

use planner::{Notice, Notices};
use tiles::notice::{NoticeError, NoticePage};

/// The forms notices come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeFormat {
    Txt,
    Json,
    Png,
    Pdf,
}

impl NoticeFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "txt" | "text" => Some(Self::Txt),
            "json" => Some(Self::Json),
            "png" => Some(Self::Png),
            "pdf" => Some(Self::Pdf),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Txt => "text/plain; charset=utf-8",
            Self::Json => "application/json",
            Self::Png => "image/png",
            Self::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Txt => "txt",
            Self::Json => "json",
            Self::Png => "png",
            Self::Pdf => "pdf",
        }
    }
}

/// Why notices could not be written in a form.
#[derive(Debug, thiserror::Error)]
pub enum NoticesError {
    #[error(transparent)]
    Draw(#[from] NoticeError),
    /// A PNG holds one notice; the draft has several and none was picked.
    #[error("a PNG holds one notice and this draft has {0}: pick one building, or take the PDF (one page per notice)")]
    OnePerPng(usize),
    #[error("no building changes grid in this draft, so there is no notice to print")]
    Nothing,
}

/// One page as printed.
pub fn page(n: &Notice, effective_chinese: &str) -> NoticePage {
    NoticePage {
        title: n.title.clone(),
        body: n.text.clone(),
        contacts: n
            .staff
            .iter()
            .map(|s| (s.role.clone(), s.name.clone(), s.phone.clone()))
            .collect(),
        no_contacts: "网格长和网格员尚在安排中，确定后另行通知。".into(),
        signature: vec![n.community_name.clone(), effective_chinese.to_string()],
        reference: format!("网格编码 {} · 原网格 {} · 楼栋 {}", n.to, n.from, n.building),
    }
}

/// "2026-12-15" → "2026年12月15日" (the date was checked when the notices were drafted).
fn chinese_date(iso: &str) -> String {
    planner::EffectiveDate::parse(iso).map_or_else(|_| iso.to_string(), |d| d.chinese())
}

/// All notices as text: each under its title, separated by a line of dashes.
pub fn text(n: &Notices) -> String {
    let date = chinese_date(&n.effective);
    let mut out = String::new();
    for (i, x) in n.notices.iter().enumerate() {
        if i > 0 {
            out.push_str("\n----------------------------------------\n\n");
        }
        out.push_str(&format!(
            "{}（{}）\n\n{}\n\n{}\n{}\n",
            x.title, x.place, x.text, x.community_name, date
        ));
    }
    out
}

/// The notices in `format`.
pub fn render(n: &Notices, format: NoticeFormat) -> Result<Vec<u8>, NoticesError> {
    let date = chinese_date(&n.effective);
    match format {
        NoticeFormat::Txt => Ok(text(n).into_bytes()),
        NoticeFormat::Json => Ok(serde_json::to_vec_pretty(n).unwrap_or_default()),
        NoticeFormat::Png => match n.notices.as_slice() {
            [] => Err(NoticesError::Nothing),
            [one] => Ok(tiles::notice::render_png(&page(one, &date))?),
            many => Err(NoticesError::OnePerPng(many.len())),
        },
        NoticeFormat::Pdf => {
            if n.notices.is_empty() {
                return Err(NoticesError::Nothing);
            }
            let pages: Vec<NoticePage> = n.notices.iter().map(|x| page(x, &date)).collect();
            Ok(tiles::notice::render_pdf(&pages)?)
        }
    }
}
