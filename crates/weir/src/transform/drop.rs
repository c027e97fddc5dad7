//! `drop`: remove the selected columns, keep the rest in order.

use serde::{Deserialize, Serialize};

use super::{selection, Outcome, Transform};
use crate::error::BindError;
use crate::record::{Columns, Record};

/// Removes the selected columns: names, 0-based indexes, ranges or `/regex/`es, as
/// [`Select`](super::Select) takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DropColumns {
    /// Columns to remove.
    pub columns: Vec<String>,
    #[serde(skip)]
    keep: Vec<usize>,
}

impl DropColumns {
    /// Drops these columns (names, indexes, ranges or regexes).
    pub fn new<I, S>(columns: I) -> DropColumns
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        DropColumns {
            columns: columns.into_iter().map(Into::into).collect(),
            keep: Vec::new(),
        }
    }
}

impl Transform for DropColumns {
    fn name(&self) -> &str {
        "drop"
    }

    fn describe(&self) -> String {
        self.columns.join(", ")
    }

    fn bind(&mut self, input: &Columns) -> Result<Columns, BindError> {
        let dropped: std::collections::HashSet<usize> = selection::resolve(&self.columns, input)?
            .into_iter()
            .collect();
        self.keep = (0..input.len()).filter(|i| !dropped.contains(i)).collect();
        Ok(Columns::new(
            self.keep.iter().map(|&i| input.names()[i].clone()),
        ))
    }

    fn apply(&mut self, record: &mut Record<'_>) -> Outcome {
        record.select(&self.keep);
        Outcome::Keep
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_other_columns_in_order() {
        let mut d = DropColumns::new(["b"]);
        let out = d.bind(&Columns::new(["a", "b", "c"])).unwrap();
        assert_eq!(out.names(), ["a", "c"]);
        assert_eq!(d.keep, vec![0, 2]);
        assert!(DropColumns::new(["z"]).bind(&Columns::new(["a"])).is_err());
    }
}
