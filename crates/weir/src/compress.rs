//! gzip and zstd: inputs are decompressed in the source layer, detected by their magic bytes
//! whatever their name, so everything after the source sees plain bytes; outputs are compressed
//! on the committer thread, chosen by the output's extension.
//!
//! Crates, chosen by measuring on a 100 MB CSV (one core of the 2-core build machine):
//! `flate2` with the `zlib-rs` backend decompresses gzip at ~615 MB/s (the default
//! `miniz_oxide` backend: ~430 MB/s) and compresses at 247/129/47 MB/s at levels 1/3/6
//! (`miniz_oxide`: 197/68/23). `zstd` (libzstd) decompresses at ~1040 MB/s and compresses at
//! 303/222/77 MB/s at levels 1/3/6. The default levels, gzip 1 and zstd 3, are the ones that
//! still compress at 200+ MB/s, so the committer keeps up with the workers of a small machine;
//! `--compression-level` trades speed for size.

use std::fmt;
use std::io::{self, BufRead, BufReader, Chain, Cursor, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use flate2::bufread::GzDecoder;

use crate::report::Progress;

/// A compression format of an input or output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip (RFC 1952); concatenated members are read as one stream.
    Gzip,
    /// Zstandard; concatenated frames are read as one stream.
    Zstd,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

impl Compression {
    /// The compression a file name asks for: `.gz` is gzip, `.zst` and `.zstd` are zstd
    /// (case-insensitive), anything else none.
    pub fn from_path(path: &Path) -> Compression {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("gz") => Compression::Gzip,
            Some("zst" | "zstd") => Compression::Zstd,
            _ => Compression::None,
        }
    }

    /// The compression the first bytes of a stream show (at least 4 bytes, unless the stream
    /// is shorter).
    pub fn from_magic(head: &[u8]) -> Compression {
        if head.starts_with(&GZIP_MAGIC) {
            Compression::Gzip
        } else if head.starts_with(&ZSTD_MAGIC) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The default level: the fastest that still compresses well (see the module docs).
    pub fn default_level(self) -> i32 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Zstd => 3,
        }
    }

    /// The levels accepted, inclusive.
    pub fn levels(self) -> (i32, i32) {
        match self {
            Compression::None => (0, 0),
            Compression::Gzip => (0, 9),
            Compression::Zstd => (1, 22),
        }
    }

    /// The name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a source's readers count: [`Progress::source_bytes_read`] and
/// [`Progress::source_compressed`].
#[derive(Clone)]
pub(crate) struct SourceCounters {
    bytes: Arc<AtomicU64>,
    compressed: Arc<AtomicBool>,
}

impl SourceCounters {
    pub(crate) fn of(progress: &Progress) -> SourceCounters {
        SourceCounters {
            bytes: progress.source_bytes_read.clone(),
            compressed: progress.source_compressed.clone(),
        }
    }
}

/// Adds to the stored bytes consumed; added, not stored, as a run may read several inputs.
fn count(counters: &Option<SourceCounters>, n: usize) {
    if let Some(c) = counters {
        c.bytes.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// The input with the bytes read to sniff its magic put back in front.
type Sniffed = Chain<Cursor<Vec<u8>>, Box<dyn Read + Send>>;

/// The compressed stream under a decoder: counts the bytes the decoder has consumed (through
/// `BufRead::consume`, so the count is the decoder's position in the compressed stream, not
/// how far the buffer has read ahead) and publishes them as progress.
struct Counted {
    inner: BufReader<Sniffed>,
    consumed: u64,
    progress: Option<SourceCounters>,
    /// Whether reading the compressed stream itself failed (an I/O error, not bad data).
    io_failed: bool,
}

impl Counted {
    fn advance(&mut self, n: usize) {
        self.consumed += n as u64;
        count(&self.progress, n);
    }

    fn note<T>(&mut self, res: io::Result<T>) -> io::Result<T> {
        if res
            .as_ref()
            .is_err_and(|e| e.kind() != io::ErrorKind::Interrupted)
        {
            self.io_failed = true;
        }
        res
    }
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let res = self.inner.read(buf);
        let n = self.note(res)?;
        self.advance(n);
        Ok(n)
    }
}

impl BufRead for Counted {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        // Checked first, then filled: the borrow of the buffer must outlive the note.
        if let Err(e) = self.inner.fill_buf() {
            return self.note(Err(e));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt);
        self.advance(amt);
    }
}

/// Concatenated gzip members, read one after the other as `cat a.gz b.gz` makes them (as
/// flate2's `MultiGzDecoder`, but with an error that says where trailing data that is not a
/// member starts, instead of a header error at wherever the garbage ends).
struct GzMembers {
    /// The member being read; `None` after the last one.
    decoder: Option<GzDecoder<Counted>>,
    /// Where the last complete member ended.
    end: u64,
}

impl GzMembers {
    fn consumed(&self) -> u64 {
        self.decoder
            .as_ref()
            .map_or(self.end, |d| d.get_ref().consumed)
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(decoder) = self.decoder.as_mut() else {
                return Ok(0);
            };
            let n = decoder.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // The member is complete, its checksum verified; another may follow.
            let mut inner = self.decoder.take().expect("a member").into_inner();
            self.end = inner.consumed;
            let next = match inner.fill_buf() {
                Ok(bytes) => bytes.first().copied(),
                Err(e) => {
                    // Kept, so the error is reported as the I/O error it is.
                    self.decoder = Some(GzDecoder::new(inner));
                    return Err(e);
                }
            };
            match next {
                None => return Ok(0),
                // The header parser checks the rest of the magic and the header.
                Some(b) if b == GZIP_MAGIC[0] => self.decoder = Some(GzDecoder::new(inner)),
                Some(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "data after the end of the last gzip member is not gzip",
                    ))
                }
            }
        }
    }
}

enum State {
    /// Not read yet: the magic is sniffed on the first read, so opening a pipe never blocks.
    Pending(Box<dyn Read + Send>),
    Plain(Sniffed),
    Gzip(Box<GzMembers>),
    Zstd(Box<zstd::stream::read::Decoder<'static, Counted>>),
    /// Sniffing failed; the error was returned.
    Failed,
}

/// An input that is decompressed if its first bytes are a gzip or zstd magic number.
pub(crate) struct Decompress {
    state: State,
    /// What the input's name promises (`.gz`, `.zst`); a promise the content breaks is an error.
    named: Compression,
    progress: Option<SourceCounters>,
}

/// Compressed input is read from the source in blocks this large.
const COMPRESSED_BLOCK: usize = 256 << 10;

impl Decompress {
    pub(crate) fn new(
        reader: Box<dyn Read + Send>,
        named: Compression,
        progress: Option<SourceCounters>,
    ) -> Decompress {
        Decompress {
            state: State::Pending(reader),
            named,
            progress,
        }
    }

    /// A reader already known to be plain (a plain input reopened in its middle, whose bytes
    /// there must not be taken for a magic number).
    pub(crate) fn plain(
        reader: Box<dyn Read + Send>,
        progress: Option<SourceCounters>,
    ) -> Decompress {
        Decompress {
            state: State::Plain(Cursor::new(Vec::new()).chain(reader)),
            named: Compression::None,
            progress,
        }
    }

    fn sniff(&mut self, mut reader: Box<dyn Read + Send>) -> io::Result<State> {
        let mut head = vec![0u8; ZSTD_MAGIC.len()];
        let mut len = 0;
        while len < head.len() {
            match reader.read(&mut head[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        head.truncate(len);
        let found = Compression::from_magic(&head);
        if found == Compression::None && self.named != Compression::None {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the name says {} but the content is not {} data (no magic bytes at \
                     compressed byte 0)",
                    self.named, self.named
                ),
            ));
        }
        if let Some(p) = &self.progress {
            p.compressed
                .fetch_or(found != Compression::None, Ordering::Relaxed);
        }
        let sniffed = Cursor::new(head).chain(reader);
        if found == Compression::None {
            return Ok(State::Plain(sniffed));
        }
        let counted = Counted {
            inner: BufReader::with_capacity(COMPRESSED_BLOCK, sniffed),
            consumed: 0,
            progress: self.progress.clone(),
            io_failed: false,
        };
        Ok(match found {
            Compression::Gzip => State::Gzip(Box::new(GzMembers {
                decoder: Some(GzDecoder::new(counted)),
                end: 0,
            })),
            _ => State::Zstd(Box::new(zstd::stream::read::Decoder::with_buffer(counted)?)),
        })
    }

    /// Where the decoder is in the compressed stream.
    fn consumed(&self) -> u64 {
        match &self.state {
            State::Gzip(d) => d.consumed(),
            State::Zstd(d) => d.get_ref().consumed,
            _ => 0,
        }
    }

    /// Whether the last error came from reading the stream, not from decoding it.
    fn io_failed(&self) -> bool {
        match &self.state {
            State::Gzip(d) => d.decoder.as_ref().is_some_and(|d| d.get_ref().io_failed),
            State::Zstd(d) => d.get_ref().io_failed,
            _ => false,
        }
    }
}

impl Read for Decompress {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (res, kind) = match &mut self.state {
            State::Plain(r) => {
                let n = r.read(buf)?;
                count(&self.progress, n);
                return Ok(n);
            }
            State::Gzip(d) => (d.read(buf), Compression::Gzip),
            State::Zstd(d) => (d.read(buf), Compression::Zstd),
            State::Failed => {
                return Err(io::Error::other(
                    "the input failed on its first read and cannot be read on",
                ))
            }
            State::Pending(_) => {
                let State::Pending(reader) = std::mem::replace(&mut self.state, State::Failed)
                else {
                    unreachable!()
                };
                self.state = self.sniff(reader)?;
                return self.read(buf);
            }
        };
        match res {
            Err(e) if e.kind() != io::ErrorKind::Interrupted && !self.io_failed() => {
                // The decoder's errors say what is wrong but not where: add the position.
                Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{kind} input is corrupt or truncated at compressed byte {}: {e}",
                        self.consumed()
                    ),
                ))
            }
            res => res,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn zstd(data: &[u8]) -> Vec<u8> {
        zstd::encode_all(data, 3).unwrap()
    }

    fn read_all(bytes: Vec<u8>, named: Compression) -> (io::Result<Vec<u8>>, Arc<Progress>) {
        let progress = Arc::new(Progress::default());
        let mut d = Decompress::new(
            Box::new(Cursor::new(bytes)),
            named,
            Some(SourceCounters::of(&progress)),
        );
        let mut out = Vec::new();
        let mut buf = [0u8; 1000];
        let res = loop {
            match d.read(&mut buf) {
                Ok(0) => break Ok(out),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => break Err(e),
            }
        };
        (res, progress)
    }

    fn sample() -> Vec<u8> {
        let mut data = Vec::new();
        for i in 0..20_000u32 {
            writeln!(data, "{i},name {},{}", i * 7919 % 1000, i % 13).unwrap();
        }
        data
    }

    #[test]
    fn detects_by_magic_whatever_the_name() {
        let data = sample();
        for (bytes, named) in [
            (gzip(&data), Compression::None),
            (gzip(&data), Compression::Gzip),
            (gzip(&data), Compression::Zstd),
            (zstd(&data), Compression::None),
            (zstd(&data), Compression::Zstd),
            (data.clone(), Compression::None),
        ] {
            let compressed = bytes != data;
            let len = bytes.len() as u64;
            let (res, progress) = read_all(bytes, named);
            assert_eq!(res.unwrap(), data);
            assert_eq!(
                progress.source_compressed.load(Ordering::Relaxed),
                compressed
            );
            assert_eq!(progress.source_bytes_read.load(Ordering::Relaxed), len);
        }
    }

    #[test]
    fn concatenated_members_and_frames_are_one_stream() {
        let mut gz = gzip(b"a,b\n1,2\n");
        gz.extend(gzip(b"3,4\n"));
        assert_eq!(
            read_all(gz, Compression::Gzip).0.unwrap(),
            b"a,b\n1,2\n3,4\n"
        );
        let mut zst = zstd(b"a,b\n1,2\n");
        zst.extend(zstd(b"3,4\n"));
        assert_eq!(
            read_all(zst, Compression::Zstd).0.unwrap(),
            b"a,b\n1,2\n3,4\n"
        );
    }

    #[test]
    fn a_compression_name_without_the_magic_is_an_error() {
        for named in [Compression::Gzip, Compression::Zstd] {
            for bytes in [&b"a,b\n1,2\n"[..], b"", b"\x1f"] {
                let err = read_all(bytes.to_vec(), named).0.unwrap_err();
                let msg = err.to_string();
                assert!(msg.starts_with("the name says"), "{msg}");
                assert!(msg.contains("compressed byte 0"), "{msg}");
            }
        }
        // Short plain inputs are fine.
        assert_eq!(read_all(b"a".to_vec(), Compression::None).0.unwrap(), b"a");
        assert_eq!(read_all(Vec::new(), Compression::None).0.unwrap(), b"");
    }

    /// Reads `bytes`, expecting the corrupt-input error; returns the offset it names.
    fn assert_corrupt(bytes: Vec<u8>, kind: Compression, what: &str) -> u64 {
        let len = bytes.len() as u64;
        let err = match read_all(bytes, kind).0 {
            Ok(_) => panic!("{kind} {what}: read without error"),
            Err(e) => e,
        };
        let msg = err.to_string();
        let prefix = format!("{kind} input is corrupt or truncated at compressed byte ");
        assert!(msg.starts_with(&prefix), "{kind} {what}: {msg}");
        let offset: u64 = msg[prefix.len()..]
            .split(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(offset <= len, "{kind} {what}: offset {offset} past {len}");
        offset
    }

    #[test]
    fn truncated_input_is_an_error_with_the_offset() {
        let data = sample();
        for (kind, bytes) in [
            (Compression::Gzip, gzip(&data)),
            (Compression::Zstd, zstd(&data)),
        ] {
            let len = bytes.len();
            for cut in [5, 10, 18, len / 3, len / 2, len - 9, len - 4, len - 1] {
                assert_corrupt(bytes[..cut].to_vec(), kind, &format!("cut at {cut}"));
            }
        }
    }

    #[test]
    fn a_flipped_byte_is_an_error_with_the_offset() {
        let data = sample();
        for (kind, bytes) in [
            (Compression::Gzip, gzip(&data)),
            (Compression::Zstd, zstd(&data)),
        ] {
            let mut bad = bytes.clone();
            let mid = bad.len() / 2;
            bad[mid] ^= 0x55;
            assert_corrupt(bad, kind, "flipped byte");
        }
    }

    #[test]
    fn garbage_after_a_member_is_an_error_at_its_start() {
        for garbage in [
            &b"not gzip at all\n"[..],
            b"x",
            b"\x1f",
            b"\x1f\x8bjunkjunkjunk",
        ] {
            let mut gz = gzip(&sample());
            let end = gz.len() as u64;
            gz.extend_from_slice(garbage);
            let at = assert_corrupt(gz, Compression::Gzip, "trailing garbage");
            if garbage[0] != 0x1f {
                assert_eq!(at, end, "{garbage:?}");
            }
        }
        let mut zst = zstd(&sample());
        zst.extend_from_slice(b"not zstd at all\n");
        assert_corrupt(zst, Compression::Zstd, "trailing garbage");
    }

    /// A reader that gives `bytes`, then fails.
    struct FailingAfter(Cursor<Vec<u8>>);

    impl Read for FailingAfter {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.read(buf)? {
                0 => Err(io::Error::other("disk on fire")),
                n => Ok(n),
            }
        }
    }

    #[test]
    fn an_io_error_under_the_decoder_is_not_called_corruption() {
        let (gz, zst) = (gzip(&sample()), zstd(&sample()));
        // Failing inside a member or frame, and right after a complete gzip member.
        for half in [
            gz[..gz.len() / 2].to_vec(),
            zst[..zst.len() / 2].to_vec(),
            gz,
        ] {
            let mut d = Decompress::new(
                Box::new(FailingAfter(Cursor::new(half))),
                Compression::None,
                None,
            );
            let err = io::copy(&mut d, &mut io::sink()).unwrap_err();
            assert_eq!(err.to_string(), "disk on fire");
        }
    }

    #[test]
    fn an_empty_member_is_read_past() {
        let mut gz = gzip(b"");
        gz.extend(gzip(b"a\n"));
        gz.extend(gzip(b""));
        assert_eq!(read_all(gz, Compression::Gzip).0.unwrap(), b"a\n");
    }

    #[test]
    fn names_and_magic() {
        assert_eq!(
            Compression::from_path(Path::new("a.csv.gz")),
            Compression::Gzip
        );
        assert_eq!(
            Compression::from_path(Path::new("a.CSV.ZST")),
            Compression::Zstd
        );
        assert_eq!(
            Compression::from_path(Path::new("a.zstd")),
            Compression::Zstd
        );
        assert_eq!(
            Compression::from_path(Path::new("a.csv")),
            Compression::None
        );
        assert_eq!(
            Compression::from_magic(&[0x1f, 0x8b, 8, 0]),
            Compression::Gzip
        );
        assert_eq!(Compression::from_magic(&ZSTD_MAGIC), Compression::Zstd);
        assert_eq!(Compression::from_magic(&[0x1f]), Compression::None);
    }
}
