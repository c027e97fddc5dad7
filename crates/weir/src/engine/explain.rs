//! What a pipeline will do, step by step, without running it: the [`Explain`] that
//! `weir explain` prints (named apart from `weir plan`'s [`crate::shard::ShardPlan`]).

use std::io::BufReader;

use crate::error::{BindError, Error, Result, SourceName};
use crate::format::encode::check_columns;
use crate::format::Format;
use crate::record::Columns;
use crate::split::SplitterBuilder;

use super::builder::{resolve_dialect, resolve_output_dialect};
use super::prologue::watch_prologue;
use super::Pipeline;

/// What a pipeline will do, step by step: the compiled pipeline `weir explain` prints.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Explain {
    /// The input's name.
    pub input: String,
    /// The input dialect's format.
    pub format: Format,
    /// The output dialect's format.
    pub output_format: Format,
    /// The columns of the input.
    pub input_columns: Columns,
    /// Each step with the columns it produces.
    pub steps: Vec<ExplainStep>,
    /// Whether output keeps input order.
    pub ordered: bool,
    /// Worker threads.
    pub workers: usize,
}

/// One step of an [`Explain`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExplainStep {
    /// The step's name.
    pub name: String,
    /// What it does.
    pub detail: String,
    /// Its output columns.
    pub columns: Columns,
    /// Whether it takes decisions in input order (head, dedupe, unique).
    pub ordered_gate: bool,
}

impl Pipeline {
    /// Compiles the pipeline against the input's columns, reading only its start (the header,
    /// or the first chunk for JSON Lines), and returns what it will do, step by step. Every
    /// usage error a run would report (unknown column, bad expression) is reported here.
    pub fn plan(self) -> Result<Explain> {
        let cfg = self.cfg;
        let dialect = resolve_dialect(&cfg);
        let output_dialect = resolve_output_dialect(&cfg, &dialect);
        let input = cfg.source.name().to_string();
        let (reader, _) = cfg.source.open()?;
        let splitter = SplitterBuilder::new(dialect.framing())
            .chunk_size(cfg.chunk_size)
            .max_record_size(cfg.max_record_size)
            .build(
                BufReader::with_capacity(64 << 10, reader),
                SourceName::new(&input),
            );
        let prologue = watch_prologue(splitter, dialect, None, &cfg.stop)?;
        let mut columns = prologue.columns.clone();
        let mut steps = Vec::new();
        let mut gated = false;
        for mut step in cfg.chain {
            columns = step.bind(&columns).map_err(|e| BindError {
                message: format!("{}: {}", step.name(), e.message),
            })?;
            let ordered_gate = !step.gates().is_empty();
            gated |= ordered_gate;
            steps.push(ExplainStep {
                name: step.name().to_string(),
                detail: step.describe(),
                columns: columns.clone(),
                ordered_gate,
            });
        }
        if !prologue.columns.is_empty() {
            check_columns(&output_dialect, &columns).map_err(Error::Config)?;
        }
        Ok(Explain {
            input,
            format: dialect.format,
            output_format: output_dialect.format,
            input_columns: prologue.columns,
            steps,
            ordered: cfg.ordered || gated,
            workers: cfg.workers,
        })
    }
}
