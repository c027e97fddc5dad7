//! Where records come from and go: files, standard input and output, `s3://` objects
//! (with the `s3` feature, on by default), gzip and zstd, and the input patterns a run reads.
//!
//! ```
//! use weir::io::{Sink, Source};
//!
//! // `-` is standard input or output, `s3://bucket/key` an object, anything else a path.
//! assert!(matches!(Source::from_arg("-"), Source::Stdin));
//! assert!(matches!(Sink::from_arg("s3://bucket/out.csv"), Sink::Url(_)));
//! assert!(weir::io::is_url("s3://bucket/out.csv"));
//! ```

use std::path::Path;

pub use crate::compress::Compression;
use crate::error::{Error, Result};
use crate::sink::{is_written, Place};
pub use crate::sink::{reasons_beside, remove_temp_files, RejectsFormat, Sink, SinkWriter};
pub use crate::source::Source;

/// Whether an argument names an object (`s3://...`) rather than a local path.
pub fn is_url(arg: &str) -> bool {
    crate::store::is_url(arg)
}

/// The inputs a run reads, from the patterns it was given: a pattern that holds `*`, `?` or
/// `[` becomes the files (or, for an `s3://` pattern, the objects: one LIST) it matches, sorted
/// by name; any other argument stays as it is (`-` is standard input, read at most once).
///
/// A pattern never matches what the run writes (`writes`: its output, rejects and report),
/// nor the hidden files weir keeps beside an output (`.NAME.weir-...`: temporary files,
/// partials, checkpoints), so a second run of `-i '*.csv' -o all.csv` does not read the first
/// one's output. A pattern that matches nothing is [`Error::Config`], unless it names a file
/// (or object) as it is (`a[1].csv`); an object store's failure is its own error, which
/// [`Error::is_transient`] tells apart.
pub fn expand_inputs(patterns: &[String], writes: &[Sink]) -> Result<Vec<String>> {
    let written: Vec<Place> = writes.iter().map(|s| Place::output("output", s)).collect();
    let mut out = Vec::new();
    for p in patterns {
        if !is_pattern(p) {
            out.push(p.clone());
        } else if is_url(p) {
            let kept: Vec<String> = crate::store::list_pattern(p)?
                .into_iter()
                .filter(|url| !is_written(url, &written))
                .collect();
            if kept.is_empty() {
                return Err(Error::Config(format!(
                    "input pattern '{p}' matches only what this run writes"
                )));
            }
            out.extend(kept);
        } else {
            out.extend(expand_files(p, &written)?);
        }
    }
    if out.iter().filter(|p| *p == "-").count() > 1 {
        return Err(Error::Config(
            "standard input (`-`) can be read only once".into(),
        ));
    }
    Ok(out)
}

/// Whether an input is a pattern (holds `*`, `?` or `[`).
fn is_pattern(input: &str) -> bool {
    input.contains(crate::store::WILDCARDS)
}

/// The files a local pattern matches, sorted by name.
fn expand_files(p: &str, written: &[Place]) -> Result<Vec<String>> {
    let is_file = Path::new(p).is_file();
    let mut matched: Vec<String> = match glob::glob(p) {
        Ok(paths) => paths
            .filter_map(std::result::Result::ok)
            .filter(|path| path.is_file())
            .filter(|path| !is_weirs_own(path))
            .map(|path| path.display().to_string())
            .filter(|path| !is_written(path, written))
            .collect(),
        Err(_) if is_file => Vec::new(),
        Err(e) => return Err(Error::Config(format!("bad input pattern '{p}': {e}"))),
    };
    if matched.is_empty() {
        // A name that holds a wildcard character (`a[1].csv`) is read as it is.
        if is_file && !is_written(p, written) {
            return Ok(vec![p.to_string()]);
        }
        return Err(Error::Config(format!(
            "no file matches the input pattern '{p}'"
        )));
    }
    matched.sort();
    Ok(matched)
}

/// Whether `path` is one of the hidden files weir keeps beside an output.
fn is_weirs_own(path: &Path) -> bool {
    path.file_name()
        .map(|n| n.to_string_lossy())
        .is_some_and(|n| n.starts_with('.') && n.contains(".weir-"))
}
