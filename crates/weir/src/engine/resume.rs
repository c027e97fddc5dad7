//! Resumable runs, before they start: checking the checkpoint against the inputs, the pipeline
//! and the output files, and finishing a commit a crash interrupted. See [`crate::checkpoint`].

use std::fs;
use std::path::{Path, PathBuf};

use crate::checkpoint::{self, Checkpoint, InputStamp, Paths, Resumable, State};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::report::{Report, Resume, ResumeOutcome};
use crate::sink::{Sink, SinkWriter};
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
    /// The checkpoint of a run that counted every record (state committing or complete):
    /// nothing is left to read, only its commit to end (see [`ResumeStart::commit_finished`]).
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
    /// Reads and checks the checkpoint for `sink`. `pipeline` describes everything that
    /// shapes the output.
    pub(super) fn prepare(
        r: &Resumable,
        pipeline: &str,
        sink: &Sink,
        (rejects, reasons): (Option<&Sink>, Option<&Sink>),
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
        let reasons = reasons
            .map(|s| plain_file(s, "rejects' reasons"))
            .transpose()?;
        let paths = Paths::new(&output, rejects.as_deref()).with_reasons(reasons.as_deref());
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
        let Some(cp) = Checkpoint::load(&cp_path)? else {
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
                // The crash came between the checkpoint that counts every record and the end
                // of the commit: `commit_finished` commits what is not in place yet, the
                // report with it. Refused here, before anything is written, if an output is
                // neither in place nor in its partial file.
                for (target, partial) in start.paths.targets() {
                    if !partial.exists() && !target.exists() {
                        return Err(checkpoint::refuse(
                            &cp_path,
                            format!(
                                "the run was committing, but neither {} nor its partial file \
                                 exists; run without --resume to start over",
                                target.display()
                            ),
                        ));
                    }
                }
                start.complete = Some(cp);
            }
            State::Complete => {
                for (target, _) in start.paths.targets() {
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

    /// Ends a run whose checkpoint counts every record (`complete`): commits `report`, this
    /// run's report, together with the outputs a crash left in their partial files (all
    /// appear, or none changes, as at the end of a run; see [`crate::sink::commit_all`]), then
    /// records that the run is complete. With the outputs in place already, the report is
    /// committed alone, so a run that ends well always leaves its report.
    pub(super) fn commit_finished(
        &self,
        report: Option<SinkWriter>,
        compression_level: Option<i32>,
    ) -> Result<()> {
        let mut cp = self.complete.clone().expect("a complete plan");
        let committing = cp.state == State::Committing;
        let cp_path = &self.paths.checkpoint;
        let mut members = Vec::new();
        if committing {
            if let (Some(p), Some(t)) = (&self.paths.rejects_partial, &self.paths.rejects) {
                let kept = (cp.rejects_len, cp.rejects_written, cp.rejects_hash.as_str());
                members.extend(finished_partial(p, t, kept, compression_level, cp_path)?);
            }
            let reasons = (
                &self.paths.reasons_partial,
                &self.paths.reasons,
                &cp.reasons,
            );
            if let (Some(p), Some(t), Some(r)) = reasons {
                let kept = (r.len, r.written, r.hash.as_str());
                members.extend(finished_partial(p, t, kept, compression_level, cp_path)?);
            }
        }
        members.extend(report);
        if committing {
            let kept = (cp.output_len, cp.output_written, cp.output_hash.as_str());
            let (p, t) = (&self.paths.output_partial, &self.paths.output);
            members.extend(finished_partial(p, t, kept, compression_level, cp_path)?);
        }
        crate::sink::commit_all(members)?;
        crate::sink::crash_point(format_args!("committed"));
        if committing {
            cp.state = State::Complete;
            cp.store(cp_path)?;
            let _ = fs::remove_file(&self.paths.gates);
        }
        Ok(())
    }
}

/// A committing run's partial file, cut to the length the checkpoint counts (all of it was
/// synced before the checkpoint; a crash while the commit was ending it may have left a piece
/// of a compressed stream's end after it) and checked against its digest, as a writer to
/// commit to `target`; `None` when an earlier attempt committed it already.
fn finished_partial(
    partial: &Path,
    target: &Path,
    (len, written, hash): (u64, u64, &str),
    compression_level: Option<i32>,
    cp_path: &Path,
) -> Result<Option<SinkWriter>> {
    if !partial.exists() {
        return Ok(None);
    }
    // An edit since the crash is a refusal, not a file committed.
    let (file, digest) = checkpoint::open_partial_verified(partial, Some((len, hash)), cp_path)?;
    let mut w = SinkWriter::partial(
        file,
        partial.to_path_buf(),
        target.to_path_buf(),
        written,
        compression_level,
        digest,
    )?;
    // The cut on disk before the file is committed.
    w.sync()?;
    Ok(Some(w))
}

/// The report of a run whose checkpoint counts every record: its counters and digests as
/// committed.
pub(super) fn fill_complete(report: &mut Report, cp: &Checkpoint) {
    cp.counters.fill_report(report);
    report.bytes_written = cp.output_written;
    report.bytes_read = cp.position.stream_offset;
    report.ordered = true;
    let digest = |hash: &str| (!hash.is_empty()).then(|| hash.to_string());
    report.output_digest = digest(&cp.output_hash);
    report.rejects_digest = cp.rejects.as_ref().and_then(|_| digest(&cp.rejects_hash));
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
        let len = committed.len() as u64;
        let err = finished_partial(&partial, &target, (len, len, &hash), None, &cp)
            .err()
            .unwrap()
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
        let w = finished_partial(&partial, &target, (len, len, &hash), None, &cp)
            .unwrap()
            .unwrap();
        crate::sink::commit_all(vec![w]).unwrap();
        assert_eq!(fs::read(&target).unwrap(), committed);
        assert!(!partial.exists());
    }

    /// What a test run writes: its output, its rejects (if any), and its report.
    #[derive(Clone, Copy)]
    struct Shape {
        output: &'static str,
        rejects: Option<&'static str>,
        /// The reasons of rejects in the input's format, if they are.
        reasons: Option<&'static str>,
    }

    const SHAPES: [Shape; 4] = [
        Shape {
            output: "out.csv",
            rejects: Some("rejects.csv"),
            reasons: None,
        },
        Shape {
            output: "out.csv.gz",
            rejects: None,
            reasons: None,
        },
        Shape {
            output: "out.csv.zst",
            rejects: Some("rejects.csv.gz"),
            reasons: None,
        },
        Shape {
            output: "out.csv",
            rejects: Some("bad.csv.gz"),
            reasons: Some("bad.errors.csv.gz"),
        },
    ];

    /// The folder and the shape (an index in [`SHAPES`]) of the run a child process makes in
    /// [`crash_child`].
    const CRASH_DIR: &str = "WEIR_TEST_CRASH_DIR";
    const CRASH_SHAPE: &str = "WEIR_TEST_CRASH_SHAPE";

    /// A pipeline over `dir/in.csv` whose ragged records are rejected, resumable or not.
    fn run_in(dir: &Path, shape: Shape, resumable: bool) -> crate::PipelineBuilder {
        let mut b = crate::PipelineBuilder::new(
            Source::Path(dir.join("in.csv")),
            Sink::Path(dir.join(shape.output)),
        )
        .chunk_size(200)
        .workers(2)
        .report(Sink::Path(dir.join("report.json")));
        if let Some(r) = shape.rejects {
            b = b.rejects(Sink::Path(dir.join(r)));
        }
        if shape.reasons.is_some() {
            b = b.rejects_format(crate::sink::RejectsFormat::Input);
        }
        if resumable {
            b = b.resumable(std::time::Duration::ZERO, "crash test");
        }
        b
    }

    fn input() -> String {
        let mut s = String::from("id,name\n");
        for i in 0..300 {
            if i % 7 == 3 {
                s.push_str(&format!("{i},n{i},extra\n"));
            } else {
                s.push_str(&format!("{i},n{i}\n"));
            }
        }
        s
    }

    /// A file's text in `dir`, decompressed as its name says, the folder's name taken out.
    fn text(dir: &Path, name: &str) -> String {
        let bytes = plain(&dir.join(name));
        let text = String::from_utf8(bytes).unwrap();
        text.replace(&dir.display().to_string(), "DIR")
    }

    /// A file's content, decompressed as its name says.
    fn plain(path: &Path) -> Vec<u8> {
        use std::io::Read;
        let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut out = Vec::new();
        match crate::compress::Compression::from_path(path) {
            crate::compress::Compression::Gzip => {
                flate2::read::MultiGzDecoder::new(&bytes[..])
                    .read_to_end(&mut out)
                    .unwrap();
            }
            crate::compress::Compression::Zstd => out = zstd::decode_all(&bytes[..]).unwrap(),
            _ => out = bytes,
        }
        out
    }

    /// The report in `dir`, as JSON, the folder's name taken out.
    fn report_at(dir: &Path) -> serde_json::Value {
        let path = dir.join("report.json");
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text.replace(&dir.display().to_string(), "DIR")).unwrap()
    }

    /// What must be equal between the report of an uninterrupted run and a resumed one.
    fn counters(report: &serde_json::Value) -> Vec<(&'static str, serde_json::Value)> {
        [
            "status",
            "records_read",
            "records_written",
            "records_rejected",
            "rejects_by_error",
            "first_rejects",
            "bytes_read",
            "bytes_written",
            "committed_offset",
            "chunks",
        ]
        .into_iter()
        .map(|k| (k, report[k].clone()))
        .collect()
    }

    /// Not a test of its own: the run that a child process of
    /// [`a_commit_cut_at_any_step_ends_with_output_rejects_and_report`] makes, and dies in at
    /// the step [`crate::sink::CRASH_AT`] names (or finishes, if the run has no such step).
    #[test]
    fn crash_child() {
        let (Ok(dir), Ok(shape)) = (std::env::var(CRASH_DIR), std::env::var(CRASH_SHAPE)) else {
            return;
        };
        let shape = SHAPES[shape.parse::<usize>().unwrap()];
        let _ = run_in(Path::new(&dir), shape, true).build().run();
    }

    /// Runs the resumable pipeline in `dir` in a child process that dies at `step`; whether
    /// it did.
    fn crash_at(dir: &Path, shape: usize, step: &str) -> bool {
        let test = concat!(module_path!(), "::crash_child");
        let test = test.split_once("::").unwrap().1;
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([test, "--exact", "--test-threads=1", "-q"])
            .env(crate::sink::CRASH_AT, step)
            .env(CRASH_DIR, dir)
            .env(CRASH_SHAPE, shape.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        !status.success()
    }

    /// The files of `dir` that only the machinery sees.
    fn hidden(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        names.sort();
        names
    }

    /// A SIGKILL at each step of a resumable run's commit (after the checkpoint that counts
    /// every record; after the journal; after each rename; after the last, before the
    /// checkpoint says complete), and at each step again in the commit the next run ends it
    /// with: never an output without its report and rejects, and the run after ends with all
    /// three, the report's counters and digests those of an uninterrupted run. Then a run of
    /// a complete output writes its report too.
    #[test]
    fn a_commit_cut_at_any_step_ends_with_output_rejects_and_report() {
        let steps = [
            "committing recorded",
            "journal written",
            "placed 0",
            "placed 1",
            "placed 2",
            "placed 3",
            "committed",
        ];
        for (index, &shape) in SHAPES.iter().enumerate() {
            let reference = tempfile::tempdir().unwrap();
            let r = reference.path();
            fs::write(r.join("in.csv"), input()).unwrap();
            run_in(r, shape, false).build().run().unwrap();
            let want = counters(&report_at(r));
            assert_ne!(want[3].1, 0, "the test's input has rejects");
            // A second crash, in the commit that ends the first's, for one shape.
            let again: &[Option<&str>] = if index == 0 {
                &[
                    None,
                    Some("journal written"),
                    Some("placed 0"),
                    Some("placed 1"),
                    Some("committed"),
                ]
            } else {
                &[None]
            };
            for first in steps {
                for &second in again {
                    let case = format!("{} after {first}, then {second:?}", shape.output);
                    let dir = tempfile::tempdir().unwrap();
                    let d = dir.path();
                    fs::write(d.join("in.csv"), input()).unwrap();
                    let died = crash_at(d, index, first);
                    // Members: the rejects and their reasons if any, the report, the output.
                    let members = 2
                        + usize::from(shape.rejects.is_some())
                        + usize::from(shape.reasons.is_some());
                    let reached = match first.strip_prefix("placed ") {
                        Some(i) => i.parse::<usize>().unwrap() < members,
                        None => true,
                    };
                    assert_eq!(died, reached, "{case}: whether the child died");
                    if let Some(second) = second {
                        crash_at(d, index, second);
                    }
                    let visible = |name: &str| d.join(name).exists();
                    if visible(shape.output) {
                        // The commit point passed: the rest is there too.
                        assert!(
                            visible("report.json"),
                            "{case}: an output without its report"
                        );
                        assert!(shape.rejects.is_none_or(visible), "{case}: no rejects");
                        assert!(shape.reasons.is_none_or(visible), "{case}: no reasons");
                    }
                    let report = run_in(d, shape, true)
                        .build()
                        .run()
                        .unwrap_or_else(|f| panic!("{case}: {}", f.error));
                    assert_eq!(text(d, shape.output), text(r, shape.output), "{case}");
                    for file in shape.rejects.iter().chain(&shape.reasons) {
                        assert_eq!(text(d, file), text(r, file), "{case}");
                    }
                    assert!(
                        visible("report.json"),
                        "{case}: a run that ended well left no report"
                    );
                    let got = report_at(d);
                    assert_eq!(counters(&got), want, "{case}");
                    // The digests the run gives are the committed files'.
                    let digest =
                        |name: &str| Some(checkpoint::hash_hex(&fs::read(d.join(name)).unwrap()));
                    assert_eq!(report.output_digest, digest(shape.output), "{case}");
                    if let Some(rejects) = shape.rejects {
                        assert_eq!(report.rejects_digest, digest(rejects), "{case}");
                    }
                    assert_eq!(
                        hidden(d),
                        [format!(".{}.weir-checkpoint", shape.output)],
                        "{case}"
                    );

                    // Once more: the output is complete; its report is written all the same.
                    let before = fs::read(d.join(shape.output)).unwrap();
                    fs::remove_file(d.join("report.json")).unwrap();
                    let report = run_in(d, shape, true).build().run().unwrap();
                    assert_eq!(
                        report.resume.map(|r| r.outcome),
                        Some(crate::report::ResumeOutcome::Complete)
                    );
                    assert_eq!(counters(&report_at(d)), want, "{case}");
                    assert_eq!(fs::read(d.join(shape.output)).unwrap(), before, "{case}");
                }
            }
        }
    }
}
