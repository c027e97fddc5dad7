//! Where a run's files come from: the FILE arguments sorted into the pipeline file and the
//! inputs, in the order typed, and standard input as the input when none is named and data is
//! piped or redirected in (as ripgrep decides it).

use std::path::{Path, PathBuf};

use clap::ArgMatches;

use crate::args::RunArgs;

/// Whether a name is a pipeline file's: it ends in `.toml`, `.yaml` or `.yml` (any case).
pub fn is_pipeline_file(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["toml", "yaml", "yml"].contains(&e.to_ascii_lowercase().as_str()))
}

/// Sorts the FILE arguments (and `--input`'s values) into the pipeline file and the inputs.
///
/// Inputs keep the order they were typed in, FILE arguments and `--input` values interleaved
/// (`matches` knows it; without them FILEs come first). The first value of each `--input` is
/// an input whatever its name (`-i data.toml` reads it as data); the values after it were
/// typed as a list (`-i a.csv b.csv p.toml`), so a pipeline file among them counts as the
/// pipeline file, as a FILE would. At most one pipeline file. Called once per run, on the
/// arguments as typed.
pub fn place_files(args: &mut RunArgs, matches: Option<&ArgMatches>) -> Result<(), String> {
    let files = std::mem::take(&mut args.files);
    let given = std::mem::take(&mut args.io.input);
    let typed_input: Option<Vec<Vec<String>>> = matches
        .and_then(|m| m.get_occurrences::<String>("input"))
        .map(|groups| groups.map(|g| g.cloned().collect()).collect());
    // (command-line index, value, whether it may be the pipeline file)
    let mut typed: Vec<(usize, String, bool)> = Vec::new();
    let file_indices: Vec<usize> = matches
        .and_then(|m| m.indices_of("files"))
        .map(Iterator::collect)
        .unwrap_or_default();
    for (k, f) in files.into_iter().enumerate() {
        typed.push((file_indices.get(k).copied().unwrap_or(k), f, true));
    }
    // Without the matches (a pipeline file run alone), each value is an input as if given alone.
    let (occurrences, input_indices): (Vec<Vec<String>>, Vec<usize>) = match typed_input {
        Some(groups) => {
            debug_assert_eq!(groups.concat(), given, "--input is placed as typed");
            let indices = matches
                .and_then(|m| m.indices_of("input"))
                .map(Iterator::collect)
                .unwrap_or_default();
            (groups, indices)
        }
        None => (given.into_iter().map(|v| vec![v]).collect(), Vec::new()),
    };
    let mut at = 0;
    for group in occurrences {
        for (k, value) in group.into_iter().enumerate() {
            let index = input_indices.get(at).copied().unwrap_or(usize::MAX);
            at += 1;
            typed.push((index, value, k > 0));
        }
    }
    typed.sort_by_key(|(index, _, _)| *index);
    let mut pipeline: Option<String> = args.pipeline.as_ref().map(|p| p.display().to_string());
    for (_, value, may_be_pipeline) in typed {
        if may_be_pipeline && is_pipeline_file(&value) {
            if let Some(first) = &pipeline {
                return Err(format!(
                    "two pipeline files, {first} and {value}: give at most one (a FILE ending \
                     in .toml, .yaml or .yml is a pipeline file; read one as data with -i {value})"
                ));
            }
            pipeline = Some(value);
        } else {
            args.io.input.push(value);
        }
    }
    args.pipeline = pipeline.map(PathBuf::from);
    Ok(())
}

/// Whether standard input holds data to read: a pipe (FIFO), a regular file or a socket, as
/// ripgrep's test. Not a terminal, and not a character device such as `/dev/null` (what a
/// service or a cron job is given), nor a closed descriptor: reading those would wait for a
/// keyboard or read nothing.
#[cfg(unix)]
pub fn stdin_has_data() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    let Ok(fd) = std::io::stdin().as_fd().try_clone_to_owned() else {
        return false;
    };
    match std::fs::File::from(fd).metadata() {
        Ok(m) => {
            let t = m.file_type();
            t.is_file() || t.is_fifo() || t.is_socket()
        }
        Err(_) => false,
    }
}

/// Whether standard input holds data to read: anything but a terminal.
#[cfg(not(unix))]
pub fn stdin_has_data() -> bool {
    !std::io::IsTerminal::is_terminal(&std::io::stdin())
}

/// The error when no input is named and standard input is not read, saying how to name one.
pub fn no_input(stdin_when_piped: bool) -> String {
    let ways = [
        "name a file (weir run data.csv ...)",
        "give --input PATH (several: -i a.csv b.csv; `-` for standard input)",
        "set `input` in the pipeline file",
        "pipe the data in (cmd | weir run ..., weir run ... < data.csv)",
    ];
    let ways = if stdin_when_piped {
        &ways[..]
    } else {
        &ways[..3]
    };
    let (last, rest) = ways.split_last().expect("ways to name an input");
    format!("no input: {}, or {last}", rest.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipeline_file_is_known_by_its_last_extension() {
        for name in ["p.toml", "dir/p.yaml", "P.YML", "./a.b.Toml"] {
            assert!(is_pipeline_file(name), "{name}");
        }
        for name in [
            "toml",
            ".toml",
            "p.toml.gz",
            "p.tomlx",
            "data.csv",
            "-",
            "yaml/x.csv",
        ] {
            assert!(!is_pipeline_file(name), "{name}");
        }
    }

    #[test]
    fn the_no_input_message_offers_standard_input_only_where_it_is_read() {
        let run = no_input(true);
        assert!(run.starts_with("no input: name a file"), "{run}");
        assert!(
            run.ends_with(", or pipe the data in (cmd | weir run ..., weir run ... < data.csv)")
        );
        let plan = no_input(false);
        assert!(
            plan.ends_with(", or set `input` in the pipeline file"),
            "{plan}"
        );
        assert!(!plan.contains("pipe the data"), "{plan}");
    }
}
