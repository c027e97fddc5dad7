//! The shard folder: a local (or shared) folder, or an `s3://` prefix.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{REJECTS_DIR, REPORTS_DIR};
use crate::error::{Error, Result, SourceName};
use crate::sink::Sink;
use crate::store::{is_url, Store};

/// Where a shard's outputs go: a local (or shared) folder, or an `s3://` prefix.
#[derive(Debug)]
pub struct OutDir {
    dir: String,
    store: Option<Store>,
}

impl OutDir {
    /// The folder or `s3://bucket/prefix` `arg`.
    pub fn new(arg: &str) -> Result<OutDir> {
        let dir = arg.trim_end_matches('/').to_string();
        let store = is_url(arg).then(|| Store::for_url(arg)).transpose()?;
        Ok(OutDir { dir, store })
    }

    /// The folder's name, as given.
    pub fn name(&self) -> &str {
        &self.dir
    }

    /// Where `name` in the folder is (a path or a URL), for messages.
    pub fn location(&self, name: &str) -> String {
        format!("{}/{name}", self.dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        Path::new(&self.dir).join(name)
    }

    fn object(&self) -> Option<&Store> {
        self.store.as_ref()
    }

    /// Creates the folder and its `_reports` and `rejects` folders (for a prefix: checks the
    /// bucket is there).
    pub fn prepare(&self) -> Result<()> {
        if let Some(store) = self.object() {
            return store.check_bucket(&self.location(super::PLAN_FILE));
        }
        for d in [
            PathBuf::from(&self.dir),
            self.file(REPORTS_DIR),
            self.file(REJECTS_DIR),
        ] {
            fs::create_dir_all(&d).map_err(|source| Error::Write {
                path: d.clone(),
                source,
            })?;
        }
        Ok(())
    }

    /// The bytes of `name`, `None` if there is no such file.
    pub fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        if let Some(store) = self.object() {
            return store.get(&self.location(name));
        }
        let path = self.file(name);
        match fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::Read {
                source_name: SourceName::new(&path.display().to_string()),
                source,
            }),
        }
    }

    /// Writes `name` atomically (temporary file, sync, rename; one PUT for an object).
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        if let Some(store) = self.object() {
            return store.put(&self.location(name), bytes);
        }
        let mut w = Sink::Path(self.file(name)).open()?;
        w.set_durable(true);
        w.write_all(bytes)?;
        w.commit()
    }

    /// Creates `name` with `bytes` only if it does not exist (`O_EXCL`, or `If-None-Match: *`
    /// for an object); `false` if it did.
    pub fn create_new(&self, name: &str, bytes: &[u8]) -> Result<bool> {
        if let Some(store) = self.object() {
            return store.put_if_absent(&self.location(name), bytes);
        }
        let path = self.file(name);
        let err = |source| Error::Write {
            path: path.clone(),
            source,
        };
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(bytes).map_err(err)?;
                f.sync_all().map_err(err)?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(err(e)),
        }
    }

    /// The size of `name`, `None` if there is no such file.
    pub(super) fn size(&self, name: &str) -> Option<u64> {
        if let Some(store) = self.object() {
            return store.head(&self.location(name)).ok().map(|m| m.size);
        }
        fs::metadata(self.file(name)).ok().map(|m| m.len())
    }

    /// Removes `name`, if it is there.
    pub(super) fn remove(&self, name: &str) {
        if let Some(store) = self.object() {
            let _ = store.delete(&self.location(name));
            return;
        }
        let _ = fs::remove_file(self.file(name));
    }

    /// Opens `name` for reading from byte `offset`.
    pub(super) fn open_at(&self, name: &str, offset: u64) -> Result<Box<dyn Read + Send>> {
        if let Some(store) = self.object() {
            return store.reader(&self.location(name), offset, None);
        }
        let path = self.file(name);
        let name = SourceName::new(&path.display().to_string());
        let mut file = File::open(&path).map_err(|source| Error::Open {
            source_name: name.clone(),
            source,
        })?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::read(name, e))?;
        Ok(Box::new(file))
    }

    /// Removes the temporary files of shard attempts that were killed before they could
    /// (`.part-00007.csv.weir-PID-N.tmp`): once merged, nothing is writing a part worth having.
    /// (An object store has none: an unfinished upload is never visible.)
    pub(super) fn remove_leftovers(&self) {
        if self.object().is_some() {
            return;
        }
        for d in [
            PathBuf::from(&self.dir),
            self.file(REJECTS_DIR),
            self.file(REPORTS_DIR),
        ] {
            let Ok(entries) = fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(".part-") && name.contains(".weir-") && name.ends_with(".tmp") {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
    }

    /// The sink that writes `name` (atomically: renamed into place, or uploaded at commit).
    pub(super) fn sink(&self, name: &str) -> Sink {
        if self.object().is_some() {
            return Sink::from_arg(&self.location(name));
        }
        Sink::Path(self.file(name))
    }
}
