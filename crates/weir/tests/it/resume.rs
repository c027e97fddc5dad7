//! Resumable runs through the library: a run stopped at many points (by a transform that pulls
//! the stop handle at a given line) and resumed each time ends byte-identical to an
//! uninterrupted run, with every ordered gate (head, dedupe) carried over the stops.

use std::fs;
use std::path::Path;
use std::time::Duration;

use weir::transform::{Dedupe, Head};
use weir::{
    BindError, Columns, Outcome, PipelineBuilder, Record, Sink, Source, StopHandle, StopReason,
    Transform,
};

/// Pulls the stop handle when it sees the record at `line` (and lets it through).
#[derive(Clone)]
struct StopAt {
    line: u64,
    handle: StopHandle,
}

impl Transform for StopAt {
    fn name(&self) -> &str {
        "stop-at"
    }

    fn bind(&mut self, input: &Columns) -> Result<Columns, BindError> {
        Ok(input.clone())
    }

    fn apply(&mut self, record: &mut Record<'_>) -> Outcome {
        if record.line() == self.line {
            self.handle.stop(StopReason::Interrupted);
        }
        Outcome::Keep
    }
}

fn input() -> Vec<u8> {
    let mut data = b"id,key,note\n".to_vec();
    for i in 0..20_000u64 {
        let note = if i % 7 == 0 {
            format!("\"multi\nline {i}\"")
        } else {
            format!("n{i}")
        };
        data.extend_from_slice(format!("{i},{},{note}\n", (i * 7919) % 5003).as_bytes());
    }
    data
}

fn pipeline(dir: &Path, resumable: bool, stop: Option<(u64, StopHandle)>) -> PipelineBuilder {
    let mut b = PipelineBuilder::new(
        Source::Path(dir.join("in.csv")),
        Sink::Path(dir.join("out.csv")),
    )
    .rejects(Sink::Path(dir.join("rejects.csv")))
    .chunk_size(2048)
    .workers(3);
    if let Some((line, handle)) = stop {
        b = b
            .stop_handle(handle.clone())
            .transform(StopAt { line, handle });
    } else {
        // The same chain shape and fingerprint as the stopped runs.
        b = b.transform(StopAt {
            line: 0,
            handle: StopHandle::new(),
        });
    }
    b = b.transform(Dedupe::new(["key"])).transform(Head::new(4000));
    if resumable {
        b = b.resumable(Duration::from_millis(5), "test");
    }
    b
}

#[test]
fn stopped_at_many_points_and_resumed_the_library_run_equals_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("in.csv"), input()).unwrap();
    let reference = pipeline(dir.path(), false, None).build().run().unwrap();
    let want = fs::read(dir.path().join("out.csv")).unwrap();
    let want_rejects = fs::read(dir.path().join("rejects.csv")).unwrap();
    fs::remove_file(dir.path().join("out.csv")).unwrap();
    fs::remove_file(dir.path().join("rejects.csv")).unwrap();

    // Stop points from early to late (lines of records, physical lines included).
    let mut stops = 0;
    let mut line = 500;
    let report = loop {
        let handle = StopHandle::new();
        match pipeline(dir.path(), true, Some((line, handle)))
            .build()
            .run()
        {
            Ok(report) => break report,
            Err(failure) => {
                assert!(
                    matches!(failure.error, weir::Error::Stopped(_)),
                    "{}",
                    failure.error
                );
                assert!(!dir.path().join("out.csv").exists());
                stops += 1;
            }
        }
        // Every 450 lines: the head fills at line 4,573, where the run ends (ten stops before).
        line += 450;
    };
    assert!(stops >= 10, "{stops} stops");
    assert_eq!(fs::read(dir.path().join("out.csv")).unwrap(), want);
    assert_eq!(
        fs::read(dir.path().join("rejects.csv")).unwrap(),
        want_rejects
    );
    assert_eq!(report.records_read, reference.records_read);
    assert_eq!(report.records_written, reference.records_written);
    assert_eq!(report.records_filtered, reference.records_filtered);
    assert_eq!(report.records_rejected, reference.records_rejected);
    assert_eq!(report.bytes_written, reference.bytes_written);
    assert_eq!(report.chunks, reference.chunks);
    // Both end where the head fills, and read to the end of the chunk that holds it (a run
    // resumed after the head filled restores that place from its checkpoint).
    assert_eq!(report.stopped_early, reference.stopped_early);
    assert_eq!(report.bytes_read, reference.bytes_read);
    assert_eq!(
        report.resume.as_ref().map(|r| r.outcome),
        Some(weir::report::ResumeOutcome::Resumed)
    );
}
