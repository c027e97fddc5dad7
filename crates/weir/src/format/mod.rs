//! Formats: what a record is, how it is decoded from a chunk and encoded to output bytes.
//!
//! A [`Record`](crate::Record) is a row of fields. Decoding never copies a field that needs no unescaping: a
//! field is a span of the chunk, or of the record's small arena when it was unescaped or set by
//! a transform. A record that no transform changed, and whose input bytes are already what the
//! encoder would write, is copied to the output as its raw bytes.

pub(crate) mod csv;
pub(crate) mod encode;
pub(crate) mod jsonl;
pub(crate) mod lines;
pub(crate) mod parquet;
pub(crate) mod skim;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::split::Framing;

/// The record formats weir reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Format {
    /// Comma-separated values (RFC 4180, with the configured delimiter and quote).
    Csv,
    /// Tab-separated values: CSV with a tab delimiter.
    Tsv,
    /// JSON Lines: one JSON object per line; its keys are the columns.
    Jsonl,
    /// Plain lines: one record per line, one column named `line`.
    Lines,
    /// Apache Parquet; an output format only.
    Parquet,
}

impl Format {
    /// The format a file name suggests (`.csv`, `.tsv`/`.tab`, `.jsonl`/`.ndjson`, `.txt`/`.log`),
    /// looking past a compression extension (`out.jsonl.gz` is JSON Lines).
    pub fn from_path(path: &str) -> Option<Format> {
        let lower = path.to_ascii_lowercase();
        let mut exts = lower.rsplit('.');
        let mut ext = exts.next()?;
        if matches!(ext, "gz" | "gzip" | "zst" | "zstd") {
            ext = exts.next()?;
        }
        match ext {
            "csv" => Some(Format::Csv),
            "tsv" | "tab" => Some(Format::Tsv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "txt" | "log" | "lines" => Some(Format::Lines),
            "parquet" => Some(Format::Parquet),
            _ => None,
        }
    }

    /// The file extension of an output in this format (`lines` are `txt`).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Lines => "txt",
            other => other.name(),
        }
    }

    /// Whether each record names its columns (JSON keys, Parquet fields), so the output's
    /// column names must be distinct and valid text.
    pub fn names_columns(self) -> bool {
        matches!(self, Format::Jsonl | Format::Parquet)
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Jsonl => "jsonl",
            Format::Lines => "lines",
            Format::Parquet => "parquet",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "tsv" => Ok(Format::Tsv),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            "lines" => Ok(Format::Lines),
            "parquet" => Ok(Format::Parquet),
            other => Err(format!(
                "unknown format '{other}' (expected csv, tsv, jsonl, lines or parquet)"
            )),
        }
    }
}

/// What to do with a ragged record: a CSV/TSV record whose field count differs from the
/// header's, or a JSON Lines object whose keys differ from the first record's.
///
/// `Pad` and `Truncate` each fix one direction and reject the other; `PadTruncate` fixes
/// both; `Keep` passes the record on with the fields it has (what `--flexible` does). For
/// JSON Lines, padding gives an absent key NULL and truncating drops a key that is not a column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Ragged {
    /// Reject it: `missing-cell` (too few fields) or `extra-cell` (too many). The default.
    #[default]
    Reject,
    /// A short record gets NULL for its missing fields; a long one is rejected.
    Pad,
    /// A long record loses its extra fields; a short one is rejected.
    Truncate,
    /// Both: every record gets exactly the header's fields.
    PadTruncate,
    /// Pass it on unchanged, with the fields it has (a step reading a missing field sees NULL).
    Keep,
}

impl Ragged {
    /// Whether a record with fewer fields than the header goes on (padded or as it is).
    pub fn accepts_short(self) -> bool {
        matches!(self, Ragged::Pad | Ragged::PadTruncate | Ragged::Keep)
    }

    /// Whether a record with more fields than the header goes on (truncated or as it is).
    pub fn accepts_long(self) -> bool {
        matches!(self, Ragged::Truncate | Ragged::PadTruncate | Ragged::Keep)
    }
}

impl std::str::FromStr for Ragged {
    type Err = String;
    fn from_str(s: &str) -> Result<Ragged, String> {
        match s {
            "reject" => Ok(Ragged::Reject),
            "pad" => Ok(Ragged::Pad),
            "truncate" => Ok(Ragged::Truncate),
            "pad-truncate" => Ok(Ragged::PadTruncate),
            "keep" => Ok(Ragged::Keep),
            _ => Err(format!(
                "'{s}' is not reject, pad, truncate, pad-truncate or keep"
            )),
        }
    }
}

impl std::fmt::Display for Ragged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Ragged::Reject => "reject",
            Ragged::Pad => "pad",
            Ragged::Truncate => "truncate",
            Ragged::PadTruncate => "pad-truncate",
            Ragged::Keep => "keep",
        })
    }
}

/// What to do with a text value that is not Unicode text where the output needs text: bytes
/// that are not UTF-8 written to JSON Lines or Parquet, or a JSON Lines string that is not
/// UTF-8 or holds a `\u` escape of a lone surrogate (read into any output). CSV, TSV and lines
/// output write a CSV or lines value's bytes as they are, so they never meet it there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum InvalidUtf8 {
    /// Reject the record (`encode-error`, naming the field). The default.
    #[default]
    Reject,
    /// Write U+FFFD in place of each invalid sequence or lone surrogate, and count the value
    /// in the report (`values_replaced`).
    Replace,
}

impl std::str::FromStr for InvalidUtf8 {
    type Err = String;
    fn from_str(s: &str) -> Result<InvalidUtf8, String> {
        match s {
            "reject" => Ok(InvalidUtf8::Reject),
            "replace" => Ok(InvalidUtf8::Replace),
            _ => Err(format!("'{s}' is not reject or replace")),
        }
    }
}

impl fmt::Display for InvalidUtf8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvalidUtf8::Reject => "reject",
            InvalidUtf8::Replace => "replace",
        })
    }
}

/// A format with its settings: what the engine needs to frame, decode and encode records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// The record format.
    pub format: Format,
    /// Field delimiter (CSV/TSV).
    pub delimiter: u8,
    /// Quote byte (CSV/TSV).
    pub quote: u8,
    /// Whether the first record is a header row (CSV/TSV).
    pub header: bool,
}

impl Dialect {
    /// The default dialect of a format: `,` or tab, `"` quotes, a header row.
    pub fn new(format: Format) -> Dialect {
        let delimiter = if format == Format::Tsv { b'\t' } else { b',' };
        Dialect {
            format,
            delimiter,
            quote: b'"',
            header: true,
        }
    }

    /// How the splitter frames this dialect.
    pub fn framing(&self) -> Framing {
        match self.format {
            Format::Csv | Format::Tsv => Framing::Quoted {
                quote: self.quote,
                delimiter: self.delimiter,
            },
            // Parquet is never read (the engine refuses it as an input format).
            Format::Jsonl | Format::Lines | Format::Parquet => Framing::Lines,
        }
    }

    /// Whether the first record names the columns.
    pub fn has_header(&self) -> bool {
        matches!(self.format, Format::Csv | Format::Tsv) && self.header
    }

    /// The dialect to write `format` in when the input is read in `input`: the input's own
    /// dialect when the format is the same (its delimiter, quote and header setting), else the
    /// format's defaults, with a header row unless the input is CSV/TSV without one.
    pub fn output_for(input: &Dialect, format: Format) -> Dialect {
        if format == input.format {
            return *input;
        }
        let mut out = Dialect::new(format);
        out.header = !matches!(input.format, Format::Csv | Format::Tsv) || input.header;
        out
    }

    /// Whether records written in `other` are byte for byte what this dialect writes, so a
    /// record's raw input bytes can be copied: the same format and, for CSV/TSV, the same
    /// delimiter and quote (the header setting does not matter).
    pub fn same_encoding(&self, other: &Dialect) -> bool {
        self.format == other.format
            && (!matches!(self.format, Format::Csv | Format::Tsv)
                || (self.delimiter == other.delimiter && self.quote == other.quote))
    }
}

/// Why a record cannot be written in the output format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError {
    /// The index of the field that cannot be written, if one is to blame.
    pub field: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl EncodeError {
    /// The error of a text field `i` that is not UTF-8 where the output needs UTF-8.
    pub(crate) fn not_utf8(i: usize) -> EncodeError {
        EncodeError {
            field: Some(i),
            message: "the value is not UTF-8 text, which this output cannot hold (--invalid-utf8 \
                      replace writes U+FFFD for the invalid bytes)"
                .into(),
        }
    }
}
