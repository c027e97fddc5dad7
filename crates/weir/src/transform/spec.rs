//! Steps as configuration: the serde form of every built-in transform, as a pipeline file
//! lists them (`[[transform]]` tables with one key each) and the command line builds them.

use serde::{Deserialize, Serialize};

use super::{
    Dedupe, Derive, DropColumns, Fill, Filter, Head, NullMarkers, Rename, Select, Transform,
};

/// One built-in step, as configured. In TOML each is a table with one key:
///
/// ```toml
/// [[transform]]
/// filter = "TRY_CAST(age AS BIGINT) >= 30 AND country IN ('US','DE')"
/// [[transform]]
/// derive = { name = "score_pct", expr = "round(score * 100, 1)" }
/// [[transform]]
/// rename = { signup_date = "signup" }
/// [[transform]]
/// select = ["id", "name", "age", "country"]
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Step {
    /// Keep these columns, in this order.
    Select(Select),
    /// Remove these columns.
    Drop(DropColumns),
    /// Rename columns: `{ old = "new" }`.
    Rename(Rename),
    /// Keep records where the SQL condition is true.
    Filter(Filter),
    /// Set a column to a SQL expression: `{ name = "...", expr = "..." }`.
    Derive(Derive),
    /// Treat these values as NULL: `{ markers = ["NA", "n/a"], columns = [...] }`.
    NullMarkers(NullMarkers),
    /// Replace NULLs with defaults: `{ column = "value" }`.
    Fill(Fill),
    /// Keep the first record of each key: `{ columns = [...], max_keys = 4194304 }`.
    Dedupe(Dedupe),
    /// Keep the first `n` records (`limit` is the same step).
    #[serde(alias = "limit")]
    Head(Head),
}

impl Step {
    /// The transform this step configures (unbound).
    pub fn build(&self) -> Box<dyn Transform> {
        match self {
            Step::Select(t) => Box::new(t.clone()),
            Step::Drop(t) => Box::new(t.clone()),
            Step::Rename(t) => Box::new(t.clone()),
            Step::Filter(t) => Box::new(t.clone()),
            Step::Derive(t) => Box::new(t.clone()),
            Step::NullMarkers(t) => Box::new(t.clone()),
            Step::Fill(t) => Box::new(t.clone()),
            Step::Dedupe(t) => Box::new(t.clone()),
            Step::Head(t) => Box::new(t.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct File {
        transform: Vec<Step>,
    }

    #[test]
    fn every_step_reads_from_json_tables() {
        let text = r#"{"transform": [
            {"select": ["a", "b"]}, {"drop": ["c"]}, {"rename": {"a": "x"}},
            {"filter": "a > 1"}, {"derive": {"name": "d", "expr": "a || b"}},
            {"null_markers": {"markers": ["NA"]}}, {"fill": {"b": "0"}},
            {"dedupe": {"columns": ["a"]}}, {"head": 10}, {"limit": 5}
        ]}"#;
        let file: File = serde_json::from_str(text).unwrap();
        let names: Vec<String> = file
            .transform
            .iter()
            .map(|s| s.build().name().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "select",
                "drop",
                "rename",
                "filter",
                "derive",
                "null_markers",
                "fill",
                "dedupe",
                "head",
                "head"
            ]
        );
    }

    #[test]
    fn unknown_steps_and_fields_are_refused() {
        assert!(serde_json::from_str::<File>(r#"{"transform": [{"sort": ["a"]}]}"#).is_err());
        let bad = r#"{"transform": [{"dedupe": {"column": ["a"]}}]}"#;
        assert!(serde_json::from_str::<File>(bad).is_err());
    }
}
