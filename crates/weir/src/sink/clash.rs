//! No run writes over what it reads, and no two of its outputs are one file.
//!
//! Every place a run writes (the output, the rejects, the report, and the files beside them: a
//! resumable run's partials and checkpoint, the commit journal) is compared with every input
//! and with each other, as files: by device and inode where the file exists (so `./in.csv`,
//! an absolute path, a symbolic or hard link and a shell's `< in.csv` on standard input are all
//! seen to be `in.csv`), and by its folder's canonical path and its name where it does not yet
//! exist. Objects (`s3://bucket/key`) are compared by bucket and key. Standard output can take
//! one stream only. A clash is a usage error before anything is read.

use std::fs::Metadata;
use std::path::{Path, PathBuf};

use super::Sink;
use crate::error::{Error, Result};
use crate::source::Source;

/// One thing a run reads or writes, and what it is called in messages.
#[derive(Debug)]
pub struct Place {
    role: String,
    name: String,
    ids: Vec<Id>,
    stdout: bool,
}

/// One way to recognise a file or object.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Id {
    /// An existing file that is not a terminal or device (a device such as `/dev/null` can take
    /// any number of writers).
    Inode(u64, u64),
    /// A path by its folder's canonical path and its own name.
    Path(PathBuf),
    /// An object, by its URL.
    Object(String),
}

impl Place {
    /// An input: `role` names it in messages (`input`).
    pub fn input(source: &Source) -> Place {
        let name = source.name().to_string();
        let ids = match source {
            Source::Path(p) => path_ids(p, true),
            Source::Stdin => fd_ids(0),
            Source::Url(url) => vec![Id::Object(url.clone())],
            Source::Reader(..) => Vec::new(),
        };
        Place {
            role: "input".into(),
            name,
            ids,
            stdout: false,
        }
    }

    /// A place the run writes, named `role` in messages (`output`, `rejects`, `report`).
    pub fn output(role: &str, sink: &Sink) -> Place {
        let (ids, stdout) = match sink {
            Sink::Path(p) => (path_ids(p, false), false),
            Sink::Stdout => (fd_ids(1), true),
            Sink::Url(url) => (vec![Id::Object(url.clone())], false),
            Sink::Writer(..) => (Vec::new(), false),
        };
        Place {
            role: role.into(),
            name: sink.name(),
            ids,
            stdout,
        }
    }

    /// A file the run writes beside its outputs (a partial, a checkpoint).
    pub(crate) fn internal(role: &str, path: &Path) -> Place {
        Place {
            role: role.into(),
            name: path.display().to_string(),
            ids: path_ids(path, false),
            stdout: false,
        }
    }

    fn same_as(&self, other: &Place) -> bool {
        self.ids.iter().any(|id| other.ids.contains(id))
    }
}

/// Refuses (a usage error) a run that would write over one of its inputs, or write two of its
/// outputs to one file, or two streams to standard output.
pub fn check_places(reads: &[Place], writes: &[Place]) -> Result<()> {
    for (i, w) in writes.iter().enumerate() {
        if let Some(r) = reads.iter().find(|r| w.same_as(r)) {
            if r.name == "-" {
                return Err(Error::Config(format!(
                    "the {} {} is the file standard input reads: the run would replace its \
                     own input; choose another path",
                    w.role, w.name
                )));
            }
            let same = if r.name == w.name {
                String::new()
            } else {
                format!(" ({} is {})", w.name, r.name)
            };
            return Err(Error::Config(format!(
                "the {} would replace the {} {}{same}: choose another path",
                w.role, r.role, r.name
            )));
        }
        for earlier in &writes[..i] {
            if w.stdout && earlier.stdout {
                return Err(Error::Config(format!(
                    "the {} and the {} both go to standard output, where they would mix: \
                     send one of them to a file",
                    earlier.role, w.role
                )));
            }
            if w.same_as(earlier) {
                return Err(Error::Config(format!(
                    "the {} and the {} are the same file ({}{}): one would replace the other",
                    earlier.role,
                    w.role,
                    earlier.name,
                    if earlier.name == w.name {
                        String::new()
                    } else {
                        format!(" and {}", w.name)
                    }
                )));
            }
        }
    }
    Ok(())
}

/// Whether `input` (a path or an `s3://` URL) names one of the places in `writes` (for input
/// patterns, which never match the run's own outputs).
pub fn is_written(input: &str, writes: &[Place]) -> bool {
    let ids = if crate::store::is_url(input) {
        vec![Id::Object(input.to_string())]
    } else {
        path_ids(Path::new(input), true)
    };
    writes
        .iter()
        .any(|w| w.ids.iter().any(|id| ids.contains(id)))
}

/// The ids of a path: its inode if it exists (following links) and is not a device, and its
/// folder's canonical path joined with its name. An input's path is canonicalised whole too
/// (`follow`), since reading follows links; an output is renamed over its own name.
fn path_ids(path: &Path, follow: bool) -> Vec<Id> {
    let mut ids = Vec::new();
    if let Ok(meta) = std::fs::metadata(path) {
        if is_device(&meta) {
            // Any number of streams may go to a device (`/dev/null`).
            return ids;
        }
        ids.extend(inode(&meta));
    }
    if follow {
        if let Ok(full) = std::fs::canonicalize(path) {
            ids.push(Id::Path(full));
        }
    }
    if let Some(name) = path.file_name() {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if let Ok(dir) = std::fs::canonicalize(dir) {
            ids.push(Id::Path(dir.join(name)));
        }
    }
    ids
}

#[cfg(unix)]
fn inode(meta: &Metadata) -> Option<Id> {
    use std::os::unix::fs::MetadataExt;
    (!is_device(meta)).then(|| Id::Inode(meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn inode(_meta: &Metadata) -> Option<Id> {
    None
}

#[cfg(unix)]
fn is_device(meta: &Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    t.is_char_device() || t.is_block_device()
}

#[cfg(not(unix))]
fn is_device(_meta: &Metadata) -> bool {
    false
}

/// The inode behind standard input or output, when it is a file or a pipe.
#[cfg(unix)]
fn fd_ids(fd: i32) -> Vec<Id> {
    use std::os::fd::BorrowedFd;
    // SAFETY: 0 and 1 are open for the life of the process (the standard streams); the
    // borrowed descriptor is only used for this fstat and never closed.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    fd.try_clone_to_owned()
        .map(std::fs::File::from)
        .and_then(|f| f.metadata())
        .ok()
        .and_then(|m| inode(&m))
        .into_iter()
        .collect()
}

#[cfg(not(unix))]
fn fd_ids(_fd: i32) -> Vec<Id> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(p: &Path) -> Place {
        Place::input(&Source::Path(p.to_path_buf()))
    }

    fn output(role: &str, p: &Path) -> Place {
        Place::output(role, &Sink::Path(p.to_path_buf()))
    }

    #[test]
    fn every_spelling_of_the_input_is_refused_as_an_output() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("in.csv"), "a\n1\n").unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        std::os::unix::fs::symlink(d.join("in.csv"), d.join("link.csv")).unwrap();
        std::fs::hard_link(d.join("in.csv"), d.join("hard.csv")).unwrap();
        std::os::unix::fs::symlink(d, d.join("sub/up")).unwrap();
        let reads = [input(&d.join("in.csv"))];
        for spelling in [
            d.join("in.csv"),
            d.join("./in.csv"),
            d.join("sub/../in.csv"),
            d.join("sub/up/in.csv"),
            d.join("link.csv"),
            d.join("hard.csv"),
        ] {
            for role in ["output", "rejects", "report"] {
                let err = check_places(&reads, &[output(role, &spelling)]).unwrap_err();
                assert!(err.is_usage(), "{err}");
                let msg = err.to_string();
                assert!(
                    msg.contains(&format!("the {role} would replace the input")),
                    "{spelling:?}: {msg}"
                );
            }
        }
        // The link as input and the file it names as output.
        let err = check_places(
            &[input(&d.join("link.csv"))],
            &[output("output", &d.join("in.csv"))],
        )
        .unwrap_err();
        assert!(err.to_string().contains("would replace the input"), "{err}");
        check_places(&reads, &[output("output", &d.join("out.csv"))]).unwrap();
    }

    #[test]
    fn two_outputs_on_one_file_are_refused_existing_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("sub")).unwrap();
        for exists in [false, true] {
            if exists {
                std::fs::write(d.join("o.csv"), "x").unwrap();
            }
            let writes = [
                output("output", &d.join("o.csv")),
                output("rejects", &d.join("sub/../o.csv")),
            ];
            let err = check_places(&[], &writes).unwrap_err();
            assert!(
                err.to_string()
                    .contains("the output and the rejects are the same file"),
                "{err}"
            );
        }
        check_places(
            &[],
            &[
                output("output", &d.join("o.csv")),
                output("rejects", &d.join("r.csv")),
            ],
        )
        .unwrap();
    }

    #[test]
    fn standard_output_takes_one_stream_and_devices_any_number() {
        let err = check_places(
            &[],
            &[
                Place::output("output", &Sink::Stdout),
                Place::output("rejects", &Sink::Stdout),
            ],
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("both go to standard output"),
            "{err}"
        );
        check_places(
            &[],
            &[
                output("output", Path::new("/dev/null")),
                output("rejects", Path::new("/dev/null")),
            ],
        )
        .unwrap();
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Any spelling of a path (dots, `..` through a folder, a link to a folder, doubled
        /// slashes) of the input or of a link to it clashes; of any other file, never.
        #[test]
        fn a_spelling_clashes_exactly_when_it_names_the_input(
            steps in proptest::collection::vec(0usize..5, 0..5),
            file in 0usize..5,
            as_rejects in proptest::bool::ANY,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path();
            std::fs::write(d.join("in.csv"), "a\n").unwrap();
            std::fs::write(d.join("other.csv"), "a\n").unwrap();
            std::fs::create_dir(d.join("sub")).unwrap();
            std::os::unix::fs::symlink(d, d.join("sub/up")).unwrap();
            std::os::unix::fs::symlink(d.join("in.csv"), d.join("link.csv")).unwrap();
            std::fs::hard_link(d.join("in.csv"), d.join("hard.csv")).unwrap();
            let mut spelled = d.display().to_string();
            for s in &steps {
                spelled.push_str(["/.", "/sub/..", "/sub/up", "/sub/./up", "/"][*s]);
            }
            let names = ["in.csv", "link.csv", "hard.csv", "other.csv", "new.csv"];
            spelled.push('/');
            spelled.push_str(names[file]);
            let role = if as_rejects { "rejects" } else { "output" };
            let clash = check_places(&[input(&d.join("in.csv"))], &[output(role, Path::new(&spelled))]);
            proptest::prop_assert_eq!(clash.is_err(), file < 3, "{}: {:?}", spelled, clash);
        }
    }

    #[test]
    fn objects_compare_by_bucket_and_key() {
        let reads = [Place::input(&Source::Url("s3://b/in.csv".into()))];
        let err = check_places(
            &reads,
            &[Place::output("output", &Sink::Url("s3://b/in.csv".into()))],
        )
        .unwrap_err();
        assert!(err.to_string().contains("would replace the input"), "{err}");
        check_places(
            &reads,
            &[Place::output("output", &Sink::Url("s3://c/in.csv".into()))],
        )
        .unwrap();
    }
}
