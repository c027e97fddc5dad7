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
#[non_exhaustive]
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

/// Whether `head` starts with a zstd skippable frame's magic (0x184D2A50 to 0x184D2A5F, little
/// endian): metadata a zstd stream may begin with (`zstd -dc` reads past it). LZ4 frames use
/// the same skippable frames, so what follows them decides.
fn skippable(head: &[u8]) -> bool {
    head.len() >= 4 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18]
}

const DECOMPRESS: &str = "weir reads plain, gzip and zstd input: decompress it first";
const TO_UTF8: &str = "weir reads UTF-8 text: convert it first (e.g. iconv -f UTF-16 -t UTF-8)";

/// A format weir cannot read that the first bytes of an input show (checked on the first 4
/// bytes of the stored input and again on the first 256 decoded ones, where the magic numbers
/// that text could begin with are followed by what text cannot hold): other compressors, archives, Parquet, and text in UTF-16 or UTF-32 (by their byte
/// order marks), as what it is and what to do. Every reader of input bytes refuses these
/// instead of taking their bytes for text.
pub(crate) fn unreadable(head: &[u8]) -> Option<(&'static str, &'static str)> {
    const KNOWN: [(&[u8], &str, &str); 10] = [
        (
            b"\xfd7zXZ\0",
            "xz-compressed data (magic FD 37 7A 58 5A 00)",
            DECOMPRESS,
        ),
        (
            b"\x04\x22\x4d\x18",
            "LZ4-compressed data (magic 04 22 4D 18)",
            DECOMPRESS,
        ),
        (
            b"\x02\x21\x4c\x18",
            "LZ4-compressed data (legacy magic 02 21 4C 18)",
            DECOMPRESS,
        ),
        (
            b"PK\x03\x04",
            "a zip archive (magic PK 03 04)",
            "extract it first",
        ),
        (
            b"PK\x05\x06",
            "an empty zip archive (magic PK 05 06)",
            "extract it first",
        ),
        // "PAR1" could begin a line of text; a Parquet file's first page header (a Thrift
        // struct whose first field is an i32) follows it.
        (
            b"PAR1\x15",
            "a Parquet file (magic PAR1)",
            "weir reads CSV, TSV, JSON Lines and lines (Parquet only as output)",
        ),
        (
            b"\xff\xfe\0\0",
            "UTF-32LE text (byte order mark FF FE 00 00)",
            TO_UTF8,
        ),
        (
            b"\0\0\xfe\xff",
            "UTF-32BE text (byte order mark 00 00 FE FF)",
            TO_UTF8,
        ),
        (
            b"\xff\xfe",
            "UTF-16LE text (byte order mark FF FE)",
            TO_UTF8,
        ),
        (
            b"\xfe\xff",
            "UTF-16BE text (byte order mark FE FF)",
            TO_UTF8,
        ),
    ];
    // "BZh1" could begin a line of text: the block (or end-of-stream) magic after it cannot.
    let bzip2 = head.len() >= 10
        && head.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && [
            &b"\x31\x41\x59\x26\x53\x59"[..],
            b"\x17\x72\x45\x38\x50\x90",
        ]
        .contains(&&head[4..10]);
    if bzip2 {
        return Some(("bzip2-compressed data (magic BZh)", DECOMPRESS));
    }
    KNOWN
        .iter()
        .find(|(magic, _, _)| head.starts_with(magic))
        .map(|&(_, what, advice)| (what, advice))
}

/// How many decoded bytes [`nul_text`] looks at.
const TEXT_CHECK: usize = 256;

/// Text in UTF-16 or UTF-32 without a byte order mark, as its NUL bytes show in the first
/// decoded bytes (at least 8): ASCII in UTF-16LE has a NUL in every odd position and none in
/// the even ones. Only such a strong pattern counts; a stray NUL in text does not.
pub(crate) fn nul_text(head: &[u8]) -> Option<&'static str> {
    let n = head.len().min(TEXT_CHECK) & !3;
    if n < 8 {
        return None;
    }
    let mut nuls = [0usize; 4];
    for (i, &b) in head[..n].iter().enumerate() {
        nuls[i % 4] += usize::from(b == 0);
    }
    let slots = n / 4;
    let (mostly, rarely) = (|c: usize| c * 4 >= slots * 3, |c: usize| c * 4 <= slots);
    if rarely(nuls[0]) && mostly(nuls[1]) && mostly(nuls[2]) && mostly(nuls[3]) {
        return Some("UTF-32LE text without a byte order mark (3 of every 4 bytes are NUL)");
    }
    if mostly(nuls[0]) && mostly(nuls[1]) && mostly(nuls[2]) && rarely(nuls[3]) {
        return Some("UTF-32BE text without a byte order mark (3 of every 4 bytes are NUL)");
    }
    let (even, odd) = (nuls[0] + nuls[2], nuls[1] + nuls[3]);
    let half = n / 2;
    let (mostly, rarely) = (|c: usize| c * 4 >= half * 3, |c: usize| c * 4 <= half);
    if rarely(even) && mostly(odd) {
        return Some("UTF-16LE text without a byte order mark (every second byte is NUL)");
    }
    if mostly(even) && rarely(odd) {
        return Some("UTF-16BE text without a byte order mark (every second byte is NUL)");
    }
    None
}

/// Refuses the first bytes of an input (up to 256) in a format weir cannot read: see
/// [`unreadable`] and [`nul_text`].
pub(crate) fn check_text_head(head: &[u8]) -> io::Result<()> {
    if let Some((what, advice)) = unreadable(head) {
        return Err(refusal(what, advice));
    }
    match nul_text(head) {
        Some(what) => Err(refusal(what, TO_UTF8)),
        None => Ok(()),
    }
}

/// The error for input whose content is `what`.
fn refusal(what: &str, advice: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("the content is {what}, which weir cannot read; {advice}"),
    )
}

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
        } else if head.starts_with(&ZSTD_MAGIC) || skippable(head) {
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

/// Up to the first 4 bytes of `reader` (fewer only at its end).
fn read_head(reader: &mut dyn Read) -> io::Result<Vec<u8>> {
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
    Ok(head)
}

/// A skippable frame that ends before its announced size.
fn truncated_skippable(at: u64, e: io::Error) -> io::Error {
    if e.kind() != io::ErrorKind::UnexpectedEof {
        return e;
    }
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("zstd input is corrupt or truncated at compressed byte {at}: a skippable frame ends early"),
    )
}

/// An input that is decompressed if its first bytes are a gzip or zstd magic number.
pub(crate) struct Decompress {
    state: State,
    /// What the input's name promises (`.gz`, `.zst`); a promise the content breaks is an error.
    named: Compression,
    progress: Option<SourceCounters>,
    /// The first decoded bytes, gathered until [`nul_text`] and [`unreadable`] have looked at
    /// them (`None` after, or for a stream read from its middle).
    text_head: Option<Vec<u8>>,
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
            text_head: Some(Vec::new()),
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
            text_head: None,
        }
    }

    fn sniff(&mut self, mut reader: Box<dyn Read + Send>) -> io::Result<State> {
        let mut head = read_head(&mut reader)?;
        if let Some((what, advice)) = unreadable(&head) {
            return Err(refusal(what, advice));
        }
        // Skippable frames carry no data: read past them (counted as consumed), and let the
        // frame after them say what the stream is.
        let mut skipped = 0u64;
        while skippable(&head) {
            let mut size = [0u8; 4];
            reader
                .read_exact(&mut size)
                .map_err(|e| truncated_skippable(skipped, e))?;
            let size = u64::from(u32::from_le_bytes(size));
            let n = io::copy(&mut (&mut reader).take(size), &mut io::sink())?;
            if n < size {
                return Err(truncated_skippable(
                    skipped,
                    io::ErrorKind::UnexpectedEof.into(),
                ));
            }
            skipped += 8 + size;
            count(&self.progress, 8 + size as usize);
            head = read_head(&mut reader)?;
            if !head.is_empty() && !head.starts_with(&ZSTD_MAGIC) && !skippable(&head) {
                let what = unreadable(&head).map_or("not a zstd frame", |(what, _)| what);
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "the data after the zstd skippable frame(s) at compressed byte \
                         {skipped} is {what}, which weir cannot read"
                    ),
                ));
            }
        }
        let found = if skipped > 0 {
            Compression::Zstd
        } else {
            Compression::from_magic(&head)
        };
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
        // Nothing but skippable frames is an empty stream, as `zstd -dc` reads it.
        let empty = head.is_empty();
        let sniffed = Cursor::new(head).chain(reader);
        if found == Compression::None || empty {
            return Ok(State::Plain(sniffed));
        }
        let counted = Counted {
            inner: BufReader::with_capacity(COMPRESSED_BLOCK, sniffed),
            consumed: skipped,
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
        let n = self.read_decoded(buf)?;
        if let Some(head) = &mut self.text_head {
            let take = n.min(TEXT_CHECK - head.len());
            head.extend_from_slice(&buf[..take]);
            if head.len() == TEXT_CHECK || n == 0 {
                // The decoded text's first bytes, checked before any of them can be taken for
                // records (the run fails before it commits anything it read).
                let head = self.text_head.take().expect("checked above");
                check_text_head(&head)?;
            }
        }
        Ok(n)
    }
}

impl Decompress {
    fn read_decoded(&mut self, buf: &mut [u8]) -> io::Result<usize> {
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
                return self.read_decoded(buf);
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
    fn formats_weir_cannot_read_are_refused_by_name_and_text_that_looks_alike_is_not() {
        let refused = |bytes: &[u8]| read_all(bytes.to_vec(), Compression::None).0.unwrap_err();
        for (bytes, what) in [
            (&b"\xfd7zXZ\0\0\x04"[..], "xz-compressed"),
            (b"BZh91AY&SY\x01\x02", "bzip2-compressed"),
            (b"\x04\x22\x4d\x18\x64\x40", "LZ4-compressed"),
            (b"PK\x03\x04\x14\0", "a zip archive"),
            (b"PAR1\x15\x04\x15", "a Parquet file"),
            (b"\xff\xfea\0,\0b\0", "UTF-16LE text (byte order mark"),
            (
                b"a\x00,\x00b\x00\n\x001\x00,\x002\x00\n\x00",
                "UTF-16LE text without",
            ),
            (
                b"\x00a\x00,\x00b\x00\n\x001\x00,\x002\x00\n",
                "UTF-16BE text without",
            ),
            (b"a\0\0\0,\0\0\0b\0\0\0\n\0\0\0", "UTF-32LE text without"),
        ] {
            let err = refused(bytes);
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            assert!(
                err.to_string()
                    .starts_with(&format!("the content is {what}")),
                "{err}"
            );
        }
        for text in [
            &b"PAR1,BZh9\n1,2\n"[..],
            b"BZh1 is a line of text\n",
            b"a,b\n1,\0\n2,3\n4,5\n6,7\n",
            b"PK",
            b"",
        ] {
            assert_eq!(read_all(text.to_vec(), Compression::None).0.unwrap(), text);
        }
    }

    #[test]
    fn skippable_frames_are_read_past_and_what_follows_them_decides() {
        let frame = |meta: &[u8]| {
            let mut f = vec![0x5e, 0x2a, 0x4d, 0x18];
            f.extend_from_slice(&(meta.len() as u32).to_le_bytes());
            f.extend_from_slice(meta);
            f
        };
        let mut zst = frame(b"meta");
        zst.extend(frame(b""));
        zst.extend(zstd(b"a,b\n"));
        assert_eq!(Compression::from_magic(&zst), Compression::Zstd);
        let len = zst.len() as u64;
        let (res, progress) = read_all(zst, Compression::None);
        assert_eq!(res.unwrap(), b"a,b\n");
        assert_eq!(progress.source_bytes_read.load(Ordering::Relaxed), len);
        // Corruption after the skippable frames is said at its file offset.
        let mut zst = frame(b"meta");
        let mut bad = zstd(&sample());
        let mid = bad.len() / 2;
        bad[mid] ^= 0x55;
        zst.extend(bad);
        assert!(assert_corrupt(zst, Compression::Zstd, "after a skippable frame") >= 12);
        // LZ4 behind a skippable frame is LZ4.
        let mut lz4 = frame(b"");
        lz4.extend_from_slice(b"\x04\x22\x4d\x18\x64\x40");
        let err = read_all(lz4, Compression::None).0.unwrap_err().to_string();
        assert!(
            err.contains("at compressed byte 8 is LZ4-compressed data"),
            "{err}"
        );
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
