//! `filter`: keep the records for which a SQL expression is true.

use serde::{Deserialize, Serialize};

use super::{Outcome, Reject, Transform};
use crate::error::BindError;
use crate::expr::Expr;
use crate::record::{Columns, Record};

/// Keeps a record when the expression is TRUE; FALSE and NULL filter it (as SQL's WHERE). A
/// value the expression cannot convert rejects the record (`type-error`), naming the column.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Filter {
    /// The condition, in SQL syntax: `TRY_CAST(age AS BIGINT) >= 30 AND country IN ('US','DE')`.
    pub expr: String,
    #[serde(skip)]
    compiled: Option<Expr>,
    /// The longest value the expression may build (the run's maximum record size).
    #[serde(skip)]
    limit: Option<usize>,
}

impl Filter {
    /// A filter on this condition.
    pub fn new(expr: impl Into<String>) -> Filter {
        Filter {
            expr: expr.into(),
            compiled: None,
            limit: None,
        }
    }
}

impl Transform for Filter {
    fn name(&self) -> &str {
        "filter"
    }

    fn describe(&self) -> String {
        self.expr.clone()
    }

    fn limit_values(&mut self, bytes: usize) {
        self.limit = Some(bytes);
        if let Some(expr) = &mut self.compiled {
            expr.limit_values(bytes);
        }
    }

    fn bind(&mut self, input: &Columns) -> Result<Columns, BindError> {
        let mut expr = Expr::compile_condition(&self.expr, input).map_err(|e| BindError {
            message: e.render(&self.expr),
        })?;
        if let Some(bytes) = self.limit {
            expr.limit_values(bytes);
        }
        self.compiled = Some(expr);
        Ok(input.clone())
    }

    fn apply(&mut self, record: &mut Record<'_>) -> Outcome {
        let expr = self
            .compiled
            .as_ref()
            .expect("filter is bound before it runs");
        match expr.eval_truthy(record) {
            Ok(Some(true)) => Outcome::Keep,
            Ok(_) => Outcome::Filter,
            Err(e) => Outcome::Reject(Reject::new(
                if e.too_large {
                    "record-too-large"
                } else {
                    "type-error"
                },
                e.column.clone(),
                e.to_string(),
            )),
        }
    }
}
