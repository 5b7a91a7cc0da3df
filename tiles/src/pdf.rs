//! Pages drawn as pictures, written as one PDF (`pdf-writer`): each page a Flate-compressed RGB
//! image filling its media box. The residents' notices, the printed map and the building
//! placards print the same as their PNGs; embedding and subsetting a CJK font for selectable
//! text was not worth its weight here.

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect as PdfRect, Ref};
use tiny_skia::Pixmap;

/// A4 portrait in PDF points.
pub const A4_PORTRAIT: (f32, f32) = (595.28, 841.89);
/// A3 landscape in PDF points.
pub const A3_LANDSCAPE: (f32, f32) = (1190.55, 841.89);

/// One PDF of `count` pages, each stretched over a `size` (points) media box. `page(i)` draws
/// page `i`; pages are drawn and compressed in parallel, and only their compressed pictures are
/// kept (a few hundred kB each, not the 9 MB of an A4 pixmap).
pub fn pages<E: Send>(
    count: usize,
    size: (f32, f32),
    page: impl Fn(usize) -> Result<Pixmap, E> + Sync,
) -> Result<Vec<u8>, E> {
    use rayon::prelude::*;
    let pictures: Vec<(u32, u32, Vec<u8>)> = (0..count)
        .into_par_iter()
        .map(|i| {
            let pm = page(i)?;
            // The pages are opaque (white under everything): their RGB is all there is.
            let mut rgb = Vec::with_capacity(pm.data().len() / 4 * 3);
            for px in pm.data().chunks_exact(4) {
                rgb.extend_from_slice(&px[..3]);
            }
            Ok((
                pm.width(),
                pm.height(),
                miniz_oxide::deflate::compress_to_vec_zlib(&rgb, 6),
            ))
        })
        .collect::<Result<_, E>>()?;
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let ids: Vec<(Ref, Ref, Ref)> = (0..count as i32)
        .map(|i| (Ref::new(3 + 3 * i), Ref::new(4 + 3 * i), Ref::new(5 + 3 * i)))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(ids.iter().map(|(page, _, _)| *page))
        .count(count as i32);
    let name = Name(b"Im1");
    let media = PdfRect::new(0.0, 0.0, size.0, size.1);
    for ((width, height, packed), &(page_id, image_id, content_id)) in pictures.iter().zip(&ids) {
        let mut page = pdf.page(page_id);
        page.media_box(media);
        page.parent(tree);
        page.contents(content_id);
        page.resources().x_objects().pair(name, image_id);
        page.finish();
        let mut image = pdf.image_xobject(image_id, packed);
        image.filter(Filter::FlateDecode);
        image.width(*width as i32);
        image.height(*height as i32);
        image.color_space().device_rgb();
        image.bits_per_component(8);
        image.finish();
        let mut content = Content::new();
        content.save_state();
        content.transform([size.0, 0.0, 0.0, size.1, 0.0, 0.0]);
        content.x_object(name);
        content.restore_state();
        pdf.stream(content_id, &content.finish());
    }
    Ok(pdf.finish())
}
