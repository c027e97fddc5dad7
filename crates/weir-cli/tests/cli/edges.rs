//! Input edges: byte order marks, CRLF, missing final newline, empty and header-only files.

use crate::support::*;

const BOM: &[u8] = b"\xEF\xBB\xBF";

#[test]
fn utf8_bom_is_skipped() {
    let sb = Sandbox::new();
    sb.write("bom.csv", &[BOM, b"id,name\n1,Ann\n2,Bob\n"].concat());
    let o = sb.weir(&["run", "-i", "bom.csv", "-o", "out.csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&sb.read("out.csv"), b"id,name\n1,Ann\n2,Bob\n");
}

#[test]
fn utf8_bom_select_first_column_by_name() {
    let sb = Sandbox::new();
    sb.write("bom.csv", &[BOM, b"id,name\n1,Ann\n2,Bob\n"].concat());
    let o = sb.weir(&["run", "-i", "bom.csv", "--select", "name,id", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"name,id\nAnn,1\nBob,2\n");
    let o = sb.weir(&["run", "-i", "bom.csv", "--select", "id", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"id\n1\n2\n");
}

#[test]
fn utf8_bom_jsonl_first_key() {
    let sb = Sandbox::new();
    sb.write(
        "bom.jsonl",
        &[BOM, b"{\"id\":1,\"v\":\"a\"}\n{\"id\":2,\"v\":\"b\"}\n"].concat(),
    );
    let o = sb.weir(&["run", "-i", "bom.jsonl", "--select", "id", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"{\"id\":1}\n{\"id\":2}\n");
    let o = sb.weir(&["run", "-i", "bom.jsonl", "-q"]);
    assert_ok(&o);
    assert_bytes(
        &o.stdout,
        b"{\"id\":1,\"v\":\"a\"}\n{\"id\":2,\"v\":\"b\"}\n",
    );
}

#[test]
fn crlf_input_gives_lf_output() {
    let sb = Sandbox::new();
    // The CRLF inside the quoted field is data and stays.
    sb.write(
        "crlf.csv",
        b"id,note\r\n1,plain\r\n2,\"two\r\nlines\"\r\n3,x\r\n",
    );
    let o = sb.weir(&["run", "-i", "crlf.csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"id,note\n1,plain\n2,\"two\r\nlines\"\n3,x\n");
}

#[test]
fn lone_cr_ends_a_record() {
    let sb = Sandbox::new();
    sb.write("cr.csv", b"id,note\r1,a\r2,b");
    let o = sb.weir(&["run", "-i", "cr.csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"id,note\n1,a\n2,b\n");
}

#[test]
fn last_record_without_trailing_newline() {
    let sb = Sandbox::new();
    sb.write("a.csv", b"a,b\n1,2\n3,4");
    let o = sb.weir(&["run", "-i", "a.csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"a,b\n1,2\n3,4\n");

    sb.write("b.csv", b"a,b\n1,\"x\ny\"");
    let o = sb.weir(&["run", "-i", "b.csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"a,b\n1,\"x\ny\"\n");

    sb.write("c.jsonl", b"{\"a\":1}\n{\"a\":2}");
    let o = sb.weir(&["run", "-i", "c.jsonl", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"{\"a\":1}\n{\"a\":2}\n");
}

#[test]
fn empty_input_file() {
    let sb = Sandbox::new();
    sb.write("empty.csv", b"");
    let o = sb.weir(&[
        "run",
        "-i",
        "empty.csv",
        "-o",
        "out.csv",
        "--report",
        "r.json",
        "-q",
    ]);
    assert_ok(&o);
    assert_bytes(&sb.read("out.csv"), b"");
    let report = sb.read_string("r.json");
    assert_eq!(report_field(&report, "status"), "succeeded");
    assert_eq!(report_num(&report, "records_read"), 0);

    let o = sb.weir(&["run", "-i", "empty.csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"");

    for name in ["empty.jsonl", "empty.txt", "empty.tsv"] {
        sb.write(name, b"");
        let o = sb.weir(&["run", "-i", name, "-q"]);
        assert_ok(&o);
        assert_bytes(&o.stdout, b"");
    }
}

#[test]
fn header_only_file() {
    let sb = Sandbox::new();
    sb.write("h.csv", b"id,name\n");
    let o = sb.weir(&["run", "-i", "h.csv", "-o", "out.csv", "--report", "r.json"]);
    assert_ok(&o);
    assert_bytes(&sb.read("out.csv"), b"id,name\n");
    assert_eq!(report_num(sb.read("r.json"), "records_read"), 0);

    sb.write("h2.csv", b"id,name");
    let o = sb.weir(&["run", "-i", "h2.csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"id,name\n");

    let o = sb.weir(&["run", "-i", "h.csv", "--select", "name", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"name\n");

    // Binding still happens: the header names the columns.
    let o = sb.weir(&["run", "-i", "h.csv", "--select", "nmae", "-q"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("did you mean 'name'"), "{}", stderr(&o));
}

#[test]
fn blank_lines_only_file_has_no_records() {
    let sb = Sandbox::new();
    sb.write("blank.csv", b"\n\n\r\n\n");
    let o = sb.weir(&[
        "run",
        "-i",
        "blank.csv",
        "-o",
        "out.csv",
        "--report",
        "r.json",
    ]);
    assert_ok(&o);
    let report = sb.read_string("r.json");
    assert_eq!(report_num(&report, "records_read"), 0);
    assert_eq!(report_field(&report, "status"), "succeeded");
    assert!(sb.exists("out.csv"));
}

#[test]
fn blank_lines_only_file_gives_empty_output() {
    let sb = Sandbox::new();
    sb.write("blank.csv", b"\n\n\n");
    let o = sb.weir(&["run", "-i", "blank.csv", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"");
}

#[test]
fn blank_lines_before_the_header_are_skipped() {
    // csv-core (whose reading the decoder follows) skips empty lines, the header included.
    let sb = Sandbox::new();
    sb.write("lead.csv", b"\n\r\n\na,b\n1,2\n3\n");
    let o = sb.weir(&[
        "run",
        "-i",
        "lead.csv",
        "--report",
        "r.json",
        "--rejects",
        "rej.csv",
        "-q",
    ]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"a,b\n1,2\n");
    let report = sb.read_string("r.json");
    assert_eq!(report_num(&report, "records_read"), 2);
    assert_eq!(report_num(&report, "records_rejected"), 1);
    // The blank lines still count: "3" is on line 6, at byte 1 + 2 + 1 + 4 + 4 = 12.
    assert_bytes(
        &sb.read("rej.csv"),
        b"file,line,byte_offset,field,error,message,record\n\
          lead.csv,6,12,b,missing-cell,\"record has 1 field, the header has 2: 'b' is missing\",3\n",
    );
}

#[test]
fn no_header_names_columns_by_position() {
    let sb = Sandbox::new();
    sb.write("nh.csv", b"x,y\n1,2\n");
    let o = sb.weir(&["run", "-i", "nh.csv", "--no-header", "-q"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"x,y\n1,2\n");
    let o = sb.weir(&[
        "run",
        "-i",
        "nh.csv",
        "--no-header",
        "--select",
        "column2",
        "-q",
    ]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"y\n2\n");
}
