//! Committing a run's outputs together: the output, its rejects and its report appear all, or
//! none of them changes.
//!
//! Each output is written to a temporary file first and is finished (flushed, its compressed
//! stream ended, synced) before any of them is committed, so what is left can fail only in a
//! rename or an upload. Those are done in order, the output last: its rename (or upload) is the
//! commit point. Before the first one, each earlier member's present file is kept as a backup
//! (a hard link beside it, or a server-side copy of an object) and a small journal is written
//! beside the output naming every member, its temporary file and its backup. If a rename or
//! upload then fails, the members already committed are put back from their backups. If the
//! process dies in between (a SIGKILL, a power loss), the next run to the same output finds the
//! journal and does the same, unless the output itself was committed, in which case it only
//! removes the backups. That next run also removes the temporary files that dead runs left
//! beside its outputs.

use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{temp_folder, temp_path, SinkWriter, Target};
use crate::error::{Error, Result};
use crate::store::Location;

/// One member of a commit, as the journal records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Member {
    /// The output's path, or an object's URL.
    target: Location,
    /// Its finished temporary file (or a resumable run's partial file).
    #[serde(with = "crate::store::local_path")]
    temp: PathBuf,
    /// The copy of what was at `target` before (a file beside it, or an object).
    backup: Option<Location>,
    /// For the last member when it is an object: the version of the object it replaces (see
    /// [`mark_before`]).
    before: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    pid: u32,
    members: Vec<Member>,
}

/// Commits `writers` together, in order; the last is the commit point (pass the output
/// last). Writers that are not files (standard output, a device, a writer) are only finished.
pub(crate) fn commit_all(writers: Vec<SinkWriter>) -> Result<()> {
    let (mut files, others): (Vec<SinkWriter>, Vec<SinkWriter>) = writers
        .into_iter()
        .partition(|w| matches!(w.target, Target::File { .. }));
    for w in &mut files {
        w.finish()?;
    }
    for w in others {
        w.commit()?;
    }
    if files.len() <= 1 {
        return files.into_iter().try_for_each(SinkWriter::commit);
    }
    let mut members: Vec<Member> = files.iter().map(member_of).collect();
    let (last, earlier) = members.split_last_mut().expect("two members or more");
    let journal = journal_for(&last.target);
    // Backups of what the earlier members replace; the last one needs none (once it is
    // committed, the commit is done), only, for an object, the version it replaces.
    let prepared = earlier
        .iter_mut()
        .try_for_each(back_up)
        .and_then(|()| mark_before(last))
        .and_then(|()| write_journal(&journal, &members));
    if let Err(e) = prepared {
        drop_backups(&members);
        return Err(e);
    }
    crash_point(format_args!("journal written"));
    for (i, m) in members.iter().enumerate() {
        if let Err(e) = super::place(&m.temp, &m.target) {
            members[..i].iter().rev().for_each(put_back);
            drop_backups(&members);
            let _ = fs::remove_file(&journal);
            return Err(e);
        }
        crash_point(format_args!("placed {i}"));
    }
    for w in &mut files {
        w.placed();
    }
    if files.iter().any(|w| w.durable) {
        for m in &members {
            if let Location::Path(path) = &m.target {
                super::sync_parent(path);
            }
        }
    }
    drop_backups(&members);
    let _ = fs::remove_file(&journal);
    Ok(())
}

/// The environment variable that names the step of a commit at which a test build dies.
#[cfg(test)]
pub(crate) const CRASH_AT: &str = "WEIR_TEST_CRASH_AT";

/// In a test build, dies as a SIGKILL leaves a run (no destructor runs, nothing is cleaned
/// up) at the step of a commit that [`CRASH_AT`] names, so that a test can run a pipeline in a
/// child process, cut its commit at every step, and check what the next run makes of it.
/// Nothing in other builds.
#[cfg(test)]
pub(crate) fn crash_point(step: std::fmt::Arguments<'_>) {
    if std::env::var(CRASH_AT).is_ok_and(|at| at == step.to_string()) {
        die();
    }
}

#[cfg(all(test, target_os = "linux"))]
fn die() {
    // SAFETY: sends a signal to this process; no memory is involved.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
}

#[cfg(all(test, not(target_os = "linux")))]
fn die() {
    std::process::abort();
}

#[cfg(not(test))]
#[inline(always)]
pub(crate) fn crash_point(_step: std::fmt::Arguments<'_>) {}

fn member_of(w: &SinkWriter) -> Member {
    let Target::File { temp, place, .. } = &w.target else {
        unreachable!("only file targets are members")
    };
    Member {
        target: place.clone(),
        temp: temp.clone(),
        backup: None,
        before: None,
    }
}

/// Where the journal of a commit whose last member is `target` lives: beside a file output,
/// in the temporary folder (named after the URL) for an object.
pub(crate) fn journal_for(target: &Location) -> PathBuf {
    match target {
        Location::Object(url) => std::env::temp_dir().join(format!(
            ".{}.weir-commit-{}",
            target.name(),
            crate::checkpoint::hash_hex(url.as_bytes())
        )),
        Location::Path(path) => crate::checkpoint::beside(path, "commit"),
    }
}

fn back_up(m: &mut Member) -> Result<()> {
    let werr = |path: &Path, e: std::io::Error| Error::Write {
        path: path.to_path_buf(),
        source: e,
    };
    let path = match &m.target {
        Location::Object(url) => {
            if object_version(url)?.is_none() {
                return Ok(());
            }
            let backup = format!("{url}.weir-{}.old", std::process::id());
            object_copy(url, &backup)?;
            m.backup = Some(Location::Object(backup));
            return Ok(());
        }
        Location::Path(path) => path,
    };
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => {}
        _ => return Ok(()),
    }
    let backup = temp_path(&m.target).with_extension("old");
    if fs::hard_link(path, &backup).is_err() {
        // A file system without hard links: a copy does as well.
        fs::copy(path, &backup).map_err(|e| werr(path, e))?;
    }
    m.backup = Some(Location::Path(backup));
    Ok(())
}

/// Records the version of the object the last member replaces: after a crash, a different
/// version says its upload, the commit point, happened. (A file's commit point is seen from
/// its temporary file: renamed away or not.)
fn mark_before(m: &mut Member) -> Result<()> {
    if let Location::Object(url) = &m.target {
        m.before = object_version(url)?;
    }
    Ok(())
}

fn write_journal(path: &Path, members: &[Member]) -> Result<()> {
    let journal = Journal {
        pid: std::process::id(),
        members: members.to_vec(),
    };
    let bytes = serde_json::to_vec(&journal).expect("a journal serialises");
    let werr = |e| Error::Write {
        path: path.to_path_buf(),
        source: e,
    };
    let mut f = File::create(path).map_err(werr)?;
    f.write_all(&bytes).map_err(werr)?;
    f.sync_all().map_err(werr)?;
    super::sync_parent(path);
    Ok(())
}

/// Undoes a committed member: its new content goes back to its temporary file, and the backup
/// (or nothing) to its place.
fn put_back(m: &Member) {
    let failed = match &m.target {
        Location::Object(url) => match &m.backup {
            Some(b) => object_copy(&b.to_string(), url).err(),
            None => object_delete(url).err(),
        },
        Location::Path(path) => {
            let _ = fs::rename(path, &m.temp);
            match &m.backup {
                Some(b) => fs::rename(b.as_path(), path)
                    .err()
                    .map(|source| Error::Write {
                        path: path.clone(),
                        source,
                    }),
                None => None,
            }
        }
    };
    if let Some(e) = failed {
        tracing::error!(target = %m.target, error = %e, "could not put back what was there before");
    }
}

fn drop_backups(members: &[Member]) {
    for m in members {
        match &m.backup {
            Some(Location::Object(url)) => {
                let _ = object_delete(url);
            }
            Some(Location::Path(path)) => {
                let _ = fs::remove_file(path);
            }
            None => {}
        }
    }
}

/// Finishes, after a crash, the commits that a run to `outputs` left unfinished: a commit's journal is beside its last
/// member, the output, or the last of the rejects and report when the output is no file. If
/// that member was committed, only the backups go; if not, every member committed before it
/// is put back. Then the temporary files that dead runs left for any of `outputs` are
/// removed. Called before a run to those outputs reads anything.
pub(crate) fn recover(outputs: &[Location]) -> Result<()> {
    for place in outputs {
        let journal = journal_for(place);
        let Ok(bytes) = fs::read(&journal) else {
            continue;
        };
        let j: Journal = serde_json::from_slice(&bytes).map_err(|e| {
            Error::Config(format!(
                "{}: an unreadable commit journal ({e}): remove it after checking the outputs \
                 it names",
                journal.display()
            ))
        })?;
        if !alive(j.pid) {
            finish_crashed(&j)?;
            let _ = fs::remove_file(&journal);
        }
    }
    outputs.iter().for_each(sweep);
    Ok(())
}

fn finish_crashed(j: &Journal) -> Result<()> {
    let Some(last) = j.members.last() else {
        return Ok(());
    };
    let committed = match &last.target {
        Location::Object(url) => object_version(url)? != last.before,
        Location::Path(path) => !last.temp.exists() && path.exists(),
    };
    if committed {
        tracing::info!(output = %last.target, "a crashed run's commit had completed; removing its backups");
    } else {
        tracing::warn!(output = %last.target, "a crashed run's commit was incomplete; putting back the files it had replaced");
        for m in &j.members[..j.members.len() - 1] {
            let renamed = m.target.is_object() || !m.temp.exists();
            if renamed {
                put_back(m);
            }
        }
        for m in &j.members {
            if !is_partial(&m.temp) {
                let _ = fs::remove_file(&m.temp);
            }
        }
    }
    drop_backups(&j.members);
    Ok(())
}

fn is_partial(p: &Path) -> bool {
    p.to_string_lossy().ends_with(".weir-partial")
}

/// Removes the `.NAME.weir-PID-N.tmp` and `.old` files of the output `place` (where its
/// temporary files are made, see [`temp_folder`]) whose process is gone.
fn sweep(place: &Location) {
    let name = place.name();
    if name.is_empty() {
        return;
    }
    let mut dir = temp_folder(place);
    if dir.as_os_str().is_empty() {
        dir = PathBuf::from(".");
    }
    let prefix = format!(".{name}.weir-");
    let Ok(entries) = fs::read_dir(&dir) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&prefix) else {
            continue;
        };
        let Some(rest) = rest
            .strip_suffix(".tmp")
            .or_else(|| rest.strip_suffix(".old"))
        else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !alive(pid) && fs::remove_file(e.path()).is_ok() {
            tracing::info!(file = %e.path().display(), "removed a dead run's temporary file");
        }
    }
}

/// Whether a process with this id is running (this one always is).
fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(unix)]
    {
        let Ok(pid) = i32::try_from(pid) else {
            return false;
        };
        // SAFETY: kill with signal 0 sends nothing; it only checks that the process exists.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    true
}

fn object_version(url: &str) -> Result<Option<String>> {
    crate::store::Store::for_url(url)?.version(url)
}

fn object_copy(from: &str, to: &str) -> Result<()> {
    crate::store::Store::for_url(from)?.copy(from, to)
}

fn object_delete(url: &str) -> Result<()> {
    crate::store::Store::for_url(url)?.delete(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::Sink;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn writer(path: &Path, bytes: &[u8]) -> SinkWriter {
        let mut w = Sink::Path(path.to_path_buf()).open().unwrap();
        w.write_all(bytes).unwrap();
        w
    }

    /// A process id that is not running: a child that has exited and been reaped.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn all_members_appear_together_and_nothing_is_left_beside_them() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("rejects.csv"), "old rejects").unwrap();
        fs::write(d.join("out.csv"), "old out").unwrap();
        let members = vec![
            writer(&d.join("rejects.csv"), b"new rejects"),
            writer(&d.join("report.json"), b"{}"),
            writer(&d.join("out.csv"), b"new out"),
        ];
        commit_all(members).unwrap();
        assert_eq!(fs::read(d.join("rejects.csv")).unwrap(), b"new rejects");
        assert_eq!(fs::read(d.join("report.json")).unwrap(), b"{}");
        assert_eq!(fs::read(d.join("out.csv")).unwrap(), b"new out");
        assert_eq!(names(d), ["out.csv", "rejects.csv", "report.json"]);
    }

    #[test]
    fn a_failed_rename_of_the_output_puts_the_earlier_members_back() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("rejects.csv"), "old rejects").unwrap();
        let members = vec![
            writer(&d.join("rejects.csv"), b"new rejects"),
            writer(&d.join("report.json"), b"{}"),
            writer(&d.join("out.csv"), b"new out"),
        ];
        // The output's path became a folder that is not empty while the run went on.
        fs::create_dir_all(d.join("out.csv/x")).unwrap();
        let err = commit_all(members).unwrap_err();
        assert!(err.to_string().contains("out.csv"), "{err}");
        assert_eq!(fs::read(d.join("rejects.csv")).unwrap(), b"old rejects");
        assert_eq!(
            names(d),
            ["out.csv", "rejects.csv"],
            "no report, temp, backup or journal"
        );
        assert!(d.join("out.csv/x").is_dir());
    }

    /// The journal a run with id `pid` writes for committing `rejects.csv` (backed up) then
    /// `out.csv` (which existed) in `d`; the temporary and backup names it gives.
    fn journal_of_two(d: &Path, pid: u32) -> (PathBuf, PathBuf, PathBuf) {
        let temp = |name: &str, ext: &str| d.join(format!(".{name}.weir-{pid}-0.{ext}"));
        let (rejects_temp, backup, out_temp) = (
            temp("rejects.csv", "tmp"),
            temp("rejects.csv", "old"),
            temp("out.csv", "tmp"),
        );
        let journal = Journal {
            pid,
            members: vec![
                Member {
                    target: Location::Path(d.join("rejects.csv")),
                    temp: rejects_temp,
                    backup: Some(Location::Path(backup.clone())),
                    before: None,
                },
                Member {
                    target: Location::Path(d.join("out.csv")),
                    temp: out_temp.clone(),
                    backup: None,
                    before: Some("file".into()),
                },
            ],
        };
        let path = journal_for(&Location::Path(d.join("out.csv")));
        fs::write(&path, serde_json::to_vec(&journal).unwrap()).unwrap();
        (path, backup, out_temp)
    }

    #[test]
    fn a_crash_before_the_output_was_renamed_is_rolled_back_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // The state a SIGKILL leaves after the rejects were renamed, before the output was:
        // the new rejects in place, the old ones kept as a backup, the output's temp file.
        let (_, backup, out_temp) = journal_of_two(d, dead_pid());
        fs::write(d.join("rejects.csv"), "new rejects").unwrap();
        fs::write(&backup, "old rejects").unwrap();
        fs::write(&out_temp, "new out").unwrap();
        fs::write(d.join("out.csv"), "old out").unwrap();
        // A live run's temporary file beside the output is not touched.
        let live = d.join(format!(".out.csv.weir-{}-9.tmp", std::process::id()));
        fs::write(&live, "live").unwrap();
        recover(&[
            Location::Path(d.join("out.csv")),
            Location::Path(d.join("rejects.csv")),
        ])
        .unwrap();
        assert_eq!(fs::read(d.join("rejects.csv")).unwrap(), b"old rejects");
        assert_eq!(fs::read(d.join("out.csv")).unwrap(), b"old out");
        let live_name = live.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(names(d), [live_name.as_str(), "out.csv", "rejects.csv"]);
    }

    #[test]
    fn a_crash_after_the_output_was_renamed_keeps_the_commit() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (_, backup, _) = journal_of_two(d, dead_pid());
        fs::write(d.join("rejects.csv"), "new rejects").unwrap();
        fs::write(&backup, "old rejects").unwrap();
        fs::write(d.join("out.csv"), "new out").unwrap();
        recover(&[Location::Path(d.join("out.csv"))]).unwrap();
        assert_eq!(fs::read(d.join("rejects.csv")).unwrap(), b"new rejects");
        assert_eq!(fs::read(d.join("out.csv")).unwrap(), b"new out");
        assert_eq!(names(d), ["out.csv", "rejects.csv"]);
    }

    #[test]
    fn a_journal_beside_a_later_output_is_found_too() {
        // The output went to standard output: the commit's last file member (here the one
        // named `out.csv`, say the report) holds the journal, not the first of the outputs.
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (journal, backup, out_temp) = journal_of_two(d, dead_pid());
        fs::write(d.join("rejects.csv"), "new rejects").unwrap();
        fs::write(&backup, "old rejects").unwrap();
        fs::write(&out_temp, "new report").unwrap();
        recover(&[
            Location::Path(d.join("rejects.csv")),
            Location::Path(d.join("out.csv")),
        ])
        .unwrap();
        assert_eq!(fs::read(d.join("rejects.csv")).unwrap(), b"old rejects");
        assert!(!journal.exists());
        assert_eq!(names(d), ["rejects.csv"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_commit_in_a_folder_whose_name_is_not_utf8_is_journalled_as_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
        fs::create_dir(&d).unwrap();
        fs::write(d.join("rejects.csv"), "old rejects").unwrap();
        // Two members, the first backed up: the journal names temporary and backup files in
        // that folder (serde's own paths would refuse them, and the commit would panic).
        commit_all(vec![
            writer(&d.join("rejects.csv"), b"new rejects"),
            writer(&d.join("out.csv"), b"new out"),
        ])
        .unwrap();
        assert_eq!(fs::read(d.join("rejects.csv")).unwrap(), b"new rejects");
        assert_eq!(names(&d), ["out.csv", "rejects.csv"]);
        // And a journal that names them reads back the same.
        let member = Member {
            target: Location::Path(d.join("rejects.csv")),
            temp: d.join(".rejects.csv.weir-1-0.tmp"),
            backup: Some(Location::Path(d.join(".rejects.csv.weir-1-0.old"))),
            before: None,
        };
        let json = serde_json::to_vec(&member).unwrap();
        let back: Member = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            (back.target, back.temp, back.backup),
            (member.target, member.temp, member.backup)
        );
    }

    #[test]
    fn an_unreadable_journal_is_a_usage_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        fs::write(journal_for(&Location::Path(out.clone())), "{not json").unwrap();
        let err = recover(&[Location::Path(out)]).unwrap_err();
        assert!(err.is_usage(), "{err}");
        assert!(err.to_string().contains(".out.csv.weir-commit"), "{err}");
    }
}
