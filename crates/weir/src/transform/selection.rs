//! Column selections, as `select` and `drop` take them, in xan's notation: each item is a
//! column name, a 0-based index, an inclusive range of either (`id:email`, `0:2`, `3:`, `:email`)
//! or a regex between slashes (`/^addr_/`) matching names; resolved against the header when the
//! step binds, so pipeline files and the command line read the same notation.
//!
//! An item that is exactly a column's name is that column, whatever it looks like, except a
//! number, which is always an index (as in xan): to name a column `2024`, or one holding a `:`
//! that is not a column's whole name, quote it, `"2024"` (a `"` inside is written `""`).

use crate::error::BindError;
use crate::record::Columns;

/// One end of a range, or a single column.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Name(String),
    Index(usize),
}

/// One parsed item of a selection.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selector {
    One(Column),
    /// Inclusive; an open end is the first or last column.
    Range(Option<Column>, Option<Column>),
    Regex(String),
}

/// Splits a command-line list (`id,"a,b",/x{1,2}/`) into items at the commas outside quotes
/// and regexes; each item is trimmed, empty ones are dropped.
pub fn split_selection(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let end = if let Some(body) = rest.strip_prefix('/') {
            // A regex runs to a closing slash that ends the item.
            body.match_indices('/')
                .map(|(i, _)| i + 2)
                .find(|&i| {
                    rest[i..].trim_start().is_empty() || rest[i..].trim_start().starts_with(',')
                })
                .unwrap_or(rest.len())
        } else {
            let mut quoted = false;
            rest.char_indices()
                .find(|&(_, c)| {
                    if c == '"' {
                        quoted = !quoted;
                    }
                    c == ',' && !quoted
                })
                .map_or(rest.len(), |(i, _)| i)
        };
        let item = rest[..end].trim();
        if !item.is_empty() {
            items.push(item.to_string());
        }
        rest = rest[end..].trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    items
}

/// A quoted name at the start of `s`: the name and the rest after the closing quote.
fn quoted(s: &str) -> Result<(String, &str), String> {
    let mut name = String::new();
    let mut chars = s[1..].char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '"' {
            name.push(c);
            continue;
        }
        if s[1 + i + 1..].starts_with('"') {
            name.push('"');
            chars.next();
            continue;
        }
        return Ok((name, &s[1 + i + 1..]));
    }
    Err(format!("selection '{s}': a quote is never closed"))
}

/// One end of a range, or a single column: a quoted name, a number (an index) or a name;
/// `None` when empty (an open end).
fn column(text: &str, item: &str) -> Result<Option<Column>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    if text.starts_with('"') {
        let (name, rest) = quoted(text)?;
        if !rest.is_empty() {
            return Err(format!(
                "selection '{item}': unexpected '{rest}' after the quoted name"
            ));
        }
        return Ok(Some(Column::Name(name)));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse() {
            Ok(i) => Ok(Some(Column::Index(i))),
            Err(_) => Err(format!("selection '{item}': index {text} is too large")),
        };
    }
    Ok(Some(Column::Name(text.to_string())))
}

/// Parses one item (see the module documentation).
fn parse(item: &str) -> Result<Selector, String> {
    if item.is_empty() {
        return Err("empty column selection".to_string());
    }
    if let Some(re) = item.strip_prefix('/').and_then(|r| r.strip_suffix('/')) {
        return Ok(Selector::Regex(re.to_string()));
    }
    // The first end: quoted (a `:` inside it is part of the name), or up to the first `:`.
    let (first, rest) = if item.starts_with('"') {
        let (_, after) = quoted(item)?;
        item.split_at(item.len() - after.len())
    } else {
        item.split_at(item.find(':').unwrap_or(item.len()))
    };
    let Some(second) = rest.strip_prefix(':') else {
        if !rest.is_empty() {
            return Err(format!(
                "selection '{item}': unexpected '{rest}' after the quoted name"
            ));
        }
        let one = column(first, item)?.expect("the item is not empty");
        return Ok(Selector::One(one));
    };
    Ok(Selector::Range(column(first, item)?, column(second, item)?))
}

/// The input column a name or an index stands for.
fn index(c: &Column, input: &Columns) -> Result<usize, BindError> {
    match c {
        Column::Name(name) => input
            .index_of(name)
            .ok_or_else(|| BindError::unknown_column(name, input)),
        Column::Index(i) if *i < input.len() => Ok(*i),
        Column::Index(i) => {
            let have = match input.len() {
                0 => "the input has no columns".to_string(),
                1 => "the input has 1 column (index 0; indexes start at 0)".to_string(),
                n => format!(
                    "the input has {n} columns (indexes 0 to {}; indexes start at 0)",
                    n - 1
                ),
            };
            let named = if input.index_of(&i.to_string()).is_some() {
                format!("; to select the column named '{i}', quote it: \"{i}\"")
            } else {
                String::new()
            };
            Err(BindError {
                message: format!("column index {i} is out of range: {have}{named}"),
            })
        }
    }
}

/// The input columns `items` select, in order (a column may repeat): each item is a column
/// name, an index, a range or a regex (see the module documentation). Unknown names suggest
/// the nearest; an index past the end, a range that ends before it starts and a regex that
/// matches nothing are errors naming what was asked.
pub(crate) fn resolve(items: &[String], input: &Columns) -> Result<Vec<usize>, BindError> {
    let mut out = Vec::new();
    for item in items {
        // An item that is exactly a column's name is that column (a name holding ':', or
        // written between slashes), unless it is a number.
        if !item.bytes().all(|b| b.is_ascii_digit()) {
            if let Some(i) = input.index_of(item) {
                out.push(i);
                continue;
            }
        }
        let selector = parse(item).map_err(|message| BindError { message })?;
        match selector {
            Selector::One(c) => out.push(index(&c, input)?),
            Selector::Range(start, end) => out.extend(range(item, start, end, input)?),
            Selector::Regex(re) => out.extend(regex(&re, input)?),
        }
    }
    Ok(out)
}

fn range(
    item: &str,
    start: Option<Column>,
    end: Option<Column>,
    input: &Columns,
) -> Result<std::ops::RangeInclusive<usize>, BindError> {
    let last = Column::Index(input.len().saturating_sub(1));
    let first = Column::Index(0);
    let from = index(start.as_ref().unwrap_or(&first), input)?;
    let to = index(end.as_ref().unwrap_or(&last), input)?;
    if to < from {
        let name = |i: usize| format!("'{}' is column {i}", input.names()[i]);
        return Err(BindError {
            message: format!(
                "range '{item}' ends before it starts ({}, {}); write it the other way round",
                name(from),
                name(to)
            ),
        });
    }
    Ok(from..=to)
}

fn regex(re: &str, input: &Columns) -> Result<Vec<usize>, BindError> {
    let compiled = regex::Regex::new(re).map_err(|e| BindError {
        message: format!("invalid regex /{re}/: {e}"),
    })?;
    let hits: Vec<usize> = (0..input.len())
        .filter(|&i| compiled.is_match(&input.names()[i]))
        .collect();
    if hits.is_empty() {
        return Err(BindError {
            message: format!(
                "regex /{re}/ matches no column (columns: {})",
                input.names().join(", ")
            ),
        });
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Columns {
        Columns::new(["id", "name", "email", "addr_city", "addr_zip", "a:b", "7"])
    }

    fn sel(items: &[&str]) -> Result<Vec<usize>, String> {
        let items: Vec<String> = items.iter().map(|s| s.to_string()).collect();
        resolve(&items, &cols()).map_err(|e| e.message)
    }

    #[test]
    fn parses_each_form() {
        let name = |s: &str| Some(Column::Name(s.into()));
        assert_eq!(parse("id"), Ok(Selector::One(Column::Name("id".into()))));
        assert_eq!(parse("3"), Ok(Selector::One(Column::Index(3))));
        assert_eq!(parse("\"3\""), Ok(Selector::One(Column::Name("3".into()))));
        assert_eq!(
            parse("id:email"),
            Ok(Selector::Range(name("id"), name("email")))
        );
        assert_eq!(
            parse("1:3"),
            Ok(Selector::Range(
                Some(Column::Index(1)),
                Some(Column::Index(3))
            ))
        );
        assert_eq!(
            parse("2:"),
            Ok(Selector::Range(Some(Column::Index(2)), None))
        );
        assert_eq!(parse(":email"), Ok(Selector::Range(None, name("email"))));
        assert_eq!(
            parse("\"a:b\":id"),
            Ok(Selector::Range(name("a:b"), name("id")))
        );
        assert_eq!(
            parse("\"say \"\"hi\"\"\""),
            Ok(Selector::One(Column::Name("say \"hi\"".into())))
        );
        assert_eq!(parse("/^addr_/"), Ok(Selector::Regex("^addr_".into())));
        assert!(parse("\"open").unwrap_err().contains("never closed"));
        assert!(parse("\"a\"b").unwrap_err().contains("unexpected 'b'"));
        assert!(parse("99999999999999999999999")
            .unwrap_err()
            .contains("too large"));
    }

    #[test]
    fn splits_at_commas_outside_quotes_and_regexes() {
        assert_eq!(split_selection("id, name ,email"), ["id", "name", "email"]);
        assert_eq!(
            split_selection("\"a,b\",/x{1,2}/,id"),
            ["\"a,b\"", "/x{1,2}/", "id"]
        );
        assert_eq!(split_selection("/a/b/,c"), ["/a/b/", "c"]);
        assert_eq!(split_selection("a,,b,"), ["a", "b"]);
        assert_eq!(split_selection(""), Vec::<String>::new());
    }

    #[test]
    fn binds_names_indexes_ranges_and_regexes() {
        assert_eq!(sel(&["email", "id"]), Ok(vec![2, 0]));
        assert_eq!(sel(&["0", "2"]), Ok(vec![0, 2]));
        assert_eq!(sel(&["id:email"]), Ok(vec![0, 1, 2]));
        assert_eq!(sel(&["1:2"]), Ok(vec![1, 2]));
        assert_eq!(sel(&["name:1"]), Ok(vec![1]));
        assert_eq!(sel(&["4:"]), Ok(vec![4, 5, 6]));
        assert_eq!(sel(&[":1"]), Ok(vec![0, 1]));
        assert_eq!(sel(&["/^addr_/", "id"]), Ok(vec![3, 4, 0]));
        // A whole name wins over the notation; a number is an index unless quoted.
        assert_eq!(sel(&["a:b"]), Ok(vec![5]));
        assert_eq!(sel(&["6"]), Ok(vec![6]));
        assert_eq!(sel(&["\"7\""]), Ok(vec![6]));
    }

    #[test]
    fn errors_name_what_was_asked() {
        assert_eq!(
            sel(&["naem"]).unwrap_err(),
            "unknown column 'naem' (did you mean 'name'?)"
        );
        assert_eq!(
            sel(&["9"]).unwrap_err(),
            "column index 9 is out of range: the input has 7 columns (indexes 0 to 6; indexes start at 0)"
        );
        assert_eq!(
            sel(&["7"]).unwrap_err(),
            "column index 7 is out of range: the input has 7 columns (indexes 0 to 6; indexes \
             start at 0); to select the column named '7', quote it: \"7\""
        );
        assert_eq!(
            sel(&["email:id"]).unwrap_err(),
            "range 'email:id' ends before it starts ('email' is column 2, 'id' is column 0); \
             write it the other way round"
        );
        assert_eq!(
            sel(&["/^zz/"]).unwrap_err(),
            "regex /^zz/ matches no column (columns: id, name, email, addr_city, addr_zip, a:b, 7)"
        );
        assert!(sel(&["/(/"]).unwrap_err().starts_with("invalid regex /(/:"));
        assert_eq!(
            sel(&["id:nmae"]).unwrap_err(),
            "unknown column 'nmae' (did you mean 'name'?)"
        );
        assert!(sel(&["2:30"])
            .unwrap_err()
            .starts_with("column index 30 is out of range"));
    }
}
