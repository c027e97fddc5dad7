//! Every shell example in README.md runs as written.
//!
//! The rule: each line of a ```` ```sh ```` block is a command (a line ending in `\` goes on
//! with the next; blank lines and lines that are only a `# comment` are not commands). The
//! commands run in order, each with `bash -o pipefail -c`, in one temporary folder prepared
//! as README says ("Use"): `customers.csv` and the demo's `pipeline.toml` and schema from
//! `weir demo`, a copy of `pipelines/`, and two gzipped CSV files in `logs/`. The `weir` they
//! call is the binary under test (its folder first on PATH). Each must exit 0, or the code its
//! comment names (`# ... exit 3 ...`). A command is skipped only by a marker that README shows
//! above its block:
//!
//! - `<!-- readme-test: skip block (why) -->`: every command of the next block;
//! - `<!-- readme-test: skip commands containing "TEXT" (why) -->`: those of the next block
//!   that contain TEXT.
//!
//! A marker that skips nothing, or a malformed one, fails the test, as does a block with no
//! command.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::*;

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
const PIPELINES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../pipelines");

/// A skip marker: the whole block, or the commands containing a text.
#[derive(Debug)]
enum Skip {
    Block,
    Containing(String),
}

#[derive(Debug)]
struct Marker {
    skip: Skip,
    /// The README line it is on (1-based), for messages.
    line: usize,
    used: bool,
}

/// One command of a block: its README line and its text (continuations joined).
#[derive(Debug)]
struct Example {
    line: usize,
    text: String,
}

#[derive(Debug)]
struct Block {
    markers: Vec<Marker>,
    commands: Vec<Example>,
}

fn parse_marker(text: &str, line: usize) -> Marker {
    let rest = text
        .trim()
        .strip_prefix("<!-- readme-test:")
        .and_then(|r| r.strip_suffix("-->"))
        .unwrap_or_else(|| panic!("README line {line}: a readme-test marker is one line: {text}"))
        .trim();
    let skip = if rest.starts_with("skip block (") {
        Skip::Block
    } else if let Some(quoted) = rest.strip_prefix("skip commands containing \"") {
        let (what, why) = quoted
            .split_once('"')
            .unwrap_or_else(|| panic!("README line {line}: unclosed quote: {text}"));
        assert!(
            why.trim().starts_with('(') && !what.is_empty(),
            "README line {line}: say why in parentheses after the text: {text}"
        );
        Skip::Containing(what.to_string())
    } else {
        panic!(
            "README line {line}: unknown readme-test marker (skip block (why), or skip commands \
             containing \"TEXT\" (why)): {text}"
        )
    };
    Marker {
        skip,
        line,
        used: false,
    }
}

/// The ```sh blocks of `readme`, with the markers above each.
fn sh_blocks(readme: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut markers = Vec::new();
    let mut lines = readme.lines().enumerate().map(|(i, l)| (i + 1, l));
    while let Some((n, line)) = lines.next() {
        if line.trim_start().starts_with("<!-- readme-test:") {
            markers.push(parse_marker(line, n));
            continue;
        }
        if !line.starts_with("```") {
            continue;
        }
        let is_sh = line.trim() == "```sh";
        let mut commands: Vec<Example> = Vec::new();
        let mut pending: Option<Example> = None;
        for (n, line) in lines.by_ref() {
            if line.starts_with("```") {
                break;
            }
            if !is_sh {
                continue;
            }
            let trimmed = line.trim();
            if pending.is_none() && (trimmed.is_empty() || trimmed.starts_with('#')) {
                continue;
            }
            let mut example = pending.take().unwrap_or(Example {
                line: n,
                text: String::new(),
            });
            match line.strip_suffix('\\') {
                Some(head) => {
                    example.text.push_str(head);
                    pending = Some(example);
                }
                None => {
                    example.text.push_str(line);
                    commands.push(example);
                }
            }
        }
        assert!(pending.is_none(), "README: a block ends inside a `\\` line");
        if is_sh {
            blocks.push(Block {
                markers: std::mem::take(&mut markers),
                commands,
            });
        } else {
            assert!(
                markers.is_empty(),
                "README line {}: a readme-test marker above a block that is not ```sh",
                markers[0].line
            );
        }
    }
    assert!(
        markers.is_empty(),
        "README line {}: a readme-test marker with no ```sh block after it",
        markers[0].line
    );
    blocks
}

/// The exit code a command's comment names (`# ... exit 3 ...`), else 0.
fn expected_code(command: &str) -> i32 {
    let Some((_, comment)) = command.split_once(" # ") else {
        return 0;
    };
    let words: Vec<&str> = comment.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[0] == "exit")
        .and_then(|w| w[1].trim_end_matches([',', ':', ';', ')']).parse().ok())
        .unwrap_or(0)
}

/// The folder README's examples assume: see its "Use" section.
fn prepare(dir: &Path, path: &str) {
    let demo = Command::new(WEIR)
        .args(["demo", "--size", "256KiB", "--dir", ".", "--workers", "2"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run weir demo");
    assert_ok(&demo);
    std::fs::create_dir(dir.join("pipelines")).unwrap();
    for entry in std::fs::read_dir(PIPELINES).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join("pipelines").join(entry.file_name())).unwrap();
    }
    let customers = std::fs::read(dir.join("customers.csv")).unwrap();
    std::fs::create_dir(dir.join("logs")).unwrap();
    for name in ["2026-01.csv.gz", "2026-02.csv.gz"] {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&customers).unwrap();
        std::fs::write(dir.join("logs").join(name), gz.finish().unwrap()).unwrap();
    }
    // The `weir` the commands call is the binary under test.
    let which = bash(dir, path, "command -v weir");
    assert_eq!(which.stdout.trim(), WEIR, "{}", which.stderr);
}

/// What a command did.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `command` with bash in `dir`, PATH set to `path`; at most two minutes.
fn bash(dir: &Path, path: &str, command: &str) -> Ran {
    let mut child = Command::new("bash")
        .args(["-o", "pipefail", "-c", command])
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bash");
    // Drain the pipes on threads so a talkative command cannot block on them.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = std::io::Read::read_to_end(&mut p, &mut bytes);
            }
            bytes
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let (code, waited) = wait_at_most(&mut child, Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&out.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&err.join().unwrap()).into_owned();
    let Some(code) = code else {
        panic!("`{command}` did not finish in {waited:?} (or died by a signal); stderr:\n{stderr}");
    };
    Ran {
        code,
        stdout,
        stderr,
    }
}

#[test]
fn every_shell_example_in_the_readme_runs_as_written() {
    let readme = std::fs::read_to_string(README).expect("README.md");
    let mut blocks = sh_blocks(&readme);
    let sb = Sandbox::new();
    let bin: PathBuf = Path::new(WEIR).parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    prepare(sb.path(), &path);
    let (mut ran, mut skipped) = (0, Vec::new());
    for block in &mut blocks {
        assert!(
            !block.commands.is_empty(),
            "a ```sh block with no command: {block:?}"
        );
        for example in &block.commands {
            let skip = block.markers.iter_mut().find(|m| match &m.skip {
                Skip::Block => true,
                Skip::Containing(text) => example.text.contains(text.as_str()),
            });
            if let Some(marker) = skip {
                marker.used = true;
                skipped.push(format!(
                    "README line {}: {} (marker on line {})",
                    example.line, example.text, marker.line
                ));
                continue;
            }
            let want = expected_code(&example.text);
            let o = bash(sb.path(), &path, &example.text);
            assert_eq!(
                o.code, want,
                "README line {}: `{}` exited {}, not {want}\nstdout:\n{}\nstderr:\n{}",
                example.line, example.text, o.code, o.stdout, o.stderr
            );
            ran += 1;
        }
        for marker in &block.markers {
            assert!(
                marker.used,
                "README line {}: the marker skips no command of its block",
                marker.line
            );
        }
    }
    // Shown with --nocapture; the markers in README say the same.
    eprintln!(
        "README: {ran} commands ran; skipped:\n  {}",
        skipped.join("\n  ")
    );
    assert!(ran >= 15, "only {ran} README commands found to run");
}

#[test]
fn the_readme_rules_read_what_they_say() {
    let text = "\
intro
<!-- readme-test: skip commands containing \"s3://\" (network) -->
```sh
weir run a.csv \\
    -o b.csv     # one command over two lines
# a comment line

weir run -i s3://x/y.csv
weir merge out/ || cat   # exit 3: prints the commands
```
```
weir: error: not a command
```
";
    let blocks = sh_blocks(text);
    assert_eq!(blocks.len(), 1);
    let texts: Vec<&str> = blocks[0].commands.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "weir run a.csv     -o b.csv     # one command over two lines",
            "weir run -i s3://x/y.csv",
            "weir merge out/ || cat   # exit 3: prints the commands",
        ]
    );
    assert_eq!(blocks[0].commands[0].line, 4);
    assert!(matches!(&blocks[0].markers[0].skip, Skip::Containing(t) if t == "s3://"));
    assert_eq!(expected_code(texts[0]), 0);
    assert_eq!(expected_code(texts[2]), 3);
}

#[test]
#[should_panic(expected = "unknown readme-test marker")]
fn a_marker_that_says_something_else_fails() {
    sh_blocks("<!-- readme-test: skip everything -->\n```sh\nweir run\n```\n");
}
