//! Resumable runs, before they start: checking the checkpoint against the inputs, the pipeline
//! and the output files, and finishing a commit a crash interrupted. See [`crate::checkpoint`].

use std::fs;
use std::path::{Path, PathBuf};

use crate::checkpoint::{self, Checkpoint, InputStamp, Paths, Resumable, State};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::report::{Report, Resume, ResumeOutcome};
use crate::sink::Sink;
use crate::source::Source;

/// What a resumable run starts from.
pub(super) struct ResumeStart {
    pub paths: Paths,
    /// The pipeline's identity (a hash).
    pub pipeline: String,
    pub inputs: Vec<InputStamp>,
    pub input_paths: Vec<PathBuf>,
    /// The checkpoint of an unfinished run to continue, if any.
    pub from: Option<Checkpoint>,
    /// The checkpoint of a finished run: nothing to do.
    pub complete: Option<Checkpoint>,
}

/// The file behind a sink a resumable run can continue, or why not.
fn plain_file(sink: &Sink, what: &str) -> Result<PathBuf> {
    let Sink::Path(path) = sink else {
        return Err(Error::Config(format!(
            "--resume needs the {what} to be a file, not {}",
            sink.name()
        )));
    };
    if fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return Err(Error::Config(format!(
            "--resume needs the {what} to be a regular file: {} is not one",
            path.display()
        )));
    }
    Ok(path.clone())
}

impl ResumeStart {
    /// Reads and checks the checkpoint for `sink`, finishing an interrupted commit.
    /// `pipeline` describes everything that shapes the output.
    pub(super) fn prepare(
        r: &Resumable,
        pipeline: &str,
        sink: &Sink,
        rejects: Option<&Sink>,
        sources: &[&Source],
        output_format: Format,
    ) -> Result<ResumeStart> {
        let output = plain_file(sink, "output")?;
        if output_format == Format::Parquet {
            return Err(Error::Config(
                "--resume cannot continue a Parquet file (its footer is written at the end); \
                 write CSV, TSV or JSON Lines"
                    .into(),
            ));
        }
        let rejects = rejects.map(|s| plain_file(s, "rejects")).transpose()?;
        let paths = Paths::new(&output, rejects.as_deref());
        let inputs = checkpoint::stamp_inputs(sources)?;
        let input_paths = sources
            .iter()
            .map(|s| match s {
                Source::Path(p) => p.clone(),
                _ => unreachable!("stamp_inputs accepts files only"),
            })
            .collect();
        let pipeline = checkpoint::hash_hex(format!("{pipeline}\n{}", r.fingerprint).as_bytes());
        let mut start = ResumeStart {
            paths,
            pipeline,
            inputs,
            input_paths,
            from: None,
            complete: None,
        };
        let cp_path = start.paths.checkpoint.clone();
        let Some(mut cp) = Checkpoint::load(&cp_path)? else {
            tracing::info!(
                "no checkpoint at {}: starting from the beginning",
                cp_path.display()
            );
            return Ok(start);
        };
        cp.check_identity(&cp_path, &start.pipeline, &start.inputs, &start.paths)?;
        match cp.state {
            State::Running => start.from = Some(cp),
            State::Committing => {
                // The crash came between the last checkpoint and the renames: finish them.
                let mut pairs = Vec::new();
                if let (Some(p), Some(t)) = (&start.paths.rejects_partial, &start.paths.rejects) {
                    pairs.push((
                        p.clone(),
                        t.clone(),
                        cp.rejects_len,
                        cp.rejects_hash.clone(),
                    ));
                }
                pairs.push((
                    start.paths.output_partial.clone(),
                    output.clone(),
                    cp.output_len,
                    cp.output_hash.clone(),
                ));
                for (partial, target, len, hash) in pairs {
                    finish_rename(&partial, &target, (len, &hash), &cp_path)?;
                }
                cp.state = State::Complete;
                cp.store(&cp_path)?;
                let _ = fs::remove_file(&start.paths.gates);
                start.complete = Some(cp);
            }
            State::Complete => {
                for target in [Some(&output), start.paths.rejects.as_ref()]
                    .into_iter()
                    .flatten()
                {
                    if !target.exists() {
                        return Err(checkpoint::refuse(
                            &cp_path,
                            format!(
                                "the run finished, but {} is gone; run without --resume to \
                                 make it again",
                                target.display()
                            ),
                        ));
                    }
                }
                let _ = fs::remove_file(&start.paths.gates);
                start.complete = Some(cp);
            }
        }
        Ok(start)
    }

    /// What the report says of how the run began.
    pub(super) fn outcome(&self, report: &mut Report, input_names: &[String]) {
        let (outcome, cp) = match (&self.complete, &self.from) {
            (Some(cp), _) => (ResumeOutcome::Complete, Some(cp)),
            (None, Some(cp)) => (ResumeOutcome::Resumed, Some(cp)),
            (None, None) => (ResumeOutcome::Started, None),
        };
        let p = cp.map(|c| c.position.clone()).unwrap_or_default();
        report.resume = Some(Resume {
            outcome,
            checkpoint: self.paths.checkpoint.display().to_string(),
            from_input: input_names.get(p.source).cloned().unwrap_or_default(),
            from_line: p.line.max(1),
            from_offset: p.offset,
            records_before: cp.map_or(0, |c| c.counters.records_read),
        });
    }
}

/// Renames a partial file into place unless an earlier attempt already did, cut to the length
/// the checkpoint counts (all of it was synced before the checkpoint; a crash while the commit
/// was ending it may have left a piece of a compressed stream's end after it).
fn finish_rename(
    partial: &Path,
    target: &Path,
    (len, hash): (u64, &str),
    cp_path: &Path,
) -> Result<()> {
    if partial.exists() {
        let err = |source| Error::Write {
            path: target.to_path_buf(),
            source,
        };
        // Cut to what the checkpoint counts, and those bytes checked against its digest: an
        // edit since the crash is a refusal, not a file renamed into place.
        let (file, _) = checkpoint::open_partial_verified(partial, Some((len, hash)), cp_path)?;
        file.sync_all().map_err(err)?;
        crate::sink::keep_mode(partial, target).map_err(err)?;
        fs::rename(partial, target).map_err(err)?;
        checkpoint::sync_dir(target);
    } else if !target.exists() {
        return Err(checkpoint::refuse(
            cp_path,
            format!(
                "the run was committing, but neither {} nor its partial file exists; run \
                 without --resume to start over",
                target.display()
            ),
        ));
    }
    Ok(())
}

/// The report of a run whose checkpoint says it is complete: its counters as committed.
pub(super) fn fill_complete(report: &mut Report, cp: &Checkpoint) {
    cp.counters.fill_report(report);
    report.bytes_written = cp.output_written;
    report.bytes_read = cp.position.stream_offset;
    report.ordered = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_finished_after_a_crash_refuses_a_partial_edited_since() {
        let dir = tempfile::tempdir().unwrap();
        let (partial, target, cp) = (
            dir.path().join(".out.csv.weir-partial"),
            dir.path().join("out.csv"),
            dir.path().join(".out.csv.weir-checkpoint"),
        );
        let committed = b"a,b\n1,2\n3,4\n";
        let hash = checkpoint::hash_hex(committed);
        // What the crashed commit left: the counted bytes and a piece after them.
        let mut left = committed.to_vec();
        left.extend_from_slice(b"5,");
        let mut edited = left.clone();
        edited[5] = b'9';
        fs::write(&partial, &edited).unwrap();
        let err = finish_rename(&partial, &target, (committed.len() as u64, &hash), &cp)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(".out.csv.weir-partial was changed since the checkpoint was taken"),
            "{err}"
        );
        assert!(!target.exists());
        assert_eq!(
            fs::read(&partial).unwrap(),
            edited,
            "a refusal cuts nothing"
        );
        fs::write(&partial, &left).unwrap();
        finish_rename(&partial, &target, (committed.len() as u64, &hash), &cp).unwrap();
        assert_eq!(fs::read(&target).unwrap(), committed);
        assert!(!partial.exists());
    }
}
