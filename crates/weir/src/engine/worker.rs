//! Workers: decode a chunk, run the chain on each record, encode output and rejects.

use std::ops::Range;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use crate::error::{Error, SourceName};
use crate::format::csv::{CsvDecoder, CsvEncoder};
use crate::format::encode::Encoder;
use crate::format::jsonl::{JsonDecoder, KeyCheck, NotText};
use crate::format::lines::Lines;
use crate::format::skim::{skim, Skimmed};
use crate::format::{Dialect, Format, InvalidUtf8, Ragged};
use crate::record::{Columns, Record, RecordBuf, ValueKind};
use crate::report::{Progress, WorkerReport};
use crate::sink::RejectsFormat;
use crate::split::{Chunk, Oversized, OVERSIZED_HEAD};
use crate::transform::{Chain, OnPanic, Outcome, Reject, TRANSFORM_PANIC};
use crate::units::plural;

use super::batch::{Batch, Fate, Gated, Rejected, Slot};
use super::stop::{panic_message, recv_until_stopped, StopState};

/// Everything a worker needs that does not change during a run.
#[derive(Clone)]
pub struct WorkerSpec {
    pub dialect: Dialect,
    /// The dialect written; raw input bytes are copied only when it encodes as `dialect` does.
    pub output_dialect: Dialect,
    pub input_columns: Columns,
    pub output_columns: Columns,
    /// What to do with a record whose width differs from the header's.
    pub ragged: Ragged,
    /// What to do with a record longer than `max_record_size`.
    pub oversized: Oversized,
    pub chain: Chain,
    /// The inputs' names, by `Chunk::source`.
    pub source_names: Vec<SourceName>,
    pub max_record_size: usize,
    /// The typed columns of a Parquet output.
    pub parquet: Option<std::sync::Arc<crate::format::parquet::ParquetLayout>>,
    /// What a panic in the chain does to the record and the run.
    pub on_panic: OnPanic,
    /// What to do with a value that is not Unicode text where text is needed.
    pub invalid_utf8: InvalidUtf8,
    /// How rejected records are written: a table of reasons, or their bytes as read.
    pub rejects_format: RejectsFormat,
}

/// One worker's reusable state.
pub struct Worker {
    spec: WorkerSpec,
    rec: RecordBuf,
    json: JsonDecoder,
    encoder: Encoder,
    /// Whether a record's raw input bytes are a correct encoding in the output dialect.
    raw_ok: bool,
    rejects_enc: CsvEncoder,
    /// Raw input span waiting to be copied to the output (coalesced passthrough).
    pending: Option<Range<usize>>,
    /// Values of the current record its decoder replaced with U+FFFD (counted if written).
    replaced: u64,
    /// A key of the current JSON Lines record that is not a column, kept by `--ragged keep`:
    /// only its raw line can hold it.
    kept_extra: Option<String>,
}

impl Worker {
    pub fn new(spec: WorkerSpec) -> Worker {
        Worker {
            // Only JSON Lines needs the key index (one entry per column: costly for wide CSV).
            json: match spec.dialect.format {
                Format::Jsonl => JsonDecoder::new(&spec.input_columns),
                _ => JsonDecoder::new(&Columns::default()),
            },
            encoder: {
                let mut encoder = match &spec.parquet {
                    Some(layout) => Encoder::parquet(layout.clone()),
                    None => Encoder::new(&spec.output_dialect, &spec.dialect, &spec.output_columns),
                };
                encoder.invalid_utf8(spec.invalid_utf8);
                encoder
            },
            raw_ok: spec.output_dialect.same_encoding(&spec.dialect),
            rejects_enc: CsvEncoder::new(&Dialect::new(Format::Csv)),
            spec,
            rec: RecordBuf::default(),
            pending: None,
            replaced: 0,
            kept_extra: None,
        }
    }

    /// Processes a whole chunk into `batch`.
    pub fn process(&mut self, chunk: &Chunk, batch: &mut Batch) {
        batch.clear();
        self.pending = None;
        self.rec.set_base(chunk.offset);
        if let Some(o) = &chunk.oversized {
            // The splitter skipped a record too long to hold; it is the chunk's only content.
            batch.records_read += 1;
            let r = oversized_reject(o.len, self.spec.max_record_size, self.spec.rejects_format);
            let at = Place {
                file: &self.spec.source_names[chunk.source],
                line: o.line,
                offset: o.offset,
            };
            let format = self.spec.rejects_format;
            reject_oversized(&mut self.rejects_enc, format, batch, r, at, &o.head);
            return;
        }
        let input = &chunk.data[..];
        match self.spec.dialect.format {
            Format::Csv | Format::Tsv if self.spec.chain.is_empty() && self.raw_ok => {
                let (delimiter, quote) = (self.spec.dialect.delimiter, self.spec.dialect.quote);
                skim(input, delimiter, quote, chunk.first_line, |s| {
                    self.handle_skimmed(chunk, batch, s)
                });
            }
            Format::Csv | Format::Tsv => {
                let mut dec = CsvDecoder::new(input, &self.spec.dialect, chunk.first_line);
                while dec.next_record(&mut self.rec) {
                    self.handle(chunk, batch, None);
                }
            }
            Format::Jsonl => {
                for (start, end, term, line) in Lines::new(input, chunk.first_line) {
                    if input[start..end].iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    self.rec.reset(start);
                    self.rec.set_raw(end, term);
                    self.rec.set_position(line, start as u64);
                    let reject = match self.json.decode(input, start, end, &mut self.rec) {
                        Err(e) => Some(Reject::new(
                            "parse-error",
                            None,
                            format!(
                                "not a JSON object: {} at column {}",
                                e.what,
                                e.at - start + 1
                            ),
                        )),
                        Ok(check) => self.json_reject(check),
                    };
                    self.handle(chunk, batch, reject);
                }
            }
            // Never read: the prologue refuses Parquet input before any worker starts.
            Format::Parquet => {}
            Format::Lines => {
                for (start, end, term, line) in Lines::new(input, chunk.first_line) {
                    self.rec.reset(start);
                    self.rec.push_input(start, end, ValueKind::Text);
                    self.rec.set_raw(end, term);
                    self.rec.set_position(line, start as u64);
                    self.handle(chunk, batch, None);
                }
            }
        }
        self.flush_pending(input, batch);
    }

    /// Whether a decoded JSON Lines record is a reject (a duplicate key, a value that is not
    /// text, a ragged record `--ragged` refuses); otherwise marks it changed where it is not
    /// written as its raw line (padded, truncated, replaced) and keeps what `--ragged keep`
    /// needs.
    #[inline]
    fn json_reject(&mut self, check: KeyCheck) -> Option<Reject> {
        let ragged = self.spec.ragged;
        if let Some(key) = &check.duplicate {
            Some(Reject::new(
                "duplicate-key",
                Some(key.clone()),
                format!(
                    "key '{key}' appears more than once in the object \
                     (which of its values is meant is not known)"
                ),
            ))
        } else if let Some(bad) = check
            .not_text
            .as_ref()
            .filter(|_| self.spec.invalid_utf8 == InvalidUtf8::Reject)
        {
            Some(not_text_reject(bad))
        } else if let Some(key) = check.extra.as_ref().filter(|_| !ragged.accepts_long()) {
            Some(Reject::new(
                "extra-cell",
                Some(key.clone()),
                format!("key '{key}' is not a column of the first record"),
            ))
        } else if let Some(i) = check.missing.filter(|_| !ragged.accepts_short()) {
            let missing = self.spec.input_columns.names()[i].clone();
            Some(Reject::new(
                "missing-cell",
                Some(missing.clone()),
                format!("key '{missing}' is missing"),
            ))
        } else {
            // Padded or truncated: written as decoded (absent keys null,
            // unknown keys gone), not as the raw line.
            if ragged != Ragged::Keep && (check.extra.is_some() || check.missing.is_some()) {
                self.rec.mark_changed();
            }
            if check.not_text.is_some() {
                // Replaced: the raw line is not what is written.
                self.rec.mark_changed();
                self.replaced = u64::from(check.replaced);
            }
            if ragged == Ragged::Keep {
                self.kept_extra = check.extra;
            }
            None
        }
    }

    /// Decodes up to `limit` records of a chunk into owned text rows (`None` for NULL), for
    /// sampling; no transforms run and nothing is encoded.
    pub fn sample(&mut self, chunk: &Chunk, limit: usize, rows: &mut Vec<Vec<Option<String>>>) {
        let data = &chunk.data[..];
        let to_row = |rec: Record<'_>| -> Vec<Option<String>> {
            rec.fields()
                .map(|(b, k)| {
                    (k != ValueKind::Null).then(|| String::from_utf8_lossy(b).into_owned())
                })
                .collect()
        };
        let mut taken = 0;
        match self.spec.dialect.format {
            Format::Csv | Format::Tsv => {
                let mut dec = CsvDecoder::new(data, &self.spec.dialect, chunk.first_line);
                while taken < limit && dec.next_record(&mut self.rec) {
                    rows.push(to_row(Record::new(data, &mut self.rec)));
                    taken += 1;
                }
            }
            Format::Jsonl => {
                for (start, end, term, line) in Lines::new(data, chunk.first_line) {
                    if taken >= limit {
                        break;
                    }
                    self.rec.reset(start);
                    self.rec.set_raw(end, term);
                    self.rec.set_position(line, start as u64);
                    if self.json.decode(data, start, end, &mut self.rec).is_ok() {
                        rows.push(to_row(Record::new(data, &mut self.rec)));
                        taken += 1;
                    }
                }
            }
            Format::Parquet => {}
            Format::Lines => {
                for (start, end, _, _) in Lines::new(data, chunk.first_line).take(limit) {
                    rows.push(vec![Some(
                        String::from_utf8_lossy(&data[start..end]).into_owned(),
                    )]);
                }
            }
        }
    }

    /// A record met by the skimmer (no transforms): copied raw when canonical, otherwise
    /// decoded and re-encoded; checked for size and width like any other.
    fn handle_skimmed(&mut self, chunk: &Chunk, batch: &mut Batch, s: &Skimmed) {
        let input = &chunk.data[..];
        let width_ok =
            self.spec.ragged == Ragged::Keep || s.fields == self.spec.input_columns.len();
        if batch.fatal.is_none()
            && width_ok
            && s.canonical
            && s.end - s.start + s.term_len <= self.spec.max_record_size
        {
            batch.records_read += 1;
            batch.records_written += 1;
            copy_raw(
                &mut self.pending,
                input,
                &mut batch.out,
                (s.start, s.end, s.term_len),
            );
            return;
        }
        // The rare path: decode the record fully, then handle it as the full decoder would.
        let mut dec = CsvDecoder::at(input, &self.spec.dialect, s.start, s.line);
        if dec.next_record(&mut self.rec) {
            self.handle(chunk, batch, None);
        }
    }

    /// Checks the record's width against the header's: a ragged record is padded, truncated,
    /// kept or rejected as `--ragged` says.
    fn width_reject(&mut self) -> Option<Reject> {
        let ragged = self.spec.ragged;
        if ragged == Ragged::Keep || !matches!(self.spec.dialect.format, Format::Csv | Format::Tsv)
        {
            return None;
        }
        let want = self.spec.input_columns.len();
        let got = self.rec.field_count();
        if got == want {
            return None;
        }
        if (got < want && ragged.accepts_short()) || (got > want && ragged.accepts_long()) {
            self.rec.fit_fields(want);
            return None;
        }
        let names = self.spec.input_columns.names();
        if got < want {
            Some(Reject::new(
                "missing-cell",
                Some(names[got].clone()),
                format!(
                    "record has {}, the header has {want}: '{}' is missing",
                    plural(got, "field"),
                    names[got]
                ),
            ))
        } else {
            Some(Reject::new(
                "extra-cell",
                Some(format!("{}", want + 1)),
                format!("record has {}, the header has {want}", plural(got, "field")),
            ))
        }
    }

    fn handle(&mut self, chunk: &Chunk, batch: &mut Batch, reject: Option<Reject>) {
        let replaced = std::mem::take(&mut self.replaced);
        let kept_extra = self.kept_extra.take();
        if batch.fatal.is_some() {
            return;
        }
        if self.rec.raw_len() > self.spec.max_record_size {
            // The splitter bounds memory; records shorter than a chunk are caught here.
            if self.spec.oversized == Oversized::Reject {
                batch.records_read += 1;
                let (len, limit) = (self.rec.raw_len() as u64, self.spec.max_record_size);
                let r = oversized_reject(len, limit, self.spec.rejects_format);
                let record = Record::new(&chunk.data, &mut self.rec);
                let at = Place {
                    file: &self.spec.source_names[chunk.source],
                    line: record.line(),
                    offset: record.byte_offset(),
                };
                let raw = record.raw();
                let head = &raw[..raw.len().min(OVERSIZED_HEAD)];
                let format = self.spec.rejects_format;
                reject_oversized(&mut self.rejects_enc, format, batch, r, at, head);
                return;
            }
            let record = Record::new(&chunk.data, &mut self.rec);
            batch.fatal = Some(crate::error::Error::RecordTooLarge {
                source_name: self.spec.source_names[chunk.source].clone(),
                line: record.line(),
                byte_offset: record.byte_offset(),
                limit: self.spec.max_record_size,
            });
            return;
        }
        batch.records_read += 1;
        let reject = reject.or_else(|| self.width_reject());
        let input = &chunk.data[..];
        let outcome = match reject {
            Some(r) => Outcome::Reject(r),
            None => {
                let mut record = Record::new(input, &mut self.rec);
                match self.spec.chain.apply_guarded(&mut record) {
                    Ok(outcome) => outcome,
                    Err(p) => {
                        let transform = self.spec.chain.step_name(p.step).to_string();
                        if self.spec.on_panic == OnPanic::Stop {
                            batch.fatal = Some(crate::error::Error::TransformPanic {
                                transform,
                                source_name: self.spec.source_names[chunk.source].clone(),
                                line: record.line(),
                                byte_offset: record.byte_offset(),
                                message: p.message,
                            });
                            return;
                        }
                        Outcome::Reject(Reject::new(
                            TRANSFORM_PANIC,
                            None,
                            format!("transform '{transform}' panicked: {}", p.message),
                        ))
                    }
                }
            }
        };
        let gated = !self.rec.claims().is_empty();
        if gated {
            // Its bytes must be separable: nothing of it may wait in the coalesced span.
            flush(&mut self.pending, input, &mut batch.out);
        }
        let (out0, rej0) = (batch.out.len(), batch.rejects.len());
        let mut more_kinds = Vec::new();
        let fate = match outcome {
            Outcome::Keep => match self.encode(input, batch, kept_extra) {
                Ok(()) => {
                    batch.records_written += 1;
                    batch.values_replaced += replaced + self.encoder.take_replaced();
                    Fate::Written
                }
                Err(r) => Fate::Rejected(self.write_reject(chunk, batch, r).0),
            },
            Outcome::Filter => {
                batch.records_filtered += 1;
                Fate::Filtered
            }
            Outcome::Reject(r) => {
                let (index, more) = self.write_reject(chunk, batch, r);
                more_kinds = more;
                Fate::Rejected(index)
            }
        };
        if gated {
            flush(&mut self.pending, input, &mut batch.out);
            let c0 = batch.claims.len();
            batch.claims.extend_from_slice(self.rec.claims());
            let record = Record::new(input, &mut self.rec);
            let raw_start = record.raw().as_ptr() as usize - input.as_ptr() as usize;
            batch.gated.push(Gated {
                claims: c0..batch.claims.len(),
                fate,
                out: out0..batch.out.len(),
                rejects: rej0..batch.rejects.len(),
                raw: raw_start..raw_start + record.raw().len(),
                more_kinds,
                line: record.line(),
                offset: record.byte_offset(),
                counts_after: batch.counts(),
            });
        }
    }

    /// Appends the record to the output: its raw bytes when they are already the output's
    /// encoding, otherwise encoded. A record the output format cannot hold is a reject.
    ///
    /// A JSON Lines record that `--ragged keep` kept with a key that is not a column can only
    /// be copied: encoded, the output's fixed columns would drop that key silently, so it is
    /// rejected (`extra-cell`) instead.
    fn encode(
        &mut self,
        input: &[u8],
        batch: &mut Batch,
        kept_extra: Option<String>,
    ) -> Result<(), Reject> {
        let record = Record::new(input, &mut self.rec);
        if let Some(span) = record.passthrough().filter(|_| self.raw_ok) {
            copy_raw(&mut self.pending, input, &mut batch.out, span);
            return Ok(());
        }
        if let Some(key) = kept_extra {
            return Err(Reject::new(
                "extra-cell",
                Some(key.clone()),
                format!(
                    "key '{key}' is not a column of the first record: --ragged keep keeps it only \
                     in a record copied unchanged to JSON Lines output, and this one is \
                     re-encoded with the output's columns (use --ragged truncate to drop it)"
                ),
            ));
        }
        flush(&mut self.pending, input, &mut batch.out);
        self.encoder.record(&mut batch.out, &record).map_err(|e| {
            let field = e.field.map(|i| {
                self.spec
                    .output_columns
                    .names()
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("{}", i + 1))
            });
            Reject::new("encode-error", field, e.message)
        })
    }

    fn flush_pending(&mut self, input: &[u8], batch: &mut Batch) {
        flush(&mut self.pending, input, &mut batch.out);
    }

    /// Writes the rejected record (its rejects rows, or its bytes in the input's format) and
    /// counts it; returns the index in `Batch::reject_counts` of its first error and of the
    /// others.
    fn write_reject(&mut self, chunk: &Chunk, batch: &mut Batch, r: Reject) -> (usize, Vec<usize>) {
        let input = &chunk.data[..];
        let record = Record::new(input, &mut self.rec);
        let at = Place {
            file: &self.spec.source_names[chunk.source],
            line: record.line(),
            offset: record.byte_offset(),
        };
        match self.spec.rejects_format {
            RejectsFormat::Input => keep_rejected(batch, r, at, Some(record.raw())),
            _ => encode_reject(&mut self.rejects_enc, batch, &r, at, record.raw()),
        }
    }
}

/// Rejects a record too large to hold: its first bytes (`head`) in a rejects row, or in the
/// input's format its reason alone (a cut record cannot be fed back).
fn reject_oversized(
    enc: &mut CsvEncoder,
    format: RejectsFormat,
    batch: &mut Batch,
    r: Reject,
    at: Place<'_>,
    head: &[u8],
) {
    match format {
        RejectsFormat::Input => keep_rejected(batch, r, at, None),
        _ => encode_reject(enc, batch, &r, at, head),
    };
}

/// Where a rejected record is: its input, first line and byte offset.
#[derive(Clone, Copy)]
pub(super) struct Place<'a> {
    pub(super) file: &'a SourceName,
    pub(super) line: u64,
    pub(super) offset: u64,
}

/// Counts a rejected record for rejects in the input's format, appending its bytes to the
/// rejects and its reasons to `Batch::rejected` (see [`kept_entry`]); returns the indexes of
/// its errors in `Batch::reject_counts`.
pub(super) fn keep_rejected(
    batch: &mut Batch,
    r: Reject,
    at: Place<'_>,
    raw: Option<&[u8]>,
) -> (usize, Vec<usize>) {
    let kinds = batch.count_reject(&r, at.file.as_str(), at.line, at.offset);
    let entry = kept_entry(&mut batch.rejects, r, at, raw);
    batch.rejected.push(entry);
    kinds
}

/// Appends a rejected record's bytes (`raw`, ended with a newline; `None` for one not kept) to
/// input-format `rejects`, and returns its entry: where its bytes start, and its reasons.
pub(super) fn kept_entry(
    rejects: &mut Vec<u8>,
    r: Reject,
    at: Place<'_>,
    raw: Option<&[u8]>,
) -> Rejected {
    let start = rejects.len();
    let lines = raw.map(|raw| {
        rejects.extend_from_slice(raw);
        rejects.push(b'\n');
        raw.iter().filter(|&&b| b == b'\n').count() as u64 + 1
    });
    Rejected {
        at: start,
        lines,
        file: at.file.clone(),
        line: at.line,
        offset: at.offset,
        reject: r,
    }
}

/// The reject of a JSON Lines record holding a value that is not Unicode text.
fn not_text_reject(bad: &NotText) -> Reject {
    let field = bad.column.map(|_| bad.key.clone());
    let message = match bad.column {
        Some(_) => format!(
            "the value of '{}' holds {}: no output can hold it as text (--invalid-utf8 replace \
             writes U+FFFD)",
            bad.key, bad.what
        ),
        None if bad.key.is_empty() => format!(
            "a key, or the value of a key that is not a column, holds {}",
            bad.what
        ),
        None => format!(
            "the key '{}', or its value, which is not a column, holds {}",
            bad.key, bad.what
        ),
    };
    Reject::new("encode-error", field, message)
}

/// The reject of a record of `len` bytes (with its terminator) over the limit.
fn oversized_reject(len: u64, limit: usize, format: RejectsFormat) -> Reject {
    let kept = match format {
        RejectsFormat::Input => {
            "it is not in the rejects file, which holds whole records only: fix it in the \
             input"
                .to_string()
        }
        _ => format!("the rejects file keeps its first {OVERSIZED_HEAD} bytes"),
    };
    Reject::new(
        "record-too-large",
        None,
        format!(
            "record of {len} bytes is larger than the maximum record size of {limit} bytes \
             ({kept})"
        ),
    )
}

/// Encodes the rejects rows of a record (one for each of its errors) and counts it; returns
/// the indexes of its errors in `Batch::reject_counts`.
pub(super) fn encode_reject(
    enc: &mut CsvEncoder,
    batch: &mut Batch,
    r: &Reject,
    at: Place<'_>,
    raw: &[u8],
) -> (usize, Vec<usize>) {
    let line_s = at.line.to_string();
    let off_s = at.offset.to_string();
    let file = at.file.as_str();
    for e in r.all() {
        let fields: [&[u8]; 7] = [
            file.as_bytes(),
            line_s.as_bytes(),
            off_s.as_bytes(),
            e.field.as_deref().unwrap_or("").as_bytes(),
            e.error.as_bytes(),
            e.message.as_bytes(),
            raw,
        ];
        enc.record(&mut batch.rejects, fields);
    }
    batch.count_reject(r, file, at.line, at.offset)
}

/// Copies a record's raw bytes `(start, end, terminator length)` to `out`, ending it with `\n`.
/// Records ending in `\n` that follow each other are gathered into one pending span and
/// copied with a single `extend_from_slice` when the run of them ends.
fn copy_raw(
    pending: &mut Option<Range<usize>>,
    input: &[u8],
    out: &mut Vec<u8>,
    (start, end, term): (usize, usize, usize),
) {
    if term == 1 && input[end] == b'\n' {
        match pending {
            Some(span) if span.end == start => span.end = end + 1,
            _ => {
                flush(pending, input, out);
                *pending = Some(start..end + 1);
            }
        }
    } else {
        flush(pending, input, out);
        out.extend_from_slice(&input[start..end]);
        out.push(b'\n');
    }
}

fn flush(pending: &mut Option<Range<usize>>, input: &[u8], out: &mut Vec<u8>) {
    if let Some(span) = pending.take() {
        out.extend_from_slice(&input[span]);
    }
}

/// The header of the rejects file.
pub const REJECTS_HEADER: &[u8] = b"file,line,byte_offset,field,error,message,record\n";

pub(super) fn worker_loop(
    id: usize,
    spec: WorkerSpec,
    rx: &Receiver<Slot>,
    tx: &Sender<Slot>,
    state: &StopState,
    progress: &Progress,
) -> WorkerReport {
    let names = spec.source_names.clone();
    let mut worker = Worker::new(spec);
    let mut report = WorkerReport {
        worker: id,
        ..Default::default()
    };
    let mut busy = Duration::ZERO;
    while let Some(mut slot) = recv_until_stopped(rx, state) {
        progress.busy_workers.fetch_add(1, Ordering::Relaxed);
        let t = Instant::now();
        // Transform panics are caught per record inside `process`; one that escapes it is a
        // bug in weir's own decoding or encoding. It must still stop the run at once: a worker
        // that died silently would keep its chunk's credit, and an ordered committer would
        // wait for that chunk for ever. The worker is not used again after a panic.
        let processed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            worker.process(&slot.chunk, &mut slot.batch)
        }));
        if let Err(p) = processed {
            progress.busy_workers.fetch_sub(1, Ordering::Relaxed);
            let c = &slot.chunk;
            state.fail(Error::Panic(format!(
                "{} (worker {id}, in the chunk of {} from line {}; a bug in weir)",
                panic_message(p),
                names[c.source],
                c.first_line
            )));
            break;
        }
        busy += t.elapsed();
        progress.busy_workers.fetch_sub(1, Ordering::Relaxed);
        report.chunks += 1;
        report.records += slot.batch.records_read;
        slot.worker = id;
        if tx.send(slot).is_err() {
            break;
        }
    }
    report.busy_seconds = busy.as_secs_f64();
    report
}
