//! The printed grid map's table and legend, and the building placard's QR code.
//!
//! - Every grid of a community is listed with its workers and their phones, an exclusive grid
//!   with its institution's name; a community of many grids continues the table beside the
//!   legend and then on further pages, never cutting it short.
//! - The legend lists only what the map draws.
//! - A placard's QR code reads back, with an independent decoder (rqrr), as its link.

use crate::common::{map, root};
use gis_core::bounds::{SizeBasis, SizeBounds};
use gis_core::model::Staff;
use gis_core::partition::{PartitionOptions, partition};
use std::collections::BTreeMap;
use tiles::data::MapData;
use tiles::labels;
use tiles::print::{PrintOptions, Printed, print};

/// Every grid of `community` in the table, once, with each of its workers' name and phone, and
/// nothing cut short; entries apart and on their page.
fn check_table(what: &str, printed: &Printed, grids: &[gis_core::grid::Grid], community: &str, staff: &[Staff]) {
    let mine: Vec<&gis_core::grid::Grid> = grids
        .iter()
        .filter(|g| g.level == gis_core::grid::GridLevel::Grid && g.community_code == community)
        .collect();
    let listed: Vec<&str> = printed.table.iter().map(|e| e.code.as_str()).collect();
    let mut want: Vec<&str> = mine.iter().map(|g| g.code.as_str()).collect();
    want.sort_unstable();
    assert_eq!(listed, want, "{what}: every grid listed once, in code order");
    for e in &printed.table {
        let text = e.lines.join("\n");
        assert!(!text.contains('…'), "{what}: {} cut short: {text}", e.code);
        let workers: Vec<&Staff> = staff.iter().filter(|s| s.grid == e.code).collect();
        assert_eq!(e.workers, workers.len(), "{what}: {}", e.code);
        for s in workers {
            assert!(text.contains(&s.name), "{what}: {} lacks {}: {text}", e.code, s.name);
            if let Some(phone) = &s.phone {
                assert!(
                    text.contains(phone.as_str()),
                    "{what}: {} lacks {phone}: {text}",
                    e.code
                );
            }
        }
        let g = mine.iter().find(|g| g.code == e.code).unwrap();
        if let Some(name) = &g.name {
            assert!(
                text.contains(name.as_str()),
                "{what}: exclusive {} lacks {name}: {text}",
                e.code
            );
        }
        let (w, h) = (
            printed.pages[e.page].width() as f32,
            printed.pages[e.page].height() as f32,
        );
        assert!(
            e.bbox[0] >= 0.0 && e.bbox[1] >= 0.0 && e.bbox[2] <= w && e.bbox[3] <= h,
            "{what}: {} off its page: {:?}",
            e.code,
            e.bbox
        );
    }
    for (i, a) in printed.table.iter().enumerate() {
        for b in &printed.table[i + 1..] {
            assert!(
                a.page != b.page || !labels::overlap(&a.bbox, &b.bbox),
                "{what}: {} overlaps {}",
                a.code,
                b.code
            );
        }
    }
    // The map's own labels stay in the map's frame, clear of the table.
    for p in &printed.placed {
        for bx in &p.boxes {
            for e in printed.table.iter().filter(|e| e.page == 0) {
                assert!(
                    !labels::overlap(bx, &e.bbox),
                    "{what}: {} {:?} on the table",
                    p.kind,
                    p.text
                );
            }
        }
    }
}

fn save(printed: &Printed, name: &str) {
    if let Some(dir) = std::env::var_os("WANGGE_TILE_OUT").map(std::path::PathBuf::from) {
        std::fs::write(dir.join(name), printed.png()).unwrap();
    }
}

#[test]
fn kangle_lists_every_grid_with_its_workers_and_the_legend_only_what_is_drawn() {
    let cjk = tiles::text::has_cjk();
    for micro in [false, true] {
        let (d, grids, m) = map("kangle", micro);
        let opts = PrintOptions::a3("2026-01-01".into())
            .with_staff(d.staff.clone())
            .with_version(Some(3));
        let printed = print(&m, "350206001017", &opts).unwrap();
        assert_eq!(printed.pages.len(), 1, "Kangle's seven grids fit beside the map");
        let columns: std::collections::BTreeSet<u32> = printed.table.iter().map(|e| e.bbox[0] as u32).collect();
        assert_eq!(columns.len(), 1, "in one column under the legend");
        check_table("kangle", &printed, &grids, "350206001017", &d.staff);
        assert!(
            printed.table.iter().any(|e| e.workers > 0),
            "the fixture's staff.json is listed"
        );
        if cjk {
            assert_eq!(
                printed.legend.iter().any(|l| l == "微网格"),
                micro,
                "micro-grids in the legend: {:?}",
                printed.legend
            );
            for said in ["社区边界", "网格边界", "道路", "建筑"] {
                assert!(
                    printed.legend.iter().any(|l| l == said),
                    "{said} in {:?}",
                    printed.legend
                );
            }
            // Every icon kind drawn has its entry, and no other kind does.
            let mut drawn: Vec<&str> = printed
                .placed
                .iter()
                .filter(|p| p.kind == "icon")
                .map(|p| tiles::print::kind_name(&p.text).0)
                .collect();
            drawn.sort_unstable();
            drawn.dedup();
            let kinds: Vec<&str> = gis_core::Resource::KNOWN_KINDS
                .iter()
                .map(|k| tiles::print::kind_name(k).0)
                .chain(["其他"])
                .collect();
            let mut listed: Vec<&str> = printed
                .legend
                .iter()
                .map(String::as_str)
                .filter(|l| kinds.contains(l))
                .collect();
            listed.sort_unstable();
            assert_eq!(listed, drawn, "the legend's kinds are the icons drawn");
        }
        save(
            &printed,
            if micro {
                "print-kangle-micro.png"
            } else {
                "print-kangle.png"
            },
        );
    }
}

#[test]
fn a_community_of_many_grids_continues_the_table_and_cuts_nothing() {
    // Zhongjing in grids of 250–400 residents: its largest community has over forty, each
    // with a leader and two workers, too many for the column under the legend.
    let d = gis_core::io::load_dataset(&root().join("fixtures/zhongjing"))
        .expect("fixture")
        .dataset;
    let bounds = SizeBounds::new(250, 400, SizeBasis::Residents).unwrap();
    let options = PartitionOptions {
        bounds,
        ..PartitionOptions::default()
    };
    let grids = partition(&d, &options, &mut |_, _| {}).grids;
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for g in &grids {
        *per.entry(g.community_code.as_str()).or_default() += 1;
    }
    let (community, n) = per
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(c, n)| (c.to_string(), *n))
        .unwrap();
    eprintln!("{community}: {n} grids");
    assert!(n >= 40, "{n} grids");
    let surnames = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
    let staff: Vec<Staff> = grids
        .iter()
        .enumerate()
        .flat_map(|(i, g)| {
            ["网格长", "网格员", "网格员"]
                .into_iter()
                .enumerate()
                .map(move |(k, role)| Staff {
                    grid: g.code.clone(),
                    name: format!("{}{}号{}", surnames[(i + k) % surnames.len()], i, ["甲", "乙", "丙"][k]),
                    role: role.into(),
                    phone: Some(format!("139{:04}{:04}", i, k)),
                })
        })
        .collect();
    let m = MapData::new(&d, &grids, bounds);
    let opts = PrintOptions::a3("2026-01-01".into()).with_staff(staff.clone());
    let printed = print(&m, &community, &opts).unwrap();
    check_table("zhongjing", &printed, &grids, &community, &staff);
    assert!(printed.pages.len() >= 2, "{} pages", printed.pages.len());
    // The map's page holds two columns of the table before the continuation.
    let columns_on_map: std::collections::BTreeSet<u32> = printed
        .table
        .iter()
        .filter(|e| e.page == 0)
        .map(|e| e.bbox[0] as u32)
        .collect();
    assert_eq!(columns_on_map.len(), 2, "two columns beside the map");
    let png = printed.png();
    let decoded = image::load_from_memory(&png).unwrap();
    assert_eq!(
        decoded.height(),
        1754 * printed.pages.len() as u32,
        "the pages one under the other"
    );
    let pdf = printed.pdf();
    assert!(pdf.starts_with(b"%PDF"));
    let count = |needle: &[u8]| pdf.windows(needle.len()).filter(|w| *w == needle).count();
    assert_eq!(
        count(b"/Type /Page") - count(b"/Type /Pages"),
        printed.pages.len(),
        "one PDF page per page"
    );
    save(&printed, "print-zhongjing-many-grids.png");
}

fn placard(link: &str) -> tiles::placard::Placard {
    tiles::placard::Placard {
        building: "KL-B0003".into(),
        address: "嘉禾公寓3号楼".into(),
        full_address: Some("湖里区康乐社区嘉禾公寓3号楼".into()),
        community_name: "康乐社区".into(),
        community_code: "350206001017".into(),
        grid_code: "350206001017003".into(),
        exclusive: false,
        grid_name: None,
        micro_code: Some("35020600101700301".into()),
        staff: vec![
            ("网格长".into(), "杨晓秀".into(), Some("15968797556".into())),
            ("网格员".into(), "王芳".into(), None),
        ],
        nearby: vec![tiles::placard::NearbyService {
            kind: "clinic".into(),
            name: "康乐社区卫生服务站".into(),
            distance: tiles::placard::Distance::Walk {
                metres: 412.0,
                minutes: 5.2,
            },
        }],
        link: link.into(),
        version: Some(4),
        date: "2026-12-05".into(),
    }
}

#[test]
fn a_placards_qr_code_reads_back_as_its_link() {
    let link = "https://wangge.example.cn/b/KL-B0003";
    let made = tiles::placard::render(&placard(link));
    if !tiles::text::has_cjk() {
        assert!(matches!(made, Err(tiles::placard::PlacardError::NoCjkFont)));
        eprintln!("SKIPPED: no CJK font, so no placard to read");
        return;
    }
    let pm = made.unwrap();
    assert_eq!((pm.width(), pm.height()), (1240, 1754));
    let (w, h) = (pm.width() as usize, pm.height() as usize);
    let data = pm.data();
    // Luminance of the opaque page.
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        let p = &data[(y * w + x) * 4..][..3];
        ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000) as u8
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the placard");
    let (_, content) = grids[0].decode().expect("the code decodes");
    assert_eq!(content, link);
    if let Some(dir) = std::env::var_os("WANGGE_TILE_OUT").map(std::path::PathBuf::from) {
        pm.save_png(dir.join("placard.png")).unwrap();
    }
    let pdf = tiles::placard::render_pdf(&[placard(link), placard(link)]).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
}
