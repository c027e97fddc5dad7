//! SQL expressions: parsed with sqlparser, compiled once against the columns, evaluated per record.
