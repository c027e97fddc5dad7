//! Object stores: the one place that knows `s3://` URLs and the one place that switches on
//! the `s3` feature (on by default).
//!
//! Everything above this module calls [`Store`] the same way in every build: with the feature,
//! `s3.rs` is `object_store`'s S3 client called blocking (ranged GETs pinned to an ETag,
//! multipart uploads, conditional PUTs; see its documentation); without it, [`Store::for_url`]
//! fails with an error that names the URL and the missing feature, and no other method can be
//! reached. [`list_pattern`] lists the objects an input pattern matches; a [`Location`] is a
//! place a run writes, a file or an object.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[cfg(feature = "s3")]
mod s3;
#[cfg(not(feature = "s3"))]
pub(crate) use off::Store;
#[cfg(feature = "s3")]
pub(crate) use s3::Store;

/// Whether `s` names an object store location (`s3://...`) rather than a local path.
pub(crate) fn is_url(s: &str) -> bool {
    s.starts_with("s3://")
}

/// Where a run writes one of its files: a local path, or an object in a store, written as a
/// temporary local file and uploaded at commit. The one type that tells the two apart, so the
/// code that writes, commits and recovers outputs asks it rather than testing URLs.
///
/// Written (in a commit journal) as the path or URL it was made from; a path that is not UTF-8
/// as its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// A file (or a device, a FIFO) at this path.
    Path(PathBuf),
    /// An object, by its URL (`s3://bucket/key`).
    Object(String),
}

impl Location {
    /// An object for a URL ([`is_url`]), a path for anything else.
    pub(crate) fn new(arg: &str) -> Location {
        if is_url(arg) {
            Location::Object(arg.to_string())
        } else {
            Location::Path(PathBuf::from(arg))
        }
    }

    /// Whether it is an object, uploaded rather than renamed into place.
    pub(crate) fn is_object(&self) -> bool {
        matches!(self, Location::Object(_))
    }

    /// The path, or the URL as a path, for errors and messages that carry a path.
    pub(crate) fn as_path(&self) -> &Path {
        match self {
            Location::Path(p) => p,
            Location::Object(url) => Path::new(url.as_str()),
        }
    }

    /// Its last name: a file's name, or the last segment of an object's key.
    pub(crate) fn name(&self) -> String {
        match self {
            Location::Path(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Location::Object(url) => url.rsplit('/').next().unwrap_or_default().to_string(),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Path(p) => write!(f, "{}", p.display()),
            Location::Object(url) => f.write_str(url),
        }
    }
}

/// How a [`Location`] (or a [`local_path`]) is written: its text, or a path's bytes when they
/// are not UTF-8.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Written {
    Text(String),
    Bytes(Vec<u8>),
}

impl Written {
    fn of_path(p: &Path) -> Written {
        match p.to_str() {
            Some(text) => Written::Text(text.to_string()),
            None => Written::Bytes(p.as_os_str().as_encoded_bytes().to_vec()),
        }
    }
}

impl Serialize for Location {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let written = match self {
            Location::Object(url) => Written::Text(url.clone()),
            Location::Path(p) => Written::of_path(p),
        };
        written.serialize(s)
    }
}

/// A local path written as a [`Location::Path`] is (`#[serde(with = ...)]`): serde's own
/// `PathBuf` refuses a path that is not UTF-8.
pub(crate) mod local_path {
    use std::path::{Path, PathBuf};

    use serde::{Deserialize, Serialize};

    use super::{path_from_bytes, Written};

    pub(crate) fn serialize<S: serde::Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
        Written::of_path(p).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
        Ok(match Written::deserialize(d)? {
            Written::Text(text) => PathBuf::from(text),
            Written::Bytes(bytes) => path_from_bytes(bytes),
        })
    }
}

impl<'de> Deserialize<'de> for Location {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Location, D::Error> {
        Ok(match Written::deserialize(d)? {
            Written::Text(text) => Location::new(&text),
            Written::Bytes(bytes) => Location::Path(path_from_bytes(bytes)),
        })
    }
}

#[cfg(unix)]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    // Only Unix paths can fail to be UTF-8 text on the way in (see `Serialize`); elsewhere
    // this is never reached with anything but text.
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

/// The bucket and key of an `s3://bucket/key` URL; the key may be empty (`s3://bucket/` or
/// `s3://bucket`, a prefix for [`Store::list`]).
pub(crate) fn split_url(url: &str) -> Result<(&str, &str)> {
    let bad = |why: &str| Error::Store {
        url: url.to_string(),
        message: format!("not an object URL: {why} (expected s3://bucket/key)"),
        transient: false,
    };
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| bad("it does not start with s3://"))?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(bad("no bucket"));
    }
    if !bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_'))
    {
        return Err(bad("a bucket name has only a-z, 0-9, '-', '.' and '_'"));
    }
    Ok((bucket, key))
}

/// What [`Store::head`] tells of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ObjectMeta {
    /// Size in bytes.
    pub(crate) size: u64,
    /// The object's version as the store names it: its ETag (quotes included, as S3 sends it),
    /// or its version id when the store gives no ETag. Another upload of the object (even of
    /// the same bytes, in general) has another one.
    pub(crate) version: String,
}

/// The characters that make an input a pattern (`*`, `?`, `[`), as glob reads them.
pub(crate) const WILDCARDS: [char; 3] = ['*', '?', '['];

/// The objects an `s3://` input pattern matches, sorted by key, as a local glob matches files:
/// `*`, `?` and `[...]` stay within one `/`-separated level, `**` spans levels. One LIST of the
/// folder before the first wildcard (of that level alone when no wildcard is deeper). A key that
/// names an object as it is (`a[1].csv`) is read as it is when the pattern matches nothing.
/// A pattern that matches nothing is [`Error::Config`]; a store's failure is its own error
/// (transient or not).
pub(crate) fn list_pattern(p: &str) -> Result<Vec<String>> {
    let bucket = p["s3://".len()..].split('/').next().unwrap_or("");
    if bucket.contains(WILDCARDS) {
        return Err(Error::Config(format!(
            "input pattern '{p}': wildcards go in the key, not in the bucket name"
        )));
    }
    let (bucket, key) = split_url(p)?;
    let store = Store::for_url(p)?;
    let literal = || store.exists(p);
    let pattern = match glob::Pattern::new(key) {
        Ok(pattern) => pattern,
        Err(_) if literal()? => return Ok(vec![p.to_string()]),
        Err(e) => return Err(Error::Config(format!("bad input pattern '{p}': {e}"))),
    };
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let wild = key.find(WILDCARDS).unwrap_or(key.len());
    let folder = &key[..key[..wild].rfind('/').map_or(0, |i| i + 1)];
    let base = format!("s3://{bucket}/");
    // Wildcards in the last level only (and no `**`): that folder's objects, not its subtree.
    let one_level = !key[folder.len()..].contains('/') && !key.contains("**");
    let folder_url = format!("{base}{folder}");
    let listed = if one_level {
        store.list_level(&folder_url)
    } else {
        store.list(&folder_url)
    };
    let mut matched = Vec::new();
    for (url, size) in listed? {
        if !pattern.matches_with(&url[base.len()..], options) {
            continue;
        }
        // A "folder" object (`logs/`, as consoles make them) is listed without its slash: a
        // zero-byte match that is not there under its listed name is one, not an input.
        if size == 0 && !store.exists(&url)? {
            continue;
        }
        matched.push(url);
    }
    if matched.is_empty() {
        if literal()? {
            return Ok(vec![p.to_string()]);
        }
        return Err(Error::Config(format!(
            "no object matches the input pattern '{p}'"
        )));
    }
    Ok(matched)
}

/// The store of a build without the `s3` feature: [`Store::for_url`] refuses every URL, so no
/// value of [`Store`] exists and its other methods cannot be called.
#[cfg(not(feature = "s3"))]
mod off {
    use std::io::Read;

    use super::ObjectMeta;
    use crate::error::{Error, Result};

    /// No store: see the module documentation.
    #[derive(Debug)]
    pub(crate) enum Store {}

    impl Store {
        pub(crate) fn for_url(url: &str) -> Result<Store> {
            Err(Error::Store {
                url: url.to_string(),
                message: "s3:// URLs need weir built with the `s3` feature".into(),
                transient: false,
            })
        }
        pub(crate) fn head(&self, _: &str) -> Result<ObjectMeta> {
            match *self {}
        }
        pub(crate) fn input_meta(&self, _: &str) -> Result<ObjectMeta> {
            match *self {}
        }
        pub(crate) fn exists(&self, _: &str) -> Result<bool> {
            match *self {}
        }
        pub(crate) fn check_bucket(&self, _: &str) -> Result<()> {
            match *self {}
        }
        pub(crate) fn reader(
            &self,
            _: &str,
            _: u64,
            _: Option<&str>,
        ) -> Result<Box<dyn Read + Send>> {
            match *self {}
        }
        pub(crate) fn get(&self, _: &str) -> Result<Option<Vec<u8>>> {
            match *self {}
        }
        pub(crate) fn put(&self, _: &str, _: &[u8]) -> Result<()> {
            match *self {}
        }
        pub(crate) fn put_if_absent(&self, _: &str, _: &[u8]) -> Result<bool> {
            match *self {}
        }
        pub(crate) fn upload(&self, _: &std::path::Path, _: &str) -> Result<()> {
            match *self {}
        }
        pub(crate) fn list(&self, _: &str) -> Result<Vec<(String, u64)>> {
            match *self {}
        }
        pub(crate) fn list_level(&self, _: &str) -> Result<Vec<(String, u64)>> {
            match *self {}
        }
        pub(crate) fn copy(&self, _: &str, _: &str) -> Result<()> {
            match *self {}
        }
        pub(crate) fn version(&self, _: &str) -> Result<Option<String>> {
            match *self {}
        }
        pub(crate) fn delete(&self, _: &str) -> Result<()> {
            match *self {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_is_written_as_it_was_given_and_read_back_the_same() {
        let places = [
            Location::new("out/data.csv"),
            Location::new("s3://bucket/out/data.csv"),
            #[cfg(unix)]
            Location::Path(path_from_bytes(b"out/caf\xe9.csv".to_vec())),
        ];
        for place in places {
            let json = serde_json::to_string(&place).unwrap();
            let back: Location = serde_json::from_str(&json).unwrap();
            assert_eq!(back, place, "{json}");
        }
        assert_eq!(
            serde_json::to_string(&Location::new("s3://b/k.csv")).unwrap(),
            r#""s3://b/k.csv""#
        );
        assert!(Location::new("s3://b/k.csv").is_object());
        assert_eq!(Location::new("s3://b/dir/k.csv").name(), "k.csv");
        assert_eq!(Location::new("dir/k.csv").name(), "k.csv");
        assert!(!Location::new("s3:/b/k.csv").is_object());
    }

    #[test]
    fn urls_split_into_bucket_and_key() {
        assert!(is_url("s3://b/k"));
        assert!(!is_url("data/s3://x"));
        assert!(!is_url("S3://b/k"));
        assert_eq!(split_url("s3://bkt/a/b.csv").unwrap(), ("bkt", "a/b.csv"));
        assert_eq!(split_url("s3://bkt/").unwrap(), ("bkt", ""));
        assert_eq!(split_url("s3://bkt").unwrap(), ("bkt", ""));
        for bad in ["s3:///k", "s3://", "file:///x", "s3://Bkt/k", "s3://b k/x"] {
            let err = split_url(bad).unwrap_err();
            assert!(err.to_string().starts_with(bad), "{err}");
            assert!(err.to_string().contains("s3://bucket/key"), "{err}");
            assert!(!err.is_transient());
        }
    }
}
