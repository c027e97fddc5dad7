//! Checking an output's destination before anything is read: a missing or read-only folder is
//! found in a millisecond, not after an hour of reading.

use std::ffi::CString;
use std::io;
use std::path::{Path, PathBuf};

use super::Sink;
use crate::error::{Error, Result};

impl Sink {
    /// Checks that a file output can be created where it is asked for: its folder exists, is a
    /// folder, and can be written to (`access(2)`, which also sees a read-only mount, even for
    /// root), and the path is not a folder. Nothing is created. Standard output and writers
    /// always pass; a device or FIFO at the path is written directly and is not checked here.
    ///
    /// The engine calls it for the output and the rejects before it opens any input, so the
    /// error ([`Error::Destination`], a usage error) comes before any work.
    ///
    /// An object output (`s3://bucket/key`) is checked with one small LIST of its bucket: a
    /// missing bucket, or one the credentials cannot see, is an [`Error::Destination`] too; a
    /// network or server error is the transient [`Error::Store`] it was.
    pub fn check_destination(&self) -> Result<()> {
        if let Sink::Url(url) = self {
            return check_bucket(url);
        }
        let Sink::Path(path) = self else {
            return Ok(());
        };
        let fail = |reason: String| {
            Err(Error::Destination {
                path: path.clone(),
                reason,
            })
        };
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => return fail("it is a folder".into()),
            Ok(m) if !m.is_file() => return Ok(()),
            _ => {}
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        match std::fs::metadata(&dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return fail(format!("the folder {} does not exist", dir.display()))
            }
            Err(e) => return fail(format!("the folder {}: {e}", dir.display())),
            Ok(m) if !m.is_dir() => return fail(format!("{} is not a folder", dir.display())),
            Ok(_) => {}
        }
        if let Err(e) = writable(&dir) {
            return fail(format!("the folder {} is not writable: {e}", dir.display()));
        }
        Ok(())
    }
}

fn check_bucket(url: &str) -> Result<()> {
    let path = PathBuf::from(url);
    let checked = crate::store::Store::for_url(url).and_then(|s| s.check_bucket(url));
    match checked {
        Ok(()) => Ok(()),
        Err(e) if e.is_transient() => Err(e),
        Err(Error::Store { message, .. }) => Err(Error::Destination {
            path,
            reason: message,
        }),
        Err(e) => Err(e),
    }
}

/// Whether the process may create files in `dir` (`access(dir, W_OK | X_OK)`).
#[cfg(target_os = "linux")]
fn writable(dir: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in the path"))?;
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call; access(2) only
    // reads it.
    let rc = unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn writable(dir: &Path) -> io::Result<()> {
    let _ = (dir, CString::default());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_folder_a_file_as_folder_and_a_folder_as_output_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Sink::Path(dir.path().join("no/such/out.csv"));
        let err = missing.check_destination().unwrap_err();
        assert!(err.is_usage());
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert!(err.to_string().contains("no/such/out.csv"), "{err}");

        std::fs::write(dir.path().join("f"), b"").unwrap();
        let err = Sink::Path(dir.path().join("f/out.csv"))
            .check_destination()
            .unwrap_err();
        assert!(err.to_string().contains("is not a folder"), "{err}");

        let err = Sink::Path(dir.path().to_path_buf())
            .check_destination()
            .unwrap_err();
        assert!(err.to_string().contains("it is a folder"), "{err}");

        Sink::Path(dir.path().join("out.csv"))
            .check_destination()
            .unwrap();
        Sink::Path(PathBuf::from("/dev/null"))
            .check_destination()
            .unwrap();
        Sink::Stdout.check_destination().unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
