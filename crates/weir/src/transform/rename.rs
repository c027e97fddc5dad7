//! `rename`: give columns new names; the data is untouched.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Outcome, Transform};
use crate::error::BindError;
use crate::record::{Columns, Record};

/// Renames columns (`old -> new`). Records pass unchanged, so they are still copied as raw bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Rename {
    /// Old name to new name.
    pub names: BTreeMap<String, String>,
}

impl Rename {
    /// Renames by these pairs.
    pub fn new<I, A, B>(pairs: I) -> Rename
    where
        I: IntoIterator<Item = (A, B)>,
        A: Into<String>,
        B: Into<String>,
    {
        Rename {
            names: pairs
                .into_iter()
                .map(|(a, b)| (a.into(), b.into()))
                .collect(),
        }
    }
}

impl Transform for Rename {
    fn name(&self) -> &str {
        "rename"
    }

    fn describe(&self) -> String {
        self.names
            .iter()
            .map(|(a, b)| format!("{a} -> {b}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn bind(&mut self, input: &Columns) -> Result<Columns, BindError> {
        for old in self.names.keys() {
            if input.index_of(old).is_none() {
                return Err(BindError::unknown_column(old, input));
            }
        }
        let names = input
            .names()
            .iter()
            .map(|n| self.names.get(n).unwrap_or(n).clone());
        let out = Columns::new(names);
        if let Some(dup) = out
            .names()
            .iter()
            .enumerate()
            .find_map(|(i, n)| out.names()[..i].contains(n).then_some(n))
        {
            return Err(BindError {
                message: format!("renaming makes two columns named '{dup}'"),
            });
        }
        Ok(out)
    }

    fn apply(&mut self, _record: &mut Record<'_>) -> Outcome {
        Outcome::Keep
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_and_checks_names() {
        let cols = Columns::new(["id", "signup_date"]);
        let out = Rename::new([("signup_date", "signup")])
            .bind(&cols)
            .unwrap();
        assert_eq!(out.names(), ["id", "signup"]);
        let err = Rename::new([("signup", "x")]).bind(&cols).unwrap_err();
        assert!(
            err.message.contains("did you mean 'signup_date'"),
            "{}",
            err.message
        );
        let err = Rename::new([("signup_date", "id")])
            .bind(&cols)
            .unwrap_err();
        assert_eq!(err.message, "renaming makes two columns named 'id'");
    }
}
