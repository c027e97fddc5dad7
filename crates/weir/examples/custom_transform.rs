//! A pipeline with transforms of your own: check one field, clean another, write the rest.
//!
//! ```text
//! cargo run -p weir --example custom_transform                  # on a small built-in file
//! cargo run -p weir --example custom_transform -- in.csv out.csv rejects.csv
//! ```

use weir::{BindError, Columns, Outcome, PipelineBuilder, Record, Reject, Sink, Source, Transform};

/// Rejects a record whose `age` is not a whole number from 0 to 150.
#[derive(Clone, Default)]
struct CheckAge {
    col: usize,
}

impl Transform for CheckAge {
    fn name(&self) -> &str {
        "check-age"
    }

    fn bind(&mut self, input: &Columns) -> Result<Columns, BindError> {
        self.col = input
            .index_of("age")
            .ok_or_else(|| BindError::unknown_column("age", input))?;
        Ok(input.clone())
    }

    fn apply(&mut self, record: &mut Record<'_>) -> Outcome {
        let value = record.get_str(self.col).unwrap_or("");
        match value.parse::<i64>() {
            Ok(age) if (0..=150).contains(&age) => Outcome::Keep,
            Ok(age) => Outcome::Reject(Reject::new(
                "constraint-error",
                Some("age".into()),
                format!("age {age} is outside 0..=150"),
            )),
            Err(_) => Outcome::Reject(Reject::new(
                "type-error",
                Some("age".into()),
                format!("age '{value}' is not an integer"),
            )),
        }
    }
}

/// Trims surrounding spaces from `name` and collapses inner runs of spaces.
#[derive(Clone, Default)]
struct CleanName {
    col: usize,
    scratch: String,
}

impl Transform for CleanName {
    fn name(&self) -> &str {
        "clean-name"
    }

    fn bind(&mut self, input: &Columns) -> Result<Columns, BindError> {
        self.col = input
            .index_of("name")
            .ok_or_else(|| BindError::unknown_column("name", input))?;
        Ok(input.clone())
    }

    fn apply(&mut self, record: &mut Record<'_>) -> Outcome {
        let Some(raw) = record.get(self.col) else {
            return Outcome::Keep;
        };
        let text = String::from_utf8_lossy(raw);
        if !text.starts_with(' ') && !text.ends_with(' ') && !text.contains("  ") {
            return Outcome::Keep; // unchanged records are copied as raw bytes
        }
        self.scratch.clear();
        for (i, word) in text.split_whitespace().enumerate() {
            if i > 0 {
                self.scratch.push(' ');
            }
            self.scratch.push_str(word);
        }
        record.set(self.col, self.scratch.as_bytes());
        Outcome::Keep
    }
}

const SAMPLE: &str = "\
id,name,age,country
1,  Ana García ,34,ES
2,Ben Smith,abc,US
3,\"O'Brien, Kofi\",200,IE
4,Chloé   Dubois,28,FR
";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = std::env::temp_dir().join(format!("weir-example-{}", std::process::id()));
    let (input, output, rejects) = match args.as_slice() {
        [i, o, r] => (i.clone(), o.clone(), r.clone()),
        _ => {
            std::fs::create_dir_all(&dir)?;
            let input = dir.join("people.csv");
            std::fs::write(&input, SAMPLE)?;
            let p = |n: &str| dir.join(n).display().to_string();
            (
                input.display().to_string(),
                p("people-clean.csv"),
                p("rejects.csv"),
            )
        }
    };
    let report = PipelineBuilder::new(Source::from_arg(&input), Sink::from_arg(&output))
        .transform(CheckAge::default())
        .transform(CleanName::default())
        .rejects(Sink::from_arg(&rejects))
        .build()
        .run()?;
    println!(
        "{} read = {} written + {} filtered + {} rejected",
        report.records_read,
        report.records_written,
        report.records_filtered,
        report.records_rejected
    );
    println!("--- {output}\n{}", std::fs::read_to_string(&output)?);
    println!("--- {rejects}\n{}", std::fs::read_to_string(&rejects)?);
    assert!(report.balanced());
    Ok(())
}
