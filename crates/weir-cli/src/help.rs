//! `weir help [TOPIC]` (a command's help, or the expression functions from the library's table,
//! `weir::expr::functions`) and `weir man` (one page: weir, then a section per subcommand).

use std::io::Write;

use clap::Command;
use weir::expr::{self, FunctionDoc};
use weir::record::edit_distance;

use crate::args;
use crate::exit::Exit;

/// `weir help`, `weir help run`, `weir help schema infer`, `weir help functions [NAME|FAMILY]`.
pub fn help(topic: &[String]) -> Exit {
    let topic: Vec<&str> = topic.iter().map(String::as_str).collect();
    if let Some((&first, rest)) = topic.split_first() {
        if matches!(first, "functions" | "function") {
            return functions(rest);
        }
    }
    let mut cmd = args::command();
    cmd.build();
    let mut at = &mut cmd;
    for (i, &word) in topic.iter().enumerate() {
        let names: Vec<String> = at
            .get_subcommands()
            .filter(|c| !c.is_hide_set())
            .map(|c| c.get_name().to_string())
            .collect();
        match at.find_subcommand_mut(word) {
            Some(sub) => at = sub,
            None => {
                let mut known = names;
                if i == 0 {
                    known.push("functions".to_string());
                }
                let asked = topic[..=i].join(" ");
                eprintln!(
                    "weir: error: no help for '{asked}'{} (topics: {})",
                    suggest(word, known.iter().map(String::as_str)),
                    known.join(", ")
                );
                return Exit::Usage;
            }
        }
    }
    // The help `weir TOPIC... --help` prints, as clap renders it (short or long form alike).
    let argv = std::iter::once("weir")
        .chain(topic.iter().copied())
        .chain(["--help"]);
    match args::command().try_get_matches_from(argv) {
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => print(&e.render().to_string()),
        _ => unreachable!("--help of a known command displays its help"),
    }
}

/// ` (did you mean 'x'?)` when a name is near `word`, else nothing.
fn suggest<'a>(word: &str, names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| (edit_distance(word, n), n))
        .filter(|(d, n)| *d <= (n.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| format!(" (did you mean '{n}'?)"))
        .unwrap_or_default()
}

/// Every function, a family's, or one function in full.
fn functions(rest: &[&str]) -> Exit {
    let families = expr::function_families();
    let mut out = String::new();
    match rest {
        [] => {
            out.push_str(
                "Functions of --filter and --derive expressions (SQL, DuckDB's semantics; names are\n\
                 case-insensitive). `weir help functions NAME` shows one, `weir help functions FAMILY`\n\
                 one family (text, regex, math, null, dates).\n",
            );
            for (family, heading) in families {
                list_family(&mut out, family, heading);
            }
            out.push_str(FORMS);
        }
        [name] => {
            if let Some(doc) = expr::function(name) {
                describe(&mut out, doc);
            } else if let Some((family, heading)) = families.iter().find(|(f, _)| f == name) {
                list_family(&mut out, family, heading);
            } else {
                let names = expr::functions()
                    .iter()
                    .flat_map(|d| std::iter::once(d.name).chain(d.aliases.iter().copied()))
                    .chain(families.iter().map(|(f, _)| *f));
                eprintln!(
                    "weir: error: unknown function '{name}'{}; `weir help functions` lists them all",
                    suggest(&name.to_lowercase(), names)
                );
                return Exit::Usage;
            }
        }
        _ => {
            eprintln!(
                "weir: error: weir help functions takes one function or family name, got {}",
                rest.len()
            );
            return Exit::Usage;
        }
    }
    print(&out)
}

fn list_family(out: &mut String, family: &str, heading: &str) {
    out.push_str(&format!("\n{heading}:\n"));
    for doc in expr::functions().iter().filter(|d| d.family == family) {
        out.push_str(&format!("  {}  {}\n", doc.signature, doc.description));
        out.push_str(&format!("      {} -> {}", doc.example, doc.result));
        if !doc.aliases.is_empty() {
            out.push_str(&format!("    (also: {})", doc.aliases.join(", ")));
        }
        out.push('\n');
    }
}

fn describe(out: &mut String, doc: &FunctionDoc) {
    out.push_str(&format!("{}\n  {}\n", doc.signature, doc.description));
    if !doc.aliases.is_empty() {
        out.push_str(&format!("  also named: {}\n", doc.aliases.join(", ")));
    }
    out.push_str(&format!("  family: {}\n", doc.family));
    out.push_str(&format!("  example: {} -> {}\n", doc.example, doc.result));
}

/// The forms and operators that are syntax rather than functions.
const FORMS: &str = "
Operators and forms:
  = <> != < <= > >=, AND OR NOT, + - * / % ^ (power), || (concatenate)
  x IS [NOT] NULL, x [NOT] IN (a, b), x [NOT] BETWEEN a AND b, x IS [NOT] DISTINCT FROM y
  x [NOT] LIKE 'a%', ILIKE (any case), x ~ 'regex' (regexp_matches; !~ negated, ~* any case),
      x [NOT] SIMILAR TO 'regex' (the whole text)
  CASE WHEN c THEN a [ELSE b] END, CASE x WHEN v THEN a ... END
  CAST(x AS type), x::type, TRY_CAST(x AS type) (NULL when it does not convert); types:
      BIGINT, INTEGER, SMALLINT, TINYINT, DOUBLE, DECIMAL, VARCHAR, BOOLEAN, DATE, TIMESTAMP, TIME
  DATE '2024-01-31', TIMESTAMP '2024-01-31 10:00:00', TIME '10:00:00'; text in 'single quotes',
      column names as they are or in \"double quotes\"
  EXTRACT(part FROM t), SUBSTRING(x FROM a FOR n), TRIM([BOTH|LEADING|TRAILING] c FROM x),
      POSITION(s IN x)
";

/// `weir man`: the top-level page, then a section per subcommand (its options included),
/// each rendered by clap_mangen from the same definitions as --help.
pub fn man() -> Exit {
    let mut page = Vec::new();
    match render_man(&mut page) {
        Ok(()) => print(&String::from_utf8_lossy(&page)),
        Err(e) => {
            eprintln!("weir: error: cannot render the man page: {e}");
            Exit::Failed
        }
    }
}

fn render_man(w: &mut Vec<u8>) -> std::io::Result<()> {
    let mut cmd = args::command();
    cmd.build();
    let top = clap_mangen::Man::new(cmd.clone());
    top.render_title(w)?;
    top.render_name_section(w)?;
    top.render_synopsis_section(w)?;
    top.render_description_section(w)?;
    top.render_options_section(w)?;
    for sub in cmd.get_subcommands().filter(|c| !c.is_hide_set()) {
        render_subcommand(w, sub)?;
    }
    // The top-level command's notes are its exit codes.
    let mut extra = Vec::new();
    top.render_extra_section(&mut extra)?;
    let extra = String::from_utf8_lossy(&extra).replacen(".SH EXTRA", ".SH \"EXIT STATUS\"", 1);
    w.extend_from_slice(extra.as_bytes());
    top.render_version_section(w)
}

/// One subcommand as a section (its parts as subsections), then its own subcommands.
fn render_subcommand(w: &mut Vec<u8>, cmd: &Command) -> std::io::Result<()> {
    let name = cmd.get_bin_name().unwrap_or(cmd.get_name()).to_uppercase();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut body = Vec::new();
    man.render_synopsis_section(&mut body)?;
    man.render_description_section(&mut body)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut body)?;
    }
    if cmd.get_after_long_help().is_some() || cmd.get_after_help().is_some() {
        man.render_extra_section(&mut body)?;
    }
    writeln!(w, ".SH \"{}\"", name.replace('"', ""))?;
    // clap_mangen writes each part as a section (.SH); inside a subcommand's section they are
    // subsections, and its EXTRA section is the examples and notes of its --help.
    for line in String::from_utf8_lossy(&body).lines() {
        match line.strip_prefix(".SH ") {
            Some("EXTRA") => writeln!(w, ".SS NOTES")?,
            Some(title) => writeln!(w, ".SS {title}")?,
            None => writeln!(w, "{line}")?,
        }
    }
    for sub in cmd.get_subcommands().filter(|c| !c.is_hide_set()) {
        render_subcommand(w, sub)?;
    }
    Ok(())
}

/// Writes `text` to standard output; a closed pipe (`| head`) is a quiet success.
fn print(text: &str) -> Exit {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Exit::Ok,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Ok,
        Err(e) => {
            eprintln!("weir: error: cannot write to standard output: {e}");
            Exit::Failed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each command's section of the page: `weir` (before the first subcommand) and `weir run`,
    /// `weir schema infer`, ... by their titles.
    fn sections(page: &str) -> Vec<(String, String)> {
        let mut out = vec![("WEIR".to_string(), String::new())];
        for line in page.lines() {
            match line.strip_prefix(".SH \"WEIR ") {
                Some(title) => out.push((
                    format!("WEIR {}", title.trim_end_matches('"')),
                    String::new(),
                )),
                None => {
                    let last = out.last_mut().expect("one section");
                    last.1.push_str(line);
                    last.1.push('\n');
                }
            }
        }
        out
    }

    fn walk<'a>(cmd: &'a Command, path: &str, out: &mut Vec<(String, &'a Command)>) {
        out.push((path.to_uppercase(), cmd));
        for sub in cmd.get_subcommands().filter(|c| !c.is_hide_set()) {
            walk(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn the_man_page_has_every_option_of_every_command_in_its_section() {
        let mut page = Vec::new();
        render_man(&mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        let sections = sections(&page);
        let mut cmd = args::command();
        cmd.build();
        let mut commands = Vec::new();
        walk(&cmd, "weir", &mut commands);
        assert!(commands.len() >= 10, "{} commands", commands.len());
        let mut checked = 0;
        for (title, command) in commands {
            let text = &sections
                .iter()
                .find(|(t, _)| *t == title)
                .unwrap_or_else(|| panic!("no section {title}"))
                .1;
            for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
                let Some(long) = arg.get_long() else { continue };
                let roff = format!("\\fB\\-\\-{}\\fR", long.replace('-', "\\-"));
                assert!(text.contains(&roff), "{title}: no {roff} in its section");
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} options checked");
        // Hidden flags are not shown where they are hidden, and are where they are not.
        let run = &sections.iter().find(|(t, _)| t == "WEIR RUN").unwrap().1;
        let plan = &sections.iter().find(|(t, _)| t == "WEIR PLAN").unwrap().1;
        assert!(!run.contains("shard\\-size"));
        assert!(plan.contains("\\fB\\-\\-shard\\-size\\fR"));
    }
}
