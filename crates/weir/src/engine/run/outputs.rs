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
use crate::engine::worker::WorkerSpec;
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
        Some(resume) => {
            // A fresh start writes the rejects' header.
            let header = fresh.then_some(&destinations.rejects_header[..]);
            open_partials(resume, settings.compression_level, header)?
        }
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

/// Opens the sidecar of input-format rejects: a fresh run's with its header (the first
/// rejected record will start on the line after `rejects_header` in the rejects file), or a
/// resumable run's partial file cut back to its checkpoint (which says where the next record
/// starts).
pub(super) fn open_reasons(
    reasons: Option<Sink>,
    rejects_header: &[u8],
    settings: &Settings,
    resume: Option<&ResumeStart>,
    fresh: bool,
) -> Result<Option<Reasons>> {
    let Some(sink) = reasons else {
        return Ok(None);
    };
    let level = settings.compression_level;
    let mut w = match resume {
        None => {
            let mut w = open_watched(sink, level, settings.deadline, &settings.stop)?;
            w.set_durable(settings.durable);
            w
        }
        Some(resume) => {
            let paths = &resume.paths;
            let (Some(target), Some(path)) = (&paths.reasons, &paths.reasons_partial) else {
                unreachable!("a resumable run's paths name the reasons it writes");
            };
            crate::sink::compression_for(target, level)?;
            let kept = resume.from.as_ref().and_then(|cp| cp.reasons.as_ref());
            let (file, digest) = checkpoint::open_partial_verified(
                path,
                kept.map(|k| (k.len, k.hash.as_str())),
                &paths.checkpoint,
            )?;
            let written = kept.map_or(0, |k| k.written);
            SinkWriter::partial(file, path.clone(), target.clone(), written, level, digest)?
        }
    };
    if fresh {
        w.write_all(REASONS_HEADER)?;
    }
    // A resumed run's committer takes the next line from the checkpoint.
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
/// its checkpoint counts; `rejects_header` written to the rejects for a fresh start.
fn open_partials(
    resume: &ResumeStart,
    compression_level: Option<i32>,
    rejects_header: Option<&[u8]>,
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
            if let Some(header) = rejects_header.filter(|h| !h.is_empty()) {
                w.write_all(header)?;
            }
            Some(w)
        }
        _ => None,
    };
    Ok((out, rejects_out))
}
