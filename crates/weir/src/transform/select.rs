//! `select`: keep the named columns, in the order given.

use serde::{Deserialize, Serialize};

use super::{Outcome, Transform};
use crate::error::BindError;
use crate::record::{Columns, Record};

/// Keeps the named columns in the given order (a name may repeat).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Select {
    /// Column names, in output order.
    pub columns: Vec<String>,
    #[serde(skip)]
    indexes: Vec<usize>,
}

impl Select {
    /// Selects these columns.
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
        self.indexes = self
            .columns
            .iter()
            .map(|name| {
                input
                    .index_of(name)
                    .ok_or_else(|| BindError::unknown_column(name, input))
            })
            .collect::<Result<_, _>>()?;
        Ok(Columns::new(self.columns.iter().cloned()))
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
