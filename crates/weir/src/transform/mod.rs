//! Transforms: what happens to each record between decoding and encoding.
//!
//! A [`Transform`] is bound once against the input columns (resolving names to indexes and
//! declaring its output columns), then cloned into every worker, so per-worker state needs no
//! locks. For each record it returns an [`Outcome`]: keep (possibly modified), filter (dropped
//! and counted), or reject (routed with a reason to the rejects file). Problems with a record are
//! values, never errors: `Err` is reserved for failures of the whole run.

mod dedupe;
mod derive;
mod drop;
mod filter;
mod guard;
mod head;
mod nulls;
mod rename;
mod select;
mod selection;
mod spec;
mod validate;

pub use dedupe::{Dedupe, DEFAULT_MAX_KEYS};
pub use derive::Derive;
pub use drop::DropColumns;
pub use filter::Filter;
pub use guard::{OnPanic, StepPanic, TRANSFORM_PANIC};
pub use head::Head;
pub use nulls::{Fill, NullMarkers};
pub use rename::Rename;
pub use select::Select;
pub use selection::split_selection;
pub use spec::Step;
pub use validate::Validate;

use std::borrow::Cow;

use crate::error::BindError;
use crate::record::{Columns, Record};

/// What a transform decided about a record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Keep the record (the transform may have modified it) and pass it on.
    Keep,
    /// Drop the record; it counts as filtered.
    Filter,
    /// Send the record to the rejects file with this reason.
    Reject(Reject),
}

/// Why a record was rejected. `error` is a short kebab-case name (Table Schema's error names
/// where one fits: `missing-cell`, `extra-cell`, `type-error`, `constraint-error`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// The error's name, e.g. `type-error`.
    pub error: Cow<'static, str>,
    /// The field the problem is in, if any.
    pub field: Option<String>,
    /// A message for a person: the value and the rule.
    pub message: String,
    /// The record's further errors, in order, when the step lists every error of a record
    /// (a schema's `all_errors`); empty otherwise. The record is rejected once: it counts as
    /// one rejected record, and each error is a row of the rejects table.
    pub more: Vec<Reject>,
}

impl Reject {
    /// A reject with an error name, an optional field and a message.
    pub fn new(
        error: impl Into<Cow<'static, str>>,
        field: Option<String>,
        message: impl Into<String>,
    ) -> Reject {
        Reject {
            error: error.into(),
            field,
            message: message.into(),
            more: Vec::new(),
        }
    }

    /// This reject and its further errors, in order.
    pub fn all(&self) -> impl Iterator<Item = &Reject> {
        std::iter::once(self).chain(&self.more)
    }
}

/// A step of the pipeline applied to every record; see the module documentation.
///
/// Implement it for your own type (which must be `Clone + Send`) and add it to a pipeline with
/// [`crate::PipelineBuilder::transform`].
pub trait Transform: TransformClone + Send {
    /// A short name for plans and messages.
    fn name(&self) -> &str;

    /// What the step does, in a few words, for plans (`weir explain`).
    fn describe(&self) -> String {
        String::new()
    }

    /// Called once, before the run, with the input columns: resolve names here and return the
    /// output columns. The default keeps the columns as they are.
    fn bind(&mut self, input: &Columns) -> Result<Columns, BindError> {
        Ok(input.clone())
    }

    /// Decides about one record, modifying it in place if it keeps it.
    fn apply(&mut self, record: &mut Record<'_>) -> Outcome;

    /// The ordered gates this step uses (see [`Gate`]); called after `bind`. A step that
    /// declares gates calls [`Record::claim`] with the gate's position in this list.
    fn gates(&self) -> Vec<Gate> {
        Vec::new()
    }

    /// Whether every record this step keeps has claimed each of its [`Gate::Head`] gates, so
    /// that once one of them is full no later record can reach the output and the run stops
    /// reading there (see [`crate::report::EarlyStop`]). The built-in `head` does; the
    /// default, `false`, suits a step that claims its head only for some records.
    fn head_bounds_output(&self) -> bool {
        false
    }

    /// The Table Schema this step validates against, if any: typed outputs (Parquet) take
    /// their column types from it.
    #[doc(hidden)]
    fn schema(&self) -> Option<&crate::schema::Schema> {
        None
    }

    /// The columns this step sets to new values (derive, fill): typed outputs write them as
    /// text, as they no longer hold the schema field's values.
    #[doc(hidden)]
    fn sets_columns(&self) -> Vec<String> {
        Vec::new()
    }

    /// Whether a rejected record lists every error this step finds (a schema's
    /// `all_errors`): then an ordered gate's error (`unique-error`) is listed after them.
    #[doc(hidden)]
    fn lists_all_errors(&self) -> bool {
        false
    }

    /// Called before `bind` with the run's maximum record size: a step that builds values
    /// (an expression) refuses to build one longer, rejecting the record (`record-too-large`).
    #[doc(hidden)]
    fn limit_values(&mut self, _bytes: usize) {}
}

/// A decision that depends on input order, taken by the committer rather than the workers:
/// which record is the *first* with a key, or among the first `n`. Workers only claim keys
/// ([`Record::claim`]); the committer, which sees records in input order, decides, so the
/// result is the one a serial run gives, for any chunk size and worker count.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Gate {
    /// Only the first `n` records that reach the step pass; the rest are filtered. When every
    /// record the step keeps claims it ([`Transform::head_bounds_output`]), the run stops
    /// reading once it is full.
    Head(u64),
    /// A record whose key was claimed before is filtered. At most `max_keys` distinct keys are
    /// held (16 bytes each plus table overhead: at most 32 bytes, see `engine::keys`); more
    /// stops the run ([`crate::Error::TooManyKeys`]).
    Dedupe {
        /// The bound on distinct keys.
        max_keys: usize,
    },
    /// A record whose key was claimed before is rejected with `unique-error` in `field`.
    Unique {
        /// The field (or fields, comma-joined) that must be unique.
        field: String,
        /// The bound on distinct keys.
        max_keys: usize,
    },
}

/// Clones a boxed transform; implemented for every `Transform + Clone`.
pub trait TransformClone {
    /// A boxed copy of this transform, for another worker.
    fn clone_box(&self) -> Box<dyn Transform>;
}

impl<T: Transform + Clone + 'static> TransformClone for T {
    fn clone_box(&self) -> Box<dyn Transform> {
        Box::new(self.clone())
    }
}

impl Clone for Box<dyn Transform> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// Transforms applied in order; the first that filters or rejects ends the chain for a record.
#[derive(Clone, Default)]
pub struct Chain {
    steps: Vec<Box<dyn Transform>>,
    gate_bases: Vec<u32>,
    has_gates: bool,
}

impl Chain {
    /// A chain of these steps.
    pub fn new(steps: Vec<Box<dyn Transform>>) -> Chain {
        Chain {
            steps,
            gate_bases: Vec::new(),
            has_gates: false,
        }
    }

    /// Whether the chain has no steps (every record passes unchanged).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The step names, in order.
    pub fn names(&self) -> Vec<String> {
        self.steps.iter().map(|s| s.name().to_string()).collect()
    }

    /// Binds every step in order; returns the final output columns.
    pub fn bind(&mut self, input: &Columns) -> Result<Columns, BindError> {
        let mut columns = input.clone();
        for step in &mut self.steps {
            columns = step.bind(&columns).map_err(|e| BindError {
                message: format!("{}: {}", step.name(), e.message),
            })?;
        }
        Ok(columns)
    }

    /// Bounds the values that the steps build to `bytes` (see [`Transform::limit_values`]).
    pub fn limit_values(&mut self, bytes: usize) {
        for step in &mut self.steps {
            step.limit_values(bytes);
        }
    }

    /// For each output column, the schema field whose values it holds, for typed outputs: a
    /// column named as a field of the chain's schema that no step sets (derive, fill).
    pub(crate) fn typed_fields(
        &self,
        output: &Columns,
    ) -> Vec<Option<Box<crate::schema::TypedField>>> {
        let Some(schema) = self.steps.iter().find_map(|s| s.schema()) else {
            return vec![None; output.len()];
        };
        let set: std::collections::HashSet<String> =
            self.steps.iter().flat_map(|s| s.sets_columns()).collect();
        let mut fields = schema.typed_columns(output.names());
        for (field, name) in fields.iter_mut().zip(output.names()) {
            if set.contains(name) {
                *field = None;
            }
        }
        fields
    }

    /// For each of [`Chain::gates`], whether it is a head that bounds the output (see
    /// [`Transform::head_bounds_output`]): once it is full, nothing more can be written.
    pub(crate) fn bounding_heads(&self) -> Vec<bool> {
        self.steps
            .iter()
            .flat_map(|step| {
                let bounds = step.head_bounds_output();
                step.gates()
                    .into_iter()
                    .map(move |g| bounds && matches!(g, Gate::Head(_)))
            })
            .collect()
    }

    /// Whether a step lists every error of a rejected record.
    pub(crate) fn lists_all_errors(&self) -> bool {
        self.steps.iter().any(|s| s.lists_all_errors())
    }

    /// The ordered gates of all steps, in chain order (after `bind`).
    pub fn gates(&mut self) -> Vec<Gate> {
        self.gate_bases.clear();
        let mut all = Vec::new();
        for step in &self.steps {
            self.gate_bases.push(all.len() as u32);
            all.extend(step.gates());
        }
        self.has_gates = !all.is_empty();
        all
    }

    /// Runs the steps on one record.
    #[inline]
    pub fn apply(&mut self, record: &mut Record<'_>) -> Outcome {
        for (i, step) in self.steps.iter_mut().enumerate() {
            if self.has_gates {
                record.set_gate_base(self.gate_bases[i]);
            }
            match step.apply(record) {
                Outcome::Keep => {}
                other => return other,
            }
        }
        Outcome::Keep
    }

    /// [`Chain::apply`], catching a panic in a step: `Err` names the step and carries its
    /// message. A record that does not panic costs one unwinding landing pad, nothing more.
    pub fn apply_guarded(&mut self, record: &mut Record<'_>) -> Result<Outcome, StepPanic> {
        let mut at = 0;
        guard::guarded(|| {
            for (i, step) in self.steps.iter_mut().enumerate() {
                at = i;
                if self.has_gates {
                    record.set_gate_base(self.gate_bases[i]);
                }
                match step.apply(record) {
                    Outcome::Keep => {}
                    other => return other,
                }
            }
            Outcome::Keep
        })
        .map_err(|message| StepPanic { step: at, message })
    }

    /// The name of step `i`.
    pub fn step_name(&self, i: usize) -> &str {
        self.steps.get(i).map_or("?", |s| s.name())
    }
}
