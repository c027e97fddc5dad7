//! Rejects in the input's own format ([`RejectsFormat::Input`]): the rejected records' bytes as
//! they were read, and beside them a sidecar CSV with the reasons, `NAME.errors.csv`, that
//! links each reason to the line its record starts on in the rejects file.

use std::path::Path;

use super::Sink;

/// How the rejects file holds the rejected records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RejectsFormat {
    /// A CSV table, one row per reason: `file,line,byte_offset,field,error,message,record`,
    /// the record's raw bytes in the last column (the default).
    #[default]
    Table,
    /// The records as they were read, in the input's format (a CSV or TSV input's header
    /// line first, exactly as read), so that the file can be fixed and fed back as it is; the
    /// reasons go to a sidecar CSV beside it (`bad.csv` -> `bad.errors.csv`) with the columns
    /// `file,line,byte_offset,field,error,message,rejects_line`, the last the line its record
    /// starts on in the rejects file.
    Input,
}

impl std::str::FromStr for RejectsFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<RejectsFormat, String> {
        match s {
            "table" => Ok(RejectsFormat::Table),
            "input" => Ok(RejectsFormat::Input),
            _ => Err(format!("'{s}' is not table or input")),
        }
    }
}

impl std::fmt::Display for RejectsFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RejectsFormat::Table => "table",
            RejectsFormat::Input => "input",
        })
    }
}

/// The header of the reasons sidecar: the table's columns but the record, and
/// `rejects_line`, the line its record starts on in the rejects file (empty for a record that
/// is not in it: one too large to keep whole).
pub const REASONS_HEADER: &[u8] = b"file,line,byte_offset,field,error,message,rejects_line\n";

/// The reasons sidecar of a rejects file or object: its name with its format extension
/// replaced by `.errors.csv`, before any compression suffix (`bad.csv` → `bad.errors.csv`,
/// `bad.jsonl.gz` → `bad.errors.csv.gz`, `bad` → `bad.errors.csv`). `None` for standard
/// output or a writer, which have no place beside them.
pub fn reasons_beside(rejects: &Sink) -> Option<Sink> {
    match rejects {
        Sink::Path(p) => {
            let name = p.file_name()?.to_string_lossy().into_owned();
            Some(Sink::Path(p.with_file_name(reasons_name(&name))))
        }
        Sink::Url(url) => {
            let (dir, name) = url.rsplit_once('/')?;
            (!name.is_empty()).then(|| Sink::Url(format!("{dir}/{}", reasons_name(name))))
        }
        Sink::Stdout | Sink::Writer(..) => None,
    }
}

/// `reasons_beside` on a file name.
fn reasons_name(name: &str) -> String {
    // A compressed name (as the rejects' own compression reads it) keeps its suffix, as
    // spelled, at the end of the sidecar's.
    let (stem, compressed) = match crate::compress::Compression::from_path(Path::new(name)) {
        crate::compress::Compression::None => (name, ""),
        _ => name
            .rfind('.')
            .map_or((name, ""), |dot| (&name[..dot], &name[dot..])),
    };
    // The format extension, if any (not a leading dot: `.rejects` is a name).
    let stem = match stem.rfind('.') {
        Some(dot) if dot > 0 => &stem[..dot],
        _ => stem,
    };
    format!("{stem}.errors.csv{compressed}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beside(arg: &str) -> String {
        reasons_beside(&Sink::from_arg(arg)).map_or_else(|| "none".into(), |s| s.name())
    }

    #[test]
    fn the_sidecar_replaces_the_format_extension_and_keeps_compression() {
        assert_eq!(beside("bad.csv"), "bad.errors.csv");
        assert_eq!(beside("out/bad.tsv"), "out/bad.errors.csv");
        assert_eq!(beside("bad.jsonl.gz"), "bad.errors.csv.gz");
        assert_eq!(beside("bad.csv.zst"), "bad.errors.csv.zst");
        // Compressed as the rejects are (their compression reads the suffix in any case).
        assert_eq!(beside("bad.csv.GZ"), "bad.errors.csv.GZ");
        assert_eq!(beside("bad.csv.Zstd"), "bad.errors.csv.Zstd");
        assert_eq!(beside(".gz"), ".gz.errors.csv");
        assert_eq!(beside("bad"), "bad.errors.csv");
        assert_eq!(beside(".bad"), ".bad.errors.csv");
        assert_eq!(beside("a.b.csv"), "a.b.errors.csv");
        assert_eq!(beside("-"), "none");
    }

    #[test]
    fn formats_parse_and_print_by_name() {
        for f in [RejectsFormat::Table, RejectsFormat::Input] {
            assert_eq!(f.to_string().parse::<RejectsFormat>(), Ok(f));
        }
        assert!("csv"
            .parse::<RejectsFormat>()
            .unwrap_err()
            .contains("table or input"));
    }
}
