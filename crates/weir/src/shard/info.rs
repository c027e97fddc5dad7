//! What a sharded run adds to a report: the `shard` section of one shard's report, the `merge`
//! section of the merged one, and [`ShardReport`], the envelope that carries them around a
//! [`Report`]. Every report the `weir` command writes is in this envelope (a plain run's with
//! both sections null), so all of them have one layout, `docs/report.schema.json`; the engine
//! and [`Report`] know nothing of shards.

use serde::{Deserialize, Serialize};

use crate::report::Report;

/// A report with the sections a sharded run adds: the report's own fields, then `shard` and
/// `merge`, each `null` where it does not apply. A shard's report (in the shard folder's
/// `_reports/`) has `shard`, the merged report (`_report.json`) has `merge`, and a run on one
/// machine neither ([`ShardReport::plain_json`] writes it, for
/// [`PipelineBuilder::report_json`](crate::PipelineBuilder::report_json)).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardReport {
    /// The run's report.
    #[serde(flatten)]
    pub report: Report,
    /// For one shard of a sharded run: which byte range of which input it owned, where it
    /// started and ended, and its part; `None` for other runs.
    #[serde(default)]
    pub shard: Option<ShardInfo>,
    /// For the merged report of a sharded run: the shards and the repairs; `None` otherwise.
    #[serde(default)]
    pub merge: Option<MergeInfo>,
}

impl ShardReport {
    /// A report in the envelope with neither section.
    pub fn plain(report: Report) -> ShardReport {
        ShardReport {
            report,
            shard: None,
            merge: None,
        }
    }

    /// The report as a report file holds it: pretty JSON, a final newline.
    pub fn json(&self) -> Vec<u8> {
        let mut json = serde_json::to_vec_pretty(self).expect("a report serialises");
        json.push(b'\n');
        json
    }

    /// The report of a run that is neither a shard nor a merge, in the envelope (`shard` and
    /// `merge` null), as [`ShardReport::json`] writes it: what `weir run --report` writes,
    /// passed to [`PipelineBuilder::report_json`](crate::PipelineBuilder::report_json).
    pub fn plain_json(report: &Report) -> Vec<u8> {
        ShardReport::plain(report.clone()).json()
    }
}

/// What a shard's report says of the shard (the report's `shard` field).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// The shard's index, from 0.
    pub index: usize,
    /// How many shards the plan has.
    pub count: usize,
    /// The plan's id.
    pub plan: String,
    /// The index of the input it read.
    pub input: usize,
    /// The plan's range.
    pub nominal_start: u64,
    /// The plan's range end.
    pub nominal_end: u64,
    /// Where its first record started.
    pub start: u64,
    /// Just after its last record (= `start` when it owned none).
    pub end: u64,
    /// How the start was found.
    pub start_guess: StartGuess,
    /// Line breaks between `start` and `end`.
    pub lines: u64,
    /// The length of the header row at the top of its part (0 without one).
    pub header_bytes: u64,
    /// The part's file name in the shard folder.
    pub part: String,
    /// The part's size in bytes.
    pub part_bytes: u64,
    /// The xxh64 of the part's bytes as written (16 hex digits), computed while writing it:
    /// `weir merge` reads every part back and refuses one whose bytes differ.
    #[serde(default)]
    pub part_xxh64: Option<String>,
    /// The shard's rejects file in the shard folder.
    #[serde(default)]
    pub rejects: String,
    /// Its size in bytes.
    #[serde(default)]
    pub rejects_bytes: u64,
    /// Its xxh64, as `part_xxh64`.
    #[serde(default)]
    pub rejects_xxh64: Option<String>,
    /// When it started and finished (seconds since 1970).
    pub started_at: f64,
    /// See `started_at`.
    pub finished_at: f64,
    /// The command that ran it, without its shard selection, for a re-run from another start.
    pub argv: Vec<String>,
    /// The folder it ran in.
    pub cwd: String,
    /// The shard selection it ran with: `K` (with the plan file) or `K/N`.
    pub selection: String,
    /// For a failed shard: the line its error names, counted like the rejects' lines.
    pub error_line: Option<u64>,
}

/// What the merged report says of the shards (its `merge` field).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeInfo {
    /// The plan's id.
    pub plan: String,
    /// How many shards.
    pub shards: usize,
    /// The shards whose guessed start was wrong and that were re-run from the proven start.
    pub repairs: Vec<usize>,
    /// The single file the parts were concatenated into, if any.
    pub concat: Option<String>,
}

/// How a shard found where its first record starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartGuess {
    /// `data-start` (the first shard of an input), `newline` (a newline always ends a record),
    /// `given` (`--start-at`), `whole-input` (an input that cannot be cut), or the CSV
    /// hypothesis kept: `outside-quotes`, `inside-quotes` (`agree` when both found the same
    /// start).
    pub hypothesis: String,
    /// What each hypothesis found.
    pub candidates: Vec<Candidate>,
    /// Where the two hypotheses' parses reach the same record boundary, when they start apart
    /// and meet within the window read (then the one with fewer bad records on the way wins).
    #[serde(default)]
    pub met_at: Option<u64>,
}

/// What one hypothesis about the quote state before a shard's nominal start found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// `outside-quotes` or `inside-quotes`.
    pub hypothesis: String,
    /// The record start it leads to (`None`: the input ended inside quotes).
    pub start: Option<u64>,
    /// Records parsed after it (at most 100, or 64 KiB).
    pub records: u64,
    /// Of those, how many have the header's field count and no stray quote.
    pub well_formed: u64,
    /// Quotes that only make sense on the other hypothesis: a quote inside an unquoted field,
    /// text right after a closing quote.
    pub stray_quotes: u64,
    /// Bad records (another field count, stray quotes) its parse met before the other
    /// hypothesis's parse joined it.
    #[serde(default)]
    pub bad_before_meeting: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys of a JSON object, in the order written.
    fn keys(json: &[u8]) -> Vec<String> {
        // serde_json's maps are sorted; the order written is read off the text.
        let text = std::str::from_utf8(json).unwrap();
        text.lines()
            .filter_map(|l| l.strip_prefix("  \""))
            .filter_map(|l| l.split_once('"').map(|(k, _)| k.to_string()))
            .collect()
    }

    fn report() -> Report {
        let mut r = Report::empty("in.csv".into());
        r.records_read = 3;
        r.records_written = 2;
        r.records_rejected = 1;
        r.output_digest = Some("0123456789abcdef".into());
        r
    }

    #[test]
    fn a_plain_run_in_the_envelope_is_the_report_then_null_sections() {
        let r = report();
        let bare = serde_json::to_vec_pretty(&r).unwrap();
        let json = ShardReport::plain_json(&r);
        // The report's own keys in its order, then the two sections, last.
        let mut want = keys(&bare);
        assert!(want.len() > 20 && !want.iter().any(|k| k == "shard" || k == "merge"));
        want.extend(["shard".to_string(), "merge".to_string()]);
        assert_eq!(keys(&json), want);
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["shard"], serde_json::Value::Null);
        assert_eq!(value["merge"], serde_json::Value::Null);
        assert_eq!(value["records_rejected"], 1);
        assert!(json.ends_with(b"}\n"), "a final newline");
        // The report's own text inside.
        let inner = &bare[..bare.len() - 2]; // up to the closing brace's line break
        assert!(json.starts_with(inner), "the report's text is kept as is");
    }

    #[test]
    fn the_envelope_reads_back_and_a_bare_report_reads_it_too() {
        let shard = ShardInfo {
            index: 2,
            count: 5,
            plan: "p".into(),
            start: 100,
            end: 250,
            lines: 7,
            start_guess: StartGuess {
                hypothesis: "agree".into(),
                candidates: vec![Candidate {
                    hypothesis: "outside-quotes".into(),
                    start: Some(100),
                    ..Default::default()
                }],
                met_at: None,
            },
            ..Default::default()
        };
        let merge = MergeInfo {
            plan: "p".into(),
            shards: 5,
            repairs: vec![1],
            concat: None,
        };
        let env = ShardReport {
            report: report(),
            shard: Some(shard.clone()),
            merge: Some(merge.clone()),
        };
        let json = env.json();
        let back: ShardReport = serde_json::from_slice(&json).unwrap();
        assert_eq!(back.shard, Some(shard));
        assert_eq!(back.merge, Some(merge));
        assert_eq!(back.report.records_read, 3);
        assert_eq!(
            back.report.output_digest, None,
            "digests are not in the JSON"
        );
        assert_eq!(back.json(), json);
        // A library user reading a report the command wrote, without the envelope.
        let bare: Report = serde_json::from_slice(&json).unwrap();
        assert_eq!(bare.records_written, 2);
        // A report written without the sections reads as one with neither.
        let plain: ShardReport =
            serde_json::from_slice(&serde_json::to_vec(&report()).unwrap()).unwrap();
        assert!(plain.shard.is_none() && plain.merge.is_none());
    }
}
