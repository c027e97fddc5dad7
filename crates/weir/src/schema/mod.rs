//! Frictionless Table Schema: loading, validation of records, inference.
