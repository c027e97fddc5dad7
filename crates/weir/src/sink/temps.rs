//! Every temporary output file of the process, so that an exit that cannot wait for the
//! writers to drop them (a second Ctrl-C while a run stops) can still remove them.
//!
//! A temporary file is registered before it is created and unregistered once it is renamed
//! into place or removed. [`remove_temp_files`] unlinks the registered ones and keeps the
//! registry closed, so no writer can create another one before the process exits. It is meant
//! for an ordinary thread (a signal-watching thread), never for a signal handler: it takes a
//! lock and makes system calls that are not async-signal-safe.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

struct Registry {
    paths: Vec<PathBuf>,
    /// Set by [`remove_temp_files`]: the process is exiting and writes no new file.
    closed: bool,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    paths: Vec::new(),
    closed: false,
});

fn registry() -> MutexGuard<'static, Registry> {
    // The registry is a plain list: a panic while it was locked cannot leave it inconsistent.
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// Creates `temp` with `create` and registers it, under the registry's lock, so that
/// [`remove_temp_files`] sees either no file or a registered one; an error if the process is
/// exiting.
pub(super) fn create(
    temp: &Path,
    create: impl FnOnce(&Path) -> io::Result<File>,
) -> io::Result<File> {
    let mut r = registry();
    if r.closed {
        return Err(io::Error::new(
            io::ErrorKind::Interrupted,
            "the process is exiting",
        ));
    }
    let file = create(temp)?;
    r.paths.push(temp.to_path_buf());
    Ok(file)
}

/// Forgets `temp` once it is renamed into place or removed.
pub(super) fn unregister(temp: &Path) {
    let mut r = registry();
    if let Some(i) = r.paths.iter().rposition(|p| p == temp) {
        r.paths.swap_remove(i);
    }
}

/// Removes every temporary output file the process has open and stops new ones from being
/// created; returns how many were removed. For an exit that does not wait for the run to wind
/// down (`std::process::exit` after a second interrupt): call it, then exit. A committed
/// output is never touched (it is no longer registered), and a file being renamed at this
/// moment is either already in place (the run had succeeded) or never will be.
pub fn remove_temp_files() -> usize {
    let mut r = registry();
    r.closed = true;
    let mut removed = 0;
    for p in r.paths.drain(..) {
        if std::fs::remove_file(&p).is_ok() {
            removed += 1;
        }
    }
    removed
}
