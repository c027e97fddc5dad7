//! `select`: keep the selected columns, in the order given.

use serde::{Deserialize, Serialize};

use super::{selection, Outcome, Transform};
use crate::error::BindError;
use crate::record::{Columns, Record};

/// Keeps the selected columns in the given order (a column may repeat). Each item is xan's
/// notation: a name, a 0-based index, an inclusive range of either (`id:email`, `0:2`, `3:`,
/// `:email`) or a `/regex/` matching names. An item that is exactly a column's name is that
/// column, except a number, which is an index: quote it (`"2024"`) to mean the name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Select {
    /// The selection's items, in output order.
    pub columns: Vec<String>,
    #[serde(skip)]
    indexes: Vec<usize>,
}

impl Select {
    /// Selects these columns (names, indexes, ranges or regexes).
    pub fn new<I, S>(columns: I) -> Select
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Select {
            columns: columns.into_iter().map(Into::into).collect(),
            indexes: Vec::new(),
        }
    }
}

impl Transform for Select {
    fn name(&self) -> &str {
        "select"
    }

    fn describe(&self) -> String {
        self.columns.join(", ")
    }

    fn bind(&mut self, input: &Columns) -> Result<Columns, BindError> {
        self.indexes = selection::resolve(&self.columns, input)?;
        Ok(Columns::new(
            self.indexes.iter().map(|&i| input.names()[i].clone()),
        ))
    }

    fn apply(&mut self, record: &mut Record<'_>) -> Outcome {
        record.select(&self.indexes);
        Outcome::Keep
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_column_suggests_the_nearest() {
        let mut s = Select::new(["naem"]);
        let err = s.bind(&Columns::new(["id", "name", "email"])).unwrap_err();
        assert_eq!(err.message, "unknown column 'naem' (did you mean 'name'?)");
    }

    #[test]
    fn binds_in_the_requested_order() {
        let mut s = Select::new(["email", "id"]);
        let out = s.bind(&Columns::new(["id", "name", "email"])).unwrap();
        assert_eq!(out.names(), ["email", "id"]);
        assert_eq!(s.indexes, vec![2, 0]);
    }
}
