//! The report file through the library: by default the [`weir::Report`] as it is, with no
//! sections of a sharded run; with `report_json` the caller's layout, used alike by a run that
//! commits, a run that fails (its report written alone) and a resumable run found complete.

use std::fs;
use std::path::Path;
use std::time::Duration;

use weir::shard::ShardReport;
use weir::{PipelineBuilder, Sink, Source, Status};

/// The report file's JSON, and its top-level keys in the order written.
fn read(path: &Path) -> (serde_json::Value, Vec<String>) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.ends_with("}\n"), "a final newline: {text}");
    let keys = text
        .lines()
        .filter_map(|l| l.strip_prefix("  \""))
        .filter_map(|l| l.split_once('"').map(|(k, _)| k.to_string()))
        .collect();
    (serde_json::from_str(&text).unwrap(), keys)
}

fn builder(dir: &Path, input: &str, report: &str) -> PipelineBuilder {
    PipelineBuilder::new(
        Source::Path(dir.join(input)),
        Sink::Path(dir.join(format!("{report}.out.csv"))),
    )
    .workers(2)
    .report(Sink::Path(dir.join(report)))
}

#[test]
fn the_report_file_is_the_report_unless_the_caller_wraps_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("in.csv"), "id,name\n1,a\n2,b\n").unwrap();
    // Ends inside quotes: the run fails and writes its report alone.
    fs::write(d.join("bad.csv"), "id,name\n1,a\n2,\"b\n").unwrap();

    let report = builder(d, "in.csv", "bare.json").build().run().unwrap();
    let (bare, bare_keys) = read(&d.join("bare.json"));
    assert_eq!(bare["status"], "succeeded");
    assert_eq!(bare["records_read"], 2);
    assert!(
        bare.get("shard").is_none() && bare.get("merge").is_none(),
        "{bare:#}"
    );
    assert_eq!(report.records_written, 2);

    let wrapped = builder(d, "in.csv", "wrapped.json").report_json(ShardReport::plain_json);
    wrapped.build().run().unwrap();
    let (json, keys) = read(&d.join("wrapped.json"));
    assert_eq!(json["records_read"], 2);
    assert_eq!(json["shard"], serde_json::Value::Null);
    assert_eq!(json["merge"], serde_json::Value::Null);
    let mut want = bare_keys.clone();
    want.extend(["shard".into(), "merge".into()]);
    assert_eq!(
        keys, want,
        "the report's keys in their order, then the two sections"
    );

    let failed = builder(d, "bad.csv", "failed.json").report_json(ShardReport::plain_json);
    let failure = failed.build().run().unwrap_err();
    assert!(
        failure.error.to_string().contains("never closed"),
        "{failure}"
    );
    let (json, keys) = read(&d.join("failed.json"));
    assert_eq!(json["status"], "failed");
    assert!(json["error"].as_str().unwrap().contains("never closed"));
    assert_eq!(keys, want);
    assert_eq!(failure.report.status, Status::Failed);

    // A resumable run whose output is complete commits this run's report, in the layout too.
    let resumable = || {
        builder(d, "in.csv", "resumed.json")
            .resumable(Duration::from_secs(60), "test")
            .report_json(ShardReport::plain_json)
    };
    resumable().build().run().unwrap();
    fs::remove_file(d.join("resumed.json")).unwrap();
    let again = resumable().build().run().unwrap();
    assert_eq!(
        again.resume.map(|r| r.outcome),
        Some(weir::report::ResumeOutcome::Complete)
    );
    let (json, keys) = read(&d.join("resumed.json"));
    assert_eq!(json["resume"]["outcome"], "complete");
    assert_eq!(json["shard"], serde_json::Value::Null);
    assert_eq!(keys, want);
}
