//! `weir demo`: the whole product on a generated dirty file, in one command.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use crate::args::DemoArgs;
use crate::demo_data::write_customers;
use crate::exit::Exit;
use crate::human::{group, human_bytes};
use crate::run;
use crate::spec;

const DEMO_PIPELINE: &str = include_str!("../../../pipelines/demo.toml");
const DEMO_SCHEMA: &str = include_str!("../../../pipelines/customers.schema.json");

/// A few records with the wrong number of fields, so the demo shows rejects with their lines.
const RAGGED: &str = "\
900000001,Ragged Row,ragged@example.com,41,US
900000002,\"Extra, Cells\",extra@example.com,33,DE,2020-01-01,1.5,note,surplus
";

pub fn demo(args: DemoArgs) -> Exit {
    let dir = match args.dir {
        Some(d) => d,
        None => std::env::temp_dir().join(format!("weir-demo-{}", std::process::id())),
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("weir: error: cannot create {}: {e}", dir.display());
        return Exit::Failed;
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
            return Exit::Failed;
        }
    };
    eprintln!(
        "weir demo: wrote {} ({} records, quoted commas, embedded newlines, doubled quotes, \
         ragged rows) in {:.1} s",
        input.display(),
        group(rows),
        t.elapsed().as_secs_f64()
    );
    // The demo's pipeline and schema are the ones shipped in `pipelines/`, written beside the
    // data so the run can be repeated (or edited) with `weir run DIR/pipeline.toml`.
    let pipeline = dir.join("pipeline.toml");
    let files = [
        (pipeline.clone(), DEMO_PIPELINE),
        (dir.join("customers.schema.json"), DEMO_SCHEMA),
    ];
    for (path, text) in &files {
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("weir: error: cannot write {}: {e}", path.display());
            return Exit::Failed;
        }
    }
    let mut cfg = match spec::from_file(&pipeline) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("weir: error: {e}");
            return Exit::Failed;
        }
    };
    if let Some(w) = args.workers {
        cfg.workers = w.max(1);
    }
    eprintln!(
        "weir demo: weir run {} (validate, clean, map, filter)",
        pipeline.display()
    );
    let (output, rejects, report) = (cfg.output.clone(), cfg.rejects.clone(), cfg.report.clone());
    let code = run::execute(cfg);
    if code == Exit::Ok {
        eprintln!("weir demo: output  {output}");
        if let Some(rejects) = rejects {
            eprintln!("weir demo: rejects {rejects} (first lines below)");
            if let Ok(text) = std::fs::read_to_string(&rejects) {
                for line in text.lines().take(6) {
                    eprintln!("    {}", line.chars().take(160).collect::<String>());
                }
            }
        }
        if let Some(report) = report {
            eprintln!("weir demo: report  {report}");
        }
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
