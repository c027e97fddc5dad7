//! `weir help` (commands and expression functions), `weir man`, and what each command's
//! `--help` shows.

use crate::support::*;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 help")
}

#[test]
fn help_functions_lists_every_function_with_its_signature_and_example() {
    let sb = Sandbox::new();
    let o = sb.weir(&["help", "functions"]);
    assert_ok(&o);
    let text = stdout(&o);
    let docs = weir::expr::functions();
    assert!(docs.len() >= 50, "{} functions documented", docs.len());
    let families = weir::expr::function_families();
    assert!(families.len() >= 5, "{families:?}");
    // A family's part of the list: from its heading to the blank line after it.
    let family_part = |family: &str| -> &str {
        let (_, heading) = families
            .iter()
            .find(|(name, _)| *name == family)
            .unwrap_or_else(|| panic!("{family} is not a family"));
        let start = text
            .find(&format!("\n{heading}:\n"))
            .unwrap_or_else(|| panic!("no heading {heading}"));
        let part = &text[start + 1..];
        &part[..part.find("\n\n").unwrap_or(part.len())]
    };
    for (family, _) in families {
        family_part(family);
    }
    for d in docs {
        let part = family_part(d.family);
        let line = format!("  {}  {}\n", d.signature, d.description);
        assert!(part.contains(&line), "no line {line:?} under {}", d.family);
        let example = format!("      {} -> {}", d.example, d.result);
        assert!(part.contains(&example), "no example {example:?}");
        for alias in d.aliases {
            assert!(part.contains(alias), "alias {alias} not shown");
        }
    }
    assert!(text.contains("upper('abc') -> 'ABC'"));
    assert!(
        text.contains("TRY_CAST(x AS type)"),
        "the syntax forms are listed too"
    );
}

#[test]
fn help_functions_name_shows_one_function_by_any_of_its_names() {
    let sb = Sandbox::new();
    for args in [
        &["help", "functions", "ucase"][..],
        &["help", "function", "UPPER"][..],
    ] {
        let o = sb.weir(args);
        assert_ok(&o);
        let text = stdout(&o);
        assert!(text.starts_with("upper(text)\n"), "{text}");
        assert!(text.contains("also named: ucase"), "{text}");
        assert!(text.contains("example: upper('abc') -> 'ABC'"), "{text}");
    }
    // A family lists only its functions.
    let o = sb.weir(&["help", "functions", "dates"]);
    assert_ok(&o);
    let text = stdout(&o);
    assert!(text.contains("strptime(text, format"), "{text}");
    assert!(!text.contains("upper(text)"), "{text}");
}

#[test]
fn help_functions_unknown_name_is_a_usage_error_with_a_suggestion() {
    let sb = Sandbox::new();
    let o = sb.weir(&["help", "functions", "uper"]);
    assert_fails(&o, 2, "unknown function 'uper' (did you mean 'upper'?)");
    assert!(o.stdout.is_empty());
    let o = sb.weir(&["help", "functions", "upper", "lower"]);
    assert_fails(&o, 2, "takes one function or family name, got 2");
}

#[test]
fn help_topic_is_the_commands_help() {
    let sb = Sandbox::new();
    for (topic, flag) in [
        (&["help", "run"][..], &["run", "--help"][..]),
        (
            &["help", "schema", "infer"][..],
            &["schema", "infer", "--help"][..],
        ),
        (&["help"][..], &["--help"][..]),
    ] {
        let a = sb.weir(topic);
        let b = sb.weir(flag);
        assert_ok(&a);
        assert_ok(&b);
        assert_eq!(stdout(&a), stdout(&b), "{topic:?}");
        assert!(stdout(&a).contains("Usage: weir"), "{topic:?}");
    }
    let o = sb.weir(&["help", "rn"]);
    assert_fails(&o, 2, "no help for 'rn' (did you mean 'run'?)");
    let err = stderr(&o);
    assert!(err.contains("functions") && err.contains("merge"), "{err}");
    let o = sb.weir(&["help", "schema", "infr"]);
    assert_fails(&o, 2, "no help for 'schema infr' (did you mean 'infer'?)");
}

#[test]
fn run_help_points_to_the_function_list() {
    let sb = Sandbox::new();
    let o = sb.weir(&["run", "--help"]);
    assert_ok(&o);
    let text = stdout(&o);
    let filter = text.find("--filter <EXPR>").expect("--filter shown");
    let derive = text.find("--derive <NAME=EXPR>").expect("--derive shown");
    let near = &text[filter..derive + 300];
    assert!(near.contains("weir help functions"), "{near}");
}

#[test]
fn run_help_hides_the_planning_flags_that_plan_help_shows() {
    let sb = Sandbox::new();
    let run = stdout(&sb.weir(&["run", "--help"]));
    let plan = stdout(&sb.weir(&["plan", "--help"]));
    for flag in ["--shards <N>", "--shard-size <SIZE>"] {
        assert!(!run.contains(flag), "run --help shows {flag}");
        assert!(plan.contains(flag), "plan --help lacks {flag}");
    }
    for flag in [
        "--out <DIR>",
        "--shard <K|K/N>",
        "--shard-from-env",
        "--plan <FILE>",
        "--start-at <BYTE>",
    ] {
        assert!(run.contains(flag), "run --help lacks {flag}");
    }
    // Still refused by run, with where it belongs.
    sb.write("in.csv", b"a\n1\n");
    let o = sb.weir(&["run", "-i", "in.csv", "-o", "out.csv", "--shards", "4"]);
    assert_fails(&o, 2, "--shards is for weir plan");
    let o = sb.weir(&[
        "run",
        "-i",
        "in.csv",
        "-o",
        "out.csv",
        "--shard-size",
        "1MiB",
    ]);
    assert_fails(&o, 2, "--shard-size is for weir plan");
    assert!(!sb.exists("out.csv"));
}

#[test]
fn man_page_has_a_section_per_command_with_its_options() {
    let sb = Sandbox::new();
    let o = sb.weir(&["man"]);
    assert_ok(&o);
    let page = stdout(&o);
    assert!(page.contains("\n.TH weir 1 "), "{}", &page[..200]);
    let section = |title: &str| {
        let start = page
            .find(&format!(".SH \"{title}\"\n"))
            .unwrap_or_else(|| panic!("no section {title}"));
        let rest = &page[start + 4..];
        rest[..rest.find("\n.SH ").unwrap_or(rest.len())].to_string()
    };
    for (title, options) in [
        (
            "WEIR RUN",
            &[
                "max\\-record\\-size",
                "filter",
                "shard\\-from\\-env",
                "resume",
            ][..],
        ),
        ("WEIR PLAN", &["shards", "shard\\-size"][..]),
        ("WEIR MERGE", &["repair", "concat"][..]),
        ("WEIR SCHEMA INFER", &["sample", "no\\-header"][..]),
        ("WEIR DEMO", &["size", "seed"][..]),
        ("WEIR HELP", &[][..]),
    ] {
        let text = section(title);
        for opt in options {
            assert!(
                text.contains(&format!("\\fB\\-\\-{opt}\\fR")),
                "{title}: no --{opt}"
            );
        }
    }
    assert!(!section("WEIR RUN").contains("\\-\\-shard\\-size"));
    assert!(page.contains(".SH \"EXIT STATUS\""));
}
