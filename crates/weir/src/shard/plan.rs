//! The plan: each input's identity, header and nominal byte ranges.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::guess::field_count;
use super::{hash_hex, open_input, stamp, OutDir, PLAN_FILE, PLAN_VERSION};
use crate::compress::Compression;
use crate::engine::read_header;
use crate::error::{Error, Result, SourceName};
use crate::format::{Dialect, Format};
use crate::split::{Chunk, SplitterBuilder};
use crate::units::plural;

/// How the inputs are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Split {
    /// About this many shards in all (several inputs share them by size).
    Count(usize),
    /// Shards of about this many bytes.
    Size(u64),
}

/// The plan: every shard's input and nominal byte range; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardPlan {
    /// [`PLAN_VERSION`].
    pub plan_version: u32,
    /// A hash of everything below: shards check they ran the same plan.
    pub id: String,
    /// The weir that made it.
    pub weir_version: String,
    /// A hash of the resolved pipeline (steps, schema, dialects, record rules).
    pub pipeline: String,
    /// The inputs, in order.
    pub inputs: Vec<PlanInput>,
    /// The shards, in input order.
    pub shards: Vec<PlanShard>,
}

/// One input of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInput {
    /// Its path or URL.
    pub name: String,
    /// Its size in bytes as stored.
    pub size: u64,
    /// What identifies this version of it: size and modification time of a file.
    pub version: String,
    /// The first byte after the header (and a byte order mark).
    pub data_start: u64,
    /// The line `data_start` is on.
    pub data_line: u64,
    /// The header's field count (CSV/TSV), to judge guessed starts.
    pub fields: Option<usize>,
    /// Whether it can be cut (plain bytes; compressed inputs are one shard each).
    pub splittable: bool,
}

/// One shard of a plan: the records of `input` that start in `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanShard {
    /// The input's index.
    pub input: usize,
    /// The nominal start.
    pub start: u64,
    /// The nominal end.
    pub end: u64,
}

impl ShardPlan {
    /// Plans `inputs` (files) read in `dialect`: reads each one's size, version and header.
    /// `pipeline` identifies the resolved pipeline.
    pub fn new(
        inputs: &[String],
        dialect: Dialect,
        max_record_size: usize,
        pipeline: &str,
        split: Split,
    ) -> Result<ShardPlan> {
        if inputs.iter().any(|i| i == "-") {
            return Err(Error::Config(
                "standard input cannot be sharded: give input files".into(),
            ));
        }
        let mut probed = Vec::with_capacity(inputs.len());
        for name in inputs {
            probed.push(probe(name, dialect, max_record_size)?);
        }
        let counts = shard_counts(&probed, split);
        let mut shards = Vec::new();
        for (i, (input, &n)) in probed.iter().zip(&counts).enumerate() {
            if !input.splittable {
                shards.push(PlanShard {
                    input: i,
                    start: 0,
                    end: input.size,
                });
                continue;
            }
            let body = input.size.saturating_sub(input.data_start);
            let nominal = |k: u64| input.data_start + (k as u128 * body as u128 / n as u128) as u64;
            for k in 0..n as u64 {
                shards.push(PlanShard {
                    input: i,
                    start: nominal(k),
                    end: if k + 1 == n as u64 {
                        input.size
                    } else {
                        nominal(k + 1)
                    },
                });
            }
        }
        let mut plan = ShardPlan {
            plan_version: PLAN_VERSION,
            id: String::new(),
            weir_version: env!("CARGO_PKG_VERSION").to_string(),
            pipeline: pipeline.to_string(),
            inputs: probed,
            shards,
        };
        plan.id = hash_hex(&serde_json::to_vec(&plan).expect("a plan serialises"));
        Ok(plan)
    }

    /// The plan as pretty JSON.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a plan serialises");
        s.push('\n');
        s
    }

    /// Reads a plan.
    pub fn from_json(bytes: &[u8], name: &str) -> Result<ShardPlan> {
        let plan: ShardPlan = serde_json::from_slice(bytes)
            .map_err(|e| Error::Config(format!("{name} is not a weir shard plan: {e}")))?;
        if plan.plan_version != PLAN_VERSION {
            return Err(Error::Config(format!(
                "{name} is a plan of layout {}, this weir reads layout {PLAN_VERSION}",
                plan.plan_version
            )));
        }
        Ok(plan)
    }
}

/// How many shards each input gets.
fn shard_counts(inputs: &[PlanInput], split: Split) -> Vec<usize> {
    match split {
        Split::Size(size) => inputs
            .iter()
            .map(|i| {
                let body = i.size.saturating_sub(i.data_start);
                if i.splittable {
                    body.div_ceil(size.max(1)).max(1) as usize
                } else {
                    1
                }
            })
            .collect(),
        Split::Count(n) => {
            let splittable: u64 = inputs
                .iter()
                .filter(|i| i.splittable)
                .map(|i| i.size.saturating_sub(i.data_start))
                .sum();
            let whole = inputs.iter().filter(|i| !i.splittable).count();
            let left = n.saturating_sub(whole).max(1);
            inputs
                .iter()
                .map(|i| {
                    if !i.splittable {
                        return 1;
                    }
                    let body = i.size.saturating_sub(i.data_start);
                    let share = (left as u128 * body as u128)
                        .checked_div(splittable as u128)
                        .unwrap_or(0);
                    (share as usize).max(1)
                })
                .collect()
        }
    }
}

/// Size, version, where the data starts and the header's width, of one input.
fn probe(name: &str, dialect: Dialect, max_record_size: usize) -> Result<PlanInput> {
    let (size, version) = stamp(name)?;
    let mut head = Vec::new();
    open_input(name, 0, &version)?
        .take(256)
        .read_to_end(&mut head)
        .map_err(|e| Error::read(SourceName::new(name), e))?;
    let splittable = Compression::from_magic(&head) == Compression::None;
    if splittable {
        // Shards read the stored bytes as they are: what weir cannot read is refused here,
        // as a one-machine run refuses it.
        crate::compress::check_text_head(&head)
            .map_err(|e| Error::read(SourceName::new(name), e))?;
    }
    let mut input = PlanInput {
        name: name.to_string(),
        size,
        version,
        data_start: 0,
        data_line: 1,
        fields: None,
        splittable,
    };
    if !splittable {
        return Ok(input);
    }
    let reader = open_input(name, 0, &input.version)?;
    let mut splitter = SplitterBuilder::new(dialect.framing())
        .chunk_size(64 << 10)
        .max_record_size(max_record_size)
        .build(io::BufReader::new(reader), SourceName::new(name));
    if dialect.has_header() {
        input.fields = read_header(&mut splitter, &dialect)?.map(|h| h.fields.len());
    } else {
        // Only a byte order mark precedes the data; the first record gives the width.
        let mut chunk = Chunk::default();
        let more = splitter.next_record(&mut chunk)?;
        if more && matches!(dialect.format, Format::Csv | Format::Tsv) {
            input.fields = Some(field_count(&chunk.data, dialect.framing()).0);
        }
        input.data_start = chunk.offset;
        input.data_line = 1;
        return Ok(input);
    }
    input.data_start = splitter.offset();
    input.data_line = splitter.line();
    Ok(input)
}

/// The plan a shard runs: the plan file, or (with `K/N`) the same plan made here, which is
/// then stored if no shard stored one yet.
pub fn load_or_make_plan(
    dir: &OutDir,
    plan_file: Option<&Path>,
    count: Option<usize>,
    make: impl FnOnce(Split) -> Result<ShardPlan>,
) -> Result<ShardPlan> {
    if let Some(n) = count {
        let plan = make(Split::Count(n))?;
        if plan.shards.len() != n {
            return Err(Error::Config(format!(
                "--shard K/{n}: the inputs make {} (a compressed input is one shard; \
                 several inputs share the count by size): use `weir plan`",
                plural(plan.shards.len(), "shard")
            )));
        }
        dir.prepare()?;
        if !dir.create_new(PLAN_FILE, plan.to_json().as_bytes())? {
            let stored = dir.read(PLAN_FILE)?.unwrap_or_default();
            let stored = ShardPlan::from_json(&stored, PLAN_FILE)?;
            if stored.id != plan.id {
                return Err(Error::Config(format!(
                    "{} holds another plan ({}; this shard's is {}): the input or pipeline \
                     differs, or the folder is another run's",
                    dir.location(PLAN_FILE),
                    stored.id,
                    plan.id
                )));
            }
        }
        return Ok(plan);
    }
    let (bytes, name) = match plan_file {
        Some(p) => (
            fs::read(p).map_err(|source| Error::Open {
                source_name: SourceName::new(&p.display().to_string()),
                source,
            })?,
            p.display().to_string(),
        ),
        None => (
            dir.read(PLAN_FILE)?.ok_or_else(|| {
                Error::Config(format!(
                    "no plan at {}: run `weir plan` first, or give --shard K/N",
                    dir.location(PLAN_FILE)
                ))
            })?,
            dir.location(PLAN_FILE),
        ),
    };
    ShardPlan::from_json(&bytes, &name)
}
