//! Ragged rows: rejected by default with their position and raw text, kept with --flexible.

use crate::support::*;

// ragged.csv, by hand (line: byte offset, bytes):
//   1-1:  0  "id,name,city\n"            13 bytes
//   2-3: 13  "1,\"two\nlines\",Oslo\n"   19 bytes  (record 1; an embedded newline)
//   4  : 32  "2,short\n"                  8 bytes  (record 2; missing city)
//   5  : 40  "3,a,b,extra\n"             12 bytes  (record 3; one extra field)
//   6  : 52  "4,ok,Rome\n"               10 bytes  (record 4)
//   7-8: 62  "5,\"also\nmulti\"\n"       15 bytes  (record 5; missing city, two lines)

const RAGGED_STRICT_OUT: &[u8] = b"id,name,city\n1,\"two\nlines\",Oslo\n4,ok,Rome\n";

const RAGGED_REJECTS: &[u8] = b"file,line,byte_offset,field,error,message,record
ragged.csv,4,32,city,missing-cell,\"record has 2 fields, the header has 3: 'city' is missing\",\"2,short\"
ragged.csv,5,40,4,extra-cell,\"record has 4 fields, the header has 3\",\"3,a,b,extra\"
ragged.csv,7,62,city,missing-cell,\"record has 2 fields, the header has 3: 'city' is missing\",\"5,\"\"also
multi\"\"\"
";

#[test]
fn ragged_rows_are_rejected_with_line_offset_and_raw_record() {
    let sb = Sandbox::new();
    sb.fixture("ragged.csv");
    let o = sb.weir(&[
        "run",
        "-i",
        "ragged.csv",
        "-o",
        "out.csv",
        "--rejects",
        "rejects.csv",
        "--report",
        "report.json",
    ]);
    assert_ok(&o);
    assert_bytes(&sb.read("out.csv"), RAGGED_STRICT_OUT);
    let rejects = sb.read("rejects.csv");
    assert_bytes(&rejects, RAGGED_REJECTS);

    // The rejects file is valid CSV with the documented header; the raw record is whole.
    let rows = parse_csv(&rejects);
    assert_eq!(
        rows[0],
        [
            "file",
            "line",
            "byte_offset",
            "field",
            "error",
            "message",
            "record"
        ]
    );
    assert!(rows.iter().all(|r| r.len() == 7));
    assert_eq!(rows[3][6], "5,\"also\nmulti\"");
    // The byte offsets point at the raw records in the input.
    let input = sb.read("ragged.csv");
    for row in &rows[1..] {
        let at: usize = row[2].parse().unwrap();
        assert!(input[at..].starts_with(row[6].as_bytes()), "{row:?}");
    }

    let report = sb.read_string("report.json");
    assert_eq!(report_field(&report, "status"), "succeeded");
    assert_eq!(report_num(&report, "records_read"), 5);
    assert_eq!(report_num(&report, "records_written"), 2);
    assert_eq!(report_num(&report, "records_filtered"), 0);
    assert_eq!(report_num(&report, "records_rejected"), 3);
    assert_balanced(&report);
    assert_eq!(
        report_rejects_by_error(&report),
        [
            ("extra-cell".to_string(), 1),
            ("missing-cell".to_string(), 2)
        ]
    );

    let err = stderr(&o);
    assert!(
        err.starts_with("weir: done: 5 read = 2 written + 0 filtered + 3 rejected (40.00% ok)\n"),
        "{err}"
    );
    assert!(
        err.contains("rejects: extra-cell 1, missing-cell 2 -> rejects.csv"),
        "{err}"
    );
}

#[test]
fn ragged_rows_without_a_rejects_file_are_counted() {
    let sb = Sandbox::new();
    sb.fixture("ragged.csv");
    let o = sb.weir(&["run", "-i", "ragged.csv"]);
    assert_ok(&o);
    assert_bytes(&o.stdout, RAGGED_STRICT_OUT);
    assert!(
        stderr(&o).contains("(not kept: use --rejects PATH)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn ragged_rows_with_crlf_and_bom_count_every_byte() {
    let sb = Sandbox::new();
    // BOM (3) + "id,name\r\n" (9) = 12; "1\r\n" (3) = 15.
    sb.write(
        "bom.csv",
        b"\xEF\xBB\xBFid,name\r\n1\r\n\"2\r\nx\",b,c\r\n3,ok\r\n",
    );
    let o = sb.weir(&[
        "run",
        "-i",
        "bom.csv",
        "--rejects",
        "rej.csv",
        "-q",
        "--chunk-size",
        "1",
    ]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"id,name\n3,ok\n");
    assert_bytes(
        &sb.read("rej.csv"),
        b"file,line,byte_offset,field,error,message,record\n\
          bom.csv,2,12,name,missing-cell,\"record has 1 field, the header has 2: 'name' is missing\",1\n\
          bom.csv,3,15,3,extra-cell,\"record has 3 fields, the header has 2\",\"\"\"2\r\nx\"\",b,c\"\n",
    );
}

#[test]
fn flexible_keeps_ragged_rows() {
    let sb = Sandbox::new();
    sb.fixture("ragged.csv");
    let o = sb.weir(&[
        "run",
        "-i",
        "ragged.csv",
        "--flexible",
        "--rejects",
        "rejects.csv",
        "--report",
        "report.json",
        "-q",
    ]);
    assert_ok(&o);
    assert_bytes(
        &o.stdout,
        b"id,name,city\n1,\"two\nlines\",Oslo\n2,short\n3,a,b,extra\n4,ok,Rome\n5,\"also\nmulti\"\n",
    );
    assert_bytes(
        &sb.read("rejects.csv"),
        b"file,line,byte_offset,field,error,message,record\n",
    );
    let report = sb.read_string("report.json");
    assert_eq!(report_num(&report, "records_read"), 5);
    assert_eq!(report_num(&report, "records_written"), 5);
    assert_eq!(report_num(&report, "records_rejected"), 0);
    assert_balanced(&report);
    assert_eq!(report_rejects_by_error(&report), []);
}

#[test]
fn flexible_select_fills_missing_columns_with_empty_fields() {
    let sb = Sandbox::new();
    sb.fixture("ragged.csv");
    let o = sb.weir(&[
        "run",
        "-i",
        "ragged.csv",
        "--flexible",
        "--select",
        "city,id",
        "-q",
    ]);
    assert_ok(&o);
    assert_bytes(&o.stdout, b"city,id\nOslo,1\n,2\nb,3\nRome,4\n,5\n");
}
