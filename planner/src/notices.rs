//! Residents' notices drafted from a draft's diff: for every building (or stairwell, when a
//! building's units go separately) whose grid changes, the text a community posts at its door —
//! from when, which grid it joins, and who works there with their phones. A grid nobody works in
//! yet says so; no name or number is made up.

use crate::{PlannerError, Result, blocking};
use gis_core::diff::diff;
use gis_core::grid::{Grid, GridLevel};
use gis_core::io::grids::GridLayer;
use gis_core::{Dataset, Staff};
use serde::Serialize;
use std::collections::BTreeMap;
use store::{StaffMove, Store};

/// The day a change takes effect, as residents read it (自2026年12月15日起).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EffectiveDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl EffectiveDate {
    /// `YYYY-MM-DD`, a real calendar day.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || PlannerError::BadDate(text.to_string());
        let mut parts = text.trim().split('-');
        let (Some(y), Some(m), Some(d), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(bad());
        }
        let (year, month, day): (u16, u8, u8) = (
            y.parse().map_err(|_| bad())?,
            m.parse().map_err(|_| bad())?,
            d.parse().map_err(|_| bad())?,
        );
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return Err(bad()),
        };
        if !(1..=days).contains(&day) || year < 1900 {
            return Err(bad());
        }
        Ok(Self { year, month, day })
    }

    /// 2026年12月15日
    pub fn chinese(&self) -> String {
        format!("{}年{}月{}日", self.year, self.month, self.day)
    }

    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A grid worker as the notice names them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoticeStaff {
    pub name: String,
    pub role: String,
    pub phone: Option<String>,
}

/// One notice: one building, or the units of one building that move together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    /// The building's id.
    pub building: String,
    /// The units concerned when not the whole building moves as one (`ID#UNIT` parts).
    pub units: Vec<String>,
    /// The building as residents name it: its address after the community's name, else its
    /// compound and id.
    pub place: String,
    pub address: Option<String>,
    pub residents: u64,
    pub households: u64,
    /// The grid it was in, and the one it joins.
    pub from: String,
    pub to: String,
    /// The grid as residents read it: the community's name and the code's own part (康乐社区006网格).
    pub grid_label: String,
    pub from_label: String,
    pub community: String,
    pub community_name: String,
    /// Who works in the new grid once the draft is published, grid head first; empty when nobody yet.
    pub staff: Vec<NoticeStaff>,
    pub title: String,
    /// The notice's text.
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Notices {
    pub draft: i64,
    pub effective: String,
    pub notices: Vec<Notice>,
}

/// The residents' notices for publishing draft `draft` over the current version, effective
/// `effective`; only `building`'s when given ([`PlannerError::NoNotice`] if it does not move).
pub async fn draft_notices(
    store: &Store,
    draft: i64,
    effective: EffectiveDate,
    building: Option<&str>,
) -> Result<Notices> {
    let (layer, dataset_id) = store.layer(draft).await?;
    let old = match store.current().await? {
        Some(v) => store.version_layer(v.number).await?,
        None => GridLayer::default(),
    };
    let dataset = store.dataset(dataset_id).await?;
    let staff = store.staff(None).await?;
    let moves = store.draft_staff_moves(draft).await?;
    let building = building.map(str::to_string);
    let notices = blocking(move || notices(&dataset, &old, &layer, &staff, &moves, effective)).await?;
    let notices: Vec<Notice> = match &building {
        Some(b) => notices.into_iter().filter(|n| &n.building == b).collect(),
        None => notices,
    };
    if let (Some(b), true) = (building, notices.is_empty()) {
        return Err(PlannerError::NoNotice { draft, building: b });
    }
    Ok(Notices {
        draft,
        effective: effective.iso(),
        notices,
    })
}

/// Who works in grid `code` after publishing: staff staying on it, and staff of retired grids
/// moving to it (`moves`, with their phones from where they were); grid head first.
fn staff_after(code: &str, staff: &[Staff], moves: &[StaffMove]) -> Vec<NoticeStaff> {
    let leaving = |s: &Staff| {
        moves
            .iter()
            .any(|m| m.to.is_some() && m.from == s.grid && m.name == s.name && m.role == s.role)
    };
    let mut out: Vec<NoticeStaff> = staff
        .iter()
        .filter(|s| s.grid == code && !leaving(s))
        .map(|s| NoticeStaff {
            name: s.name.clone(),
            role: s.role.clone(),
            phone: s.phone.clone(),
        })
        .collect();
    for m in moves.iter().filter(|m| m.to.as_deref() == Some(code)) {
        let phone = staff
            .iter()
            .find(|s| s.grid == m.from && s.name == m.name && s.role == m.role)
            .and_then(|s| s.phone.clone());
        out.push(NoticeStaff {
            name: m.name.clone(),
            role: m.role.clone(),
            phone,
        });
    }
    let rank = |role: &str| match role {
        "网格长" => 0,
        "网格员" | "专职网格员" => 1,
        _ => 2,
    };
    out.sort_by_key(|s| rank(&s.role));
    out
}

/// "006" of 350206001017006: the part of a grid's code after its community's code.
fn short_code(grid: &Grid) -> &str {
    grid.code
        .strip_prefix(grid.community_code.as_str())
        .filter(|s| !s.is_empty())
        .unwrap_or(&grid.code)
}

fn grid_label(grid: &Grid, community_name: &str) -> String {
    match &grid.name {
        Some(name) => format!("{community_name}{}网格（{name}）", short_code(grid)),
        None => format!("{community_name}{}网格", short_code(grid)),
    }
}

/// The notices, one per building (units moving together into one grid share one), in the order
/// of the grid they join, then the building.
pub fn notices(
    dataset: &Dataset,
    old: &GridLayer,
    new: &GridLayer,
    staff: &[Staff],
    moves: &[StaffMove],
    effective: EffectiveDate,
) -> Vec<Notice> {
    let d = diff(old, new, Some(dataset));
    let grids = |l: &GridLayer| -> BTreeMap<String, Grid> {
        l.grids
            .iter()
            .filter(|g| g.level == GridLevel::Grid)
            .map(|g| (g.code.clone(), g.clone()))
            .collect()
    };
    let (olds, news) = (grids(old), grids(new));
    let names: BTreeMap<&str, &str> = dataset
        .communities
        .iter()
        .map(|c| (c.code.as_str(), c.name.as_str()))
        .collect();
    let buildings: BTreeMap<&str, &gis_core::Building> = dataset.buildings.iter().map(|b| (b.id.as_str(), b)).collect();
    // (building, from, to) → its members that move that way.
    let mut groups: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    for m in &d.moved_buildings {
        let (Some(from), Some(to)) = (&m.from, &m.to) else {
            continue;
        };
        let id = m.building.split('#').next().unwrap_or(&m.building).to_string();
        groups
            .entry((id, from.clone(), to.clone()))
            .or_default()
            .push(m.building.clone());
    }
    let mut out = Vec::new();
    for ((id, from, to), members) in groups {
        let (Some(grid), Some(was)) = (news.get(&to), olds.get(&from)) else {
            continue;
        };
        let community_name = names
            .get(grid.community_code.as_str())
            .copied()
            .unwrap_or(&grid.community_code);
        let b = buildings.get(id.as_str());
        let units: Vec<String> = members.iter().filter(|m| m.contains('#')).cloned().collect();
        // The whole building moves when it has no units listed, or every unit listed moves here.
        let whole = units.is_empty() || b.is_some_and(|b| b.units.len() == units.len());
        let (mut residents, mut households) = (0, 0);
        if let Some(b) = b {
            if units.is_empty() {
                residents = u64::from(b.population);
                households = u64::from(b.households);
            } else {
                for u in b
                    .units
                    .iter()
                    .filter(|u| units.contains(&format!("{}#{}", b.id, u.name)))
                {
                    residents += u64::from(u.population);
                    households += u64::from(u.households);
                }
            }
        }
        let mut place = b.map_or_else(|| id.clone(), |b| place_name(b, community_name));
        if !whole {
            let names: Vec<&str> = units.iter().filter_map(|u| u.split_once('#').map(|(_, n)| n)).collect();
            place.push_str(&names.join("、"));
        }
        let workers = staff_after(&to, staff, moves);
        let label = grid_label(grid, community_name);
        let from_label = grid_label(
            was,
            names
                .get(was.community_code.as_str())
                .copied()
                .unwrap_or(&was.community_code),
        );
        let text = notice_text(effective, &place, &label, &from_label, &workers);
        out.push(Notice {
            building: id,
            units: if whole { Vec::new() } else { units },
            place,
            address: b.and_then(|b| b.address.clone()),
            residents,
            households,
            from,
            to: to.clone(),
            grid_label: label,
            from_label,
            community: grid.community_code.clone(),
            community_name: community_name.to_string(),
            staff: workers,
            title: "网格调整通知".into(),
            text,
        });
    }
    out.sort_by(|a, b| {
        a.to.cmp(&b.to)
            .then(a.building.cmp(&b.building))
            .then(a.units.cmp(&b.units))
    });
    out
}

/// The building as residents name it: the address after the community's name (湖里区康乐社区
/// 嘉禾公寓1号楼 → 嘉禾公寓1号楼), else the address, else its compound and id, else its id.
fn place_name(b: &gis_core::Building, community_name: &str) -> String {
    if let Some(a) = b.address.as_deref().filter(|a| !a.trim().is_empty()) {
        if !community_name.is_empty()
            && let Some((_, rest)) = a.split_once(community_name)
            && !rest.trim().is_empty()
        {
            return rest.trim().to_string();
        }
        return a.trim().to_string();
    }
    match &b.compound {
        Some(c) if !c.trim().is_empty() => format!("{c}（楼栋编号{}）", b.id),
        _ => format!("楼栋{}", b.id),
    }
}

fn notice_text(
    effective: EffectiveDate,
    place: &str,
    label: &str,
    from_label: &str,
    workers: &[NoticeStaff],
) -> String {
    let mut text = format!("自{}起，{place}由{from_label}划入{label}。", effective.chinese());
    if workers.is_empty() {
        text.push_str("该网格的网格长和网格员尚在安排中，确定后另行通知；其间如有事项，请联系社区居委会。");
        return text;
    }
    let people: Vec<String> = workers
        .iter()
        .map(|w| match w.phone.as_deref().filter(|p| !p.trim().is_empty()) {
            Some(p) => format!("{}{}，电话{}", w.role, w.name, p.trim()),
            None => format!("{}{}（电话待公布）", w.role, w.name),
        })
        .collect();
    text.push_str(&people.join("；"));
    text.push('。');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_real_calendar_days() {
        assert_eq!(EffectiveDate::parse("2026-12-15").unwrap().chinese(), "2026年12月15日");
        assert_eq!(EffectiveDate::parse("2028-02-29").unwrap().iso(), "2028-02-29");
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-5",
            "15.12.2026",
            "2026-12-15-1",
            "",
            "2026-04-31",
        ] {
            assert!(EffectiveDate::parse(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn a_grid_without_staff_is_said_so() {
        let d = EffectiveDate::parse("2026-12-15").unwrap();
        let t = notice_text(d, "金湖家园2号楼", "康乐社区006网格", "康乐社区003网格", &[]);
        assert!(
            t.starts_with("自2026年12月15日起，金湖家园2号楼由康乐社区003网格划入康乐社区006网格。"),
            "{t}"
        );
        assert!(t.contains("尚在安排中"), "{t}");
        let w = [NoticeStaff {
            name: "王小明".into(),
            role: "网格长".into(),
            phone: Some("13800000000".into()),
        }];
        let t = notice_text(d, "金湖家园2号楼", "康乐社区006网格", "康乐社区003网格", &w);
        assert!(t.ends_with("网格长王小明，电话13800000000。"), "{t}");
    }
}
