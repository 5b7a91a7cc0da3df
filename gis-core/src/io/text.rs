//! A file's text. A big file is mapped from the page cache rather than read into a `String`:
//! reading a city's 100 MB of buildings that way copied every byte into fresh memory that the
//! kernel first had to zero, all before the parser could start (BENCHMARKS.md, issue 19).

use memmap2::Mmap;
use std::fs::File;
use std::io::{self, Read};
use std::ops::Deref;
use std::path::Path;

/// Files at least this big are mapped; smaller ones are read, which costs less than a mapping.
const MAP_FROM: u64 = 4 << 20;

/// Text read from a file or held in memory; always valid UTF-8.
pub enum Text {
    Owned(String),
    Mapped(Mmap),
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text::Owned(s)
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Text::Owned(s) => s,
            // SAFETY: `read` checked that the mapped bytes are UTF-8.
            Text::Mapped(m) => unsafe { std::str::from_utf8_unchecked(m) },
        }
    }
}

/// The file's text, with the same errors as `std::fs::read_to_string`.
///
/// A mapped file that another program truncates while it is read would stop this process; the
/// files read here are a dataset or a layer the command was given, which nothing rewrites
/// under it, and a rewrite by rename (as editors and `wangge` itself do) leaves the mapping whole.
pub fn read(path: &Path) -> io::Result<Text> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_file() && meta.len() >= MAP_FROM {
        // SAFETY: see above; the bytes are checked to be UTF-8 before they are used as text.
        let map = unsafe { Mmap::map(&file)? };
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        if std::str::from_utf8(&map).is_err() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            ));
        }
        return Ok(Text::Mapped(map));
    }
    let mut text = String::with_capacity(meta.len() as usize);
    file.read_to_string(&mut text)?;
    Ok(Text::Owned(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_and_small_files_read_the_same_and_bad_utf8_is_an_error_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let big: String = "{\"a\":\"网格\"}\n".repeat((MAP_FROM as usize) / 10);
        for (name, body) in [("small.json", "{\"a\":1}".to_string()), ("big.json", big)] {
            let path = dir.path().join(name);
            std::fs::write(&path, &body).unwrap();
            let text = read(&path).unwrap();
            assert_eq!(&*text, body.as_str());
            assert_eq!(matches!(text, Text::Mapped(_)), body.len() as u64 >= MAP_FROM);
        }
        for len in [10, MAP_FROM as usize + 10] {
            let path = dir.path().join(format!("bad{len}.json"));
            let mut bytes = vec![b' '; len];
            bytes[len / 2] = 0xff;
            std::fs::write(&path, &bytes).unwrap();
            let ours = read(&path).err().unwrap();
            let std = std::fs::read_to_string(&path).unwrap_err();
            assert_eq!((ours.kind(), ours.to_string()), (std.kind(), std.to_string()));
        }
        let std = std::fs::read_to_string(dir.path()).unwrap_err();
        let ours = read(dir.path()).err().unwrap();
        assert_eq!(ours.kind(), std.kind());
        let missing = read(&dir.path().join("none")).err().unwrap();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }
}
