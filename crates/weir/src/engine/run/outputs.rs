//! Open the outputs: a fresh run's output and rejects (with their headers; a named pipe watched
//! for a stop while it waits for a reader), or a resumable run's partial files cut back to its
//! checkpoint.

use std::path::PathBuf;
use std::time::Instant;

use crate::checkpoint;
use crate::error::Result;
use crate::format::encode::Encoder;
use crate::record::ValueKind;
use crate::sink::parquet::ParquetSink;
use crate::sink::{Sink, SinkWriter};

use crate::engine::committer::Reasons;
use crate::engine::prologue::RawField;
use crate::engine::resume::ResumeStart;
use crate::engine::stop::{run_watched, StopHandle};
use crate::engine::worker::{WorkerSpec, REJECTS_HEADER};
use crate::sink::{Output, REASONS_HEADER};

use super::prepare::{Destinations, Settings};

/// Opens the output and the rejects: a fresh run's, or a resumable run's partial files cut
/// back to its checkpoint; a Parquet output wrapped to gather its rows. A `fresh` run (from
/// the beginning) writes the headers (`header_raw`: the input's header row as read, if any).
pub(super) fn open_outputs(
    destinations: Destinations,
    resume: Option<&ResumeStart>,
    settings: &Settings,
    fresh: bool,
    header_raw: Option<&[RawField]>,
    spec: &WorkerSpec,
) -> Result<(Output, Option<SinkWriter>)> {
    let (mut out, rejects_out) = match resume {
        None => open_fresh(destinations, settings)?,
        Some(resume) => open_partials(resume, settings.compression_level, fresh)?,
    };
    if fresh {
        write_header(&mut out, header_raw, spec)?;
    }
    let out = match &spec.parquet {
        Some(layout) => Output::Parquet(Box::new(ParquetSink::new(out, layout)?)),
        None => Output::Bytes(out),
    };
    Ok((out, rejects_out))
}

/// Opens an output; a named pipe on its own thread, so that a stop request or the time limit
/// is acted on while it waits for a reader (opening a pipe for writing blocks until one
/// comes). An open still blocked after a stop is left behind: a pipe has no temporary file.
fn open_watched(
    sink: Sink,
    compression_level: Option<i32>,
    deadline: Option<Instant>,
    stop: &StopHandle,
) -> Result<SinkWriter> {
    if !matches!(&sink, Sink::Path(p) if crate::source::is_fifo(p)) {
        return sink.open_with(compression_level);
    }
    run_watched(
        "weir-open-output",
        "the output opener",
        deadline,
        stop,
        move || sink.open_with(compression_level),
    )
}

/// Writes the output's header row (nothing for formats without one).
fn write_header(
    out: &mut SinkWriter,
    header_raw: Option<&[RawField]>,
    spec: &WorkerSpec,
) -> Result<()> {
    let input_columns = &spec.input_columns;
    let output_columns = &spec.output_columns;
    // Input columns keep the header's fields as read (bytes that are not UTF-8, a quoted
    // empty name), whatever the steps did to the other columns; new or renamed ones are
    // written as named.
    let raw = header_raw.map(|fields| {
        if output_columns == input_columns {
            return fields.to_vec();
        }
        // Each name's first input column, hashed once: a wide header stays linear.
        let mut first = std::collections::HashMap::with_capacity(input_columns.len());
        for (i, name) in input_columns.names().iter().enumerate() {
            first.entry(name.as_str()).or_insert(i);
        }
        output_columns
            .names()
            .iter()
            .map(|name| match first.get(name.as_str()) {
                Some(&i) => fields[i].clone(),
                None => (name.as_bytes().to_vec(), ValueKind::Text),
            })
            .collect::<Vec<_>>()
    });
    let mut header = Vec::new();
    Encoder::new(&spec.output_dialect, &spec.dialect, output_columns).header(
        &mut header,
        output_columns,
        raw.as_deref(),
    );
    if !header.is_empty() {
        out.write_all(&header)?;
    }
    Ok(())
}

/// Opens a fresh run's output and rejects (with the rejects' header).
fn open_fresh(
    Destinations {
        sink,
        rejects,
        rejects_header,
        ..
    }: Destinations,
    settings: &Settings,
) -> Result<(SinkWriter, Option<SinkWriter>)> {
    let Settings {
        compression_level,
        durable,
        digests,
        deadline,
        ref stop,
        ..
    } = *settings;
    let mut out = open_watched(sink, compression_level, deadline, stop)?;
    out.set_durable(durable);
    if digests {
        out.keep_digest();
    }
    let rejects_out = match rejects {
        Some(s) => {
            let mut w = open_watched(s, compression_level, deadline, stop)?;
            w.set_durable(durable);
            if digests {
                w.keep_digest();
            }
            if !rejects_header.is_empty() {
                w.write_all(&rejects_header)?;
            }
            Some(w)
        }
        None => None,
    };
    Ok((out, rejects_out))
}

/// Opens the sidecar of input-format rejects, with its header; the first rejected record
/// will start on the line after `rejects_header` in the rejects file.
pub(super) fn open_reasons(
    reasons: Option<Sink>,
    rejects_header: &[u8],
    settings: &Settings,
) -> Result<Option<Reasons>> {
    let Some(sink) = reasons else {
        return Ok(None);
    };
    let mut w = open_watched(
        sink,
        settings.compression_level,
        settings.deadline,
        &settings.stop,
    )?;
    w.set_durable(settings.durable);
    w.write_all(REASONS_HEADER)?;
    let header_lines = rejects_header.iter().filter(|&&b| b == b'\n').count() as u64;
    Ok(Some(Reasons::new(w, header_lines + 1)))
}

/// What a checkpoint counts of one partial file.
#[derive(Clone, Copy)]
struct Kept<'a> {
    /// Its length as stored.
    pub(super) len: u64,
    /// The bytes written to it before compression.
    pub(super) written: u64,
    /// The xxh64 of what it stores, as hex.
    pub(super) hash: &'a str,
}

/// Opens a resumable run's partial output and rejects, cut back to (and checked against) what
/// its checkpoint counts; the rejects' header for a fresh start.
fn open_partials(
    resume: &ResumeStart,
    compression_level: Option<i32>,
    fresh: bool,
) -> Result<(SinkWriter, Option<SinkWriter>)> {
    let cp = resume.from.as_ref();
    for target in std::iter::once(&resume.paths.output).chain(&resume.paths.rejects) {
        crate::sink::compression_for(target, compression_level)?;
    }
    // Each partial file keeps what the checkpoint counts, its digest checked: an edit inside
    // it is a refusal.
    let partial = |path: &PathBuf, target: &PathBuf, keep: Option<Kept<'_>>| {
        let (file, digest) = checkpoint::open_partial_verified(
            path,
            keep.map(|k| (k.len, k.hash)),
            &resume.paths.checkpoint,
        )?;
        let written = keep.map_or(0, |k| k.written);
        SinkWriter::partial(
            file,
            path.clone(),
            target.clone(),
            written,
            compression_level,
            digest,
        )
    };
    let out = partial(
        &resume.paths.output_partial,
        &resume.paths.output,
        cp.map(|c| Kept {
            len: c.output_len,
            written: c.output_written,
            hash: &c.output_hash,
        }),
    )?;
    let rejects_out = match (&resume.paths.rejects_partial, &resume.paths.rejects) {
        (Some(path), Some(target)) => {
            let mut w = partial(
                path,
                target,
                cp.map(|c| Kept {
                    len: c.rejects_len,
                    written: c.rejects_written,
                    hash: &c.rejects_hash,
                }),
            )?;
            if fresh {
                w.write_all(REJECTS_HEADER)?;
            }
            Some(w)
        }
        _ => None,
    };
    Ok((out, rejects_out))
}
