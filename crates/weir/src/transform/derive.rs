//! `derive`: set a column (new or existing) to the value of a SQL expression.

use serde::{Deserialize, Serialize};

use super::{Outcome, Reject, Transform};
use crate::error::BindError;
use crate::expr::{Expr, Value};
use crate::record::{Columns, Record, ValueKind};

/// Sets column `name` to the expression's value, adding the column at the end if it is new.
/// A value the expression cannot convert rejects the record (`type-error`), naming the column.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Derive {
    /// The column to set.
    pub name: String,
    /// The value, in SQL syntax: `round(score * 100, 1)`.
    pub expr: String,
    #[serde(skip)]
    compiled: Option<Expr>,
    /// The longest value the expression may build (the run's maximum record size).
    #[serde(skip)]
    limit: Option<usize>,
    #[serde(skip)]
    index: usize,
    #[serde(skip)]
    text: Vec<u8>,
}

impl Derive {
    /// Sets `name` to `expr`.
    pub fn new(name: impl Into<String>, expr: impl Into<String>) -> Derive {
        Derive {
            name: name.into(),
            expr: expr.into(),
            ..Default::default()
        }
    }
}

impl Transform for Derive {
    fn name(&self) -> &str {
        "derive"
    }

    fn sets_columns(&self) -> Vec<String> {
        vec![self.name.clone()]
    }

    fn describe(&self) -> String {
        format!("{} = {}", self.name, self.expr)
    }

    fn limit_values(&mut self, bytes: usize) {
        self.limit = Some(bytes);
        if let Some(expr) = &mut self.compiled {
            expr.limit_values(bytes);
        }
    }

    fn bind(&mut self, input: &Columns) -> Result<Columns, BindError> {
        let mut expr = Expr::compile(&self.expr, input).map_err(|e| BindError {
            message: e.render(&self.expr),
        })?;
        if let Some(bytes) = self.limit {
            expr.limit_values(bytes);
        }
        self.compiled = Some(expr);
        let at = input.positions(&self.name);
        if at.len() > 1 {
            return Err(BindError::ambiguous_column(&self.name, &at));
        }
        match input.index_of(&self.name) {
            Some(i) => {
                self.index = i;
                Ok(input.clone())
            }
            None => {
                self.index = input.len();
                let mut names = input.names().to_vec();
                names.push(self.name.clone());
                Ok(Columns::new(names))
            }
        }
    }

    fn apply(&mut self, record: &mut Record<'_>) -> Outcome {
        let expr = self
            .compiled
            .as_ref()
            .expect("derive is bound before it runs");
        self.text.clear();
        let kind = match expr.eval(record) {
            Err(e) => {
                // A value too large to build is blamed on the column it was for.
                return Outcome::Reject(if e.too_large {
                    Reject::new("record-too-large", Some(self.name.clone()), e.to_string())
                } else {
                    Reject::new("type-error", e.column.clone(), e.to_string())
                });
            }
            Ok(value) => {
                let kind = match &value {
                    Value::Null => ValueKind::Null,
                    Value::Bool(_) | Value::Int(_) | Value::Float(_) => ValueKind::Json,
                    _ => ValueKind::Text,
                };
                value.write_text(&mut self.text);
                kind
            }
        };
        record.set_value(self.index, &self.text, kind);
        Outcome::Keep
    }
}
