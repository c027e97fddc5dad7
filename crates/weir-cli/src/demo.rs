//! `weir demo`: the whole product on a generated dirty file, in one command.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use weir::{Dialect, Format};

use crate::args::DemoArgs;
use crate::demo_data::write_customers;
use crate::run::{self, exit, human_bytes, RunConfig};

/// A few records with the wrong number of fields, so the demo shows rejects with their lines.
const RAGGED: &str = "\
900000001,Ragged Row,ragged@example.com,41,US
900000002,\"Extra, Cells\",extra@example.com,33,DE,2020-01-01,1.5,note,surplus
";

pub fn demo(args: DemoArgs) -> u8 {
    let dir = match args.dir {
        Some(d) => d,
        None => std::env::temp_dir().join(format!("weir-demo-{}", std::process::id())),
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("weir: error: cannot create {}: {e}", dir.display());
        return exit::FAILED;
    }
    let input = dir.join("customers.csv");
    eprintln!(
        "weir demo: generating {} of dirty customer records ...",
        human_bytes(args.size as u64)
    );
    let t = Instant::now();
    let rows = match generate(&input, args.size as u64, args.seed) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("weir: error: cannot write {}: {e}", input.display());
            return exit::FAILED;
        }
    };
    eprintln!(
        "weir demo: wrote {} ({} records, quoted commas, embedded newlines, doubled quotes, \
         ragged rows) in {:.1} s",
        input.display(),
        run::group(rows),
        t.elapsed().as_secs_f64()
    );
    let output = dir.join("customers-clean.csv");
    let rejects = dir.join("rejects.csv");
    let report = dir.join("report.json");
    let cfg = RunConfig {
        input: input.display().to_string(),
        output: output.display().to_string(),
        dialect: Dialect::new(Format::Csv),
        select: Some(
            ["id", "name", "email", "age", "country"]
                .map(String::from)
                .to_vec(),
        ),
        rejects: Some(rejects.display().to_string()),
        report: Some(report.display().to_string()),
        workers: args.workers.unwrap_or_else(run::default_workers),
        chunk_size: 1 << 20,
        max_record_size: 64 << 20,
        ordered: true,
        flexible: false,
        timeout: None,
        status_interval: Duration::from_secs(2),
        quiet: false,
    };
    eprintln!(
        "weir demo: weir run --input {} --output {} --select id,name,email,age,country \
         --rejects {} --report {}",
        cfg.input,
        cfg.output,
        rejects.display(),
        report.display()
    );
    let code = run::execute(cfg);
    if code == exit::OK {
        eprintln!("weir demo: output  {}", output.display());
        eprintln!(
            "weir demo: rejects {} (first lines below)",
            rejects.display()
        );
        if let Ok(text) = std::fs::read_to_string(&rejects) {
            for line in text.lines().take(4) {
                eprintln!("    {line}");
            }
        }
        eprintln!("weir demo: report  {}", report.display());
    }
    code
}

fn generate(path: &PathBuf, size: u64, seed: u64) -> std::io::Result<u64> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let rows = write_customers(&mut w, size, seed)?;
    w.write_all(RAGGED.as_bytes())?;
    w.flush()?;
    Ok(rows + 2)
}
