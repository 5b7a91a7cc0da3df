//! One calm, legible palette, shared by the raster tiles, the printed map and the MapLibre style:
//! warm paper ground, muted fills that say under / inside / over the bounds without shouting, dark
//! slate lines and labels.

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    pub fn skia(self, alpha: f32) -> tiny_skia::Color {
        tiny_skia::Color::from_rgba8(self.0, self.1, self.2, (alpha.clamp(0.0, 1.0) * 255.0).round() as u8)
    }
}

pub const BACKGROUND: Rgb = Rgb(0xf5, 0xf3, 0xee);
pub const WATER: Rgb = Rgb(0xb3, 0xd1, 0xe6);
/// Rivers, canals and streams drawn as lines: a shade deeper than water areas.
pub const WATERWAY: Rgb = Rgb(0x8d, 0xb8, 0xd8);
/// Parks, gardens, woods and grass.
pub const GREEN: Rgb = Rgb(0xbf, 0xdc, 0xa8);
/// Residents counted by point (城中村): a warm dot that no grid colour is.
pub const POPULATION_POINT: Rgb = Rgb(0xb5, 0x4a, 0x2c);
pub const COMMUNITY_LINE: Rgb = Rgb(0x3b, 0x48, 0x5a);
pub const GRID_LINE: Rgb = Rgb(0x4f, 0x5f, 0x73);
pub const MICRO_LINE: Rgb = Rgb(0x8c, 0x98, 0xa8);
pub const UNDER: Rgb = Rgb(0x9e, 0xc1, 0xe0);
pub const INSIDE: Rgb = Rgb(0xa8, 0xd3, 0xa6);
pub const OVER: Rgb = Rgb(0xee, 0xa9, 0x8f);
pub const EXCLUSIVE: Rgb = Rgb(0xc9, 0xbd, 0xe2);
pub const BUILDING: Rgb = Rgb(0xdc, 0xd5, 0xc6);
pub const BUILDING_LINE: Rgb = Rgb(0xb3, 0xa9, 0x95);
pub const ROAD: Rgb = Rgb(0xff, 0xff, 0xff);
pub const ROAD_CASING: Rgb = Rgb(0xcf, 0xc8, 0xb9);
pub const TEXT: Rgb = Rgb(0x25, 0x30, 0x3d);
pub const HALO: Rgb = Rgb(0xff, 0xff, 0xff);
/// Road names, compound (小区) names and building numbers (楼号): quieter than grid labels.
pub const ROAD_TEXT: Rgb = Rgb(0x55, 0x5d, 0x68);
pub const COMPOUND_TEXT: Rgb = Rgb(0x6b, 0x55, 0x35);
pub const BUILDING_TEXT: Rgb = Rgb(0x7d, 0x74, 0x66);
/// Density ramp, few to many residents per km².
pub const DENSITY: [Rgb; 5] = [
    Rgb(0xfe, 0xf0, 0xd9),
    Rgb(0xfd, 0xcc, 0x8a),
    Rgb(0xfc, 0x8d, 0x59),
    Rgb(0xe3, 0x4a, 0x33),
    Rgb(0xb3, 0x00, 0x00),
];
/// Residents per km² where each density colour starts.
pub const DENSITY_STOPS: [f64; 5] = [0.0, 5_000.0, 15_000.0, 30_000.0, 60_000.0];
/// The residents' map colours neighbouring grids apart (`colouring`): six calm fills of one
/// lightness — apricot, teal, sand, lavender, rose, orchid — that read apart under the grid lines
/// and labels without any one of them looking like a warning. No sky blue and no sage: under
/// the fill's opacity they came out as the water's and the parks' colours, and a resident took a
/// grid for a lake.
pub const GRID_COLOURS: [Rgb; 6] = [
    Rgb(0xf4, 0xb4, 0x86),
    Rgb(0x8f, 0xcf, 0xc6),
    Rgb(0xee, 0xcd, 0x8e),
    Rgb(0xc9, 0xbd, 0xe2),
    Rgb(0xe8, 0xb0, 0xbf),
    Rgb(0xdc, 0xa6, 0xdc),
];

/// The residents' fill of a grid by its `colour` index.
pub fn grid_colour(index: u64) -> Rgb {
    GRID_COLOURS[(index % GRID_COLOURS.len() as u64) as usize]
}

/// Fill opacity of grids.
pub const GRID_FILL_OPACITY: f32 = 0.55;

/// The fill of a grid by its status (`under`, `inside`, `over`, `exclusive`).
pub fn grid_fill(status: &str) -> Rgb {
    match status {
        "under" => UNDER,
        "over" => OVER,
        "exclusive" => EXCLUSIVE,
        _ => INSIDE,
    }
}

pub fn density(per_km2: f64) -> Rgb {
    let i = DENSITY_STOPS.iter().rposition(|&s| per_km2 >= s).unwrap_or(0);
    DENSITY[i]
}
