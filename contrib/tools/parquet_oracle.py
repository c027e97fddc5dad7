#!/usr/bin/env python3
"""weir's Parquet output checked against its CSV input by pyarrow and DuckDB: a typed narrow
file (integer, string, number, boolean, date, datetime; 10% nulls; several row groups) and wide
text files (a header, a few rows, every seventh value empty), each read back equal in values
and types, with every row group's and column's statistics (null count, min, max) recomputed
from the values, and DuckDB's row count, footer metadata and schema. Needs `pip install pyarrow
duckdb`. Usage: parquet_oracle.py WEIR WORKDIR [COLUMNS[xROWS] ...] (ROWS=n in the environment
sets the narrow file's rows, 150,000 by default), e.g. parquet_oracle.py target/release/weir
/tmp/pq 20000 20000x200 100000"""
import csv, datetime as dt, json, random, subprocess, sys, os
import pyarrow.parquet as pq, duckdb

WEIR = os.path.abspath(sys.argv[1])
os.makedirs(sys.argv[2], exist_ok=True)
os.chdir(sys.argv[2])
random.seed(11)
UTC = dt.timezone.utc

def narrow(rows=int(os.environ.get("ROWS", 150_000))):
    fields = [("id", "integer"), ("name", "string"), ("score", "number"), ("ok", "boolean"),
              ("day", "date"), ("ts", "datetime"), ("note", "string")]
    want = []
    with open("n.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([n for n, _ in fields])
        for r in range(rows):
            null = lambda c: random.random() < 0.1
            i = random.randint(-2**62, 2**62) if not null(0) else None
            name = random.choice(["Ann", "Zürich 😀", "", "a,b", "x" * random.randint(0, 90)]) if not null(1) else None
            score = random.choice([0.1, -2.5e10, 1e-300, 3.0, float(r)]) if not null(2) else None
            ok = random.choice([True, False]) if not null(3) else None
            day = dt.date(1970, 1, 1) + dt.timedelta(days=random.randint(-30000, 30000)) if not null(4) else None
            ts = dt.datetime(2024, 1, 5, tzinfo=UTC) + dt.timedelta(microseconds=random.randint(-10**15, 10**15)) if not null(5) else None
            note = str(r) if r % 5 else None
            w.writerow(["" if i is None else i, "" if name is None else name,
                        "" if score is None else repr(score), "" if ok is None else str(ok).lower(),
                        "" if day is None else day.isoformat(),
                        "" if ts is None else ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        "" if note is None else note])
            # An empty string in a string column is null (the schema's missing value).
            want.append((i, name if name != "" else None, score, ok, day, ts, note))
    schema = {"fields": [{"name": n, "type": t} for n, t in fields if t]}
    json.dump(schema, open("n.schema.json", "w"))
    return want

def run(inp, out, *args):
    subprocess.run([WEIR, "run", "-i", inp, "-o", out, "-q", *args], check=True)

def check_table(path, want, names, types):
    pf = pq.ParquetFile(path, thrift_container_size_limit=10**8, thrift_string_size_limit=10**9)
    t = pf.read()
    assert t.column_names == names, t.column_names
    assert [str(ty) for ty in t.schema.types] == types, t.schema.types
    got = [tuple(r.values()) for r in t.to_pylist()]
    assert len(got) == len(want), (len(got), len(want))
    for g, w in zip(got, want):
        if g != w:
            raise AssertionError(f"{str(g)[:300]} != {str(w)[:300]}")
    md = pf.metadata
    assert md.num_rows == len(want)
    # Statistics of every row group and column against the values themselves.
    start = 0
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        rows = want[start:start + rg.num_rows]
        start += rg.num_rows
        for c in range(rg.num_columns):
            col = rg.column(c)
            vals = [r[c] for r in rows if r[c] is not None]
            st = col.statistics
            assert st.null_count == rg.num_rows - len(vals), (g, c)
            assert col.num_values == rg.num_rows
            if vals and types[c] == "double" and not st.has_min_max:
                # Doubles' statistics are in IEEE 754 total order (as the Parquet crate writes
                # them), which pyarrow does not read: DuckDB's are checked below.
                pass
            elif vals and types[c] != "string":
                lo, hi = min(vals), max(vals)
                assert (st.min, st.max) == (lo, hi), (g, c, st.min, st.max, lo, hi)
            elif vals:
                lo, hi = min(v.encode() for v in vals), max(v.encode() for v in vals)
                mn = st.min.encode() if isinstance(st.min, str) else st.min
                mx = st.max.encode() if isinstance(st.max, str) else st.max
                assert lo.startswith(mn) and (mx >= hi[:len(mx)]), (g, c)
    assert start == len(want)
    # DuckDB reads the same rows, row counts and schema.
    con = duckdb.connect()
    n, = con.execute(f"select count(*) from '{path}'").fetchone()
    assert n == len(want), n
    meta_rows = con.execute(f"select row_group_id, row_group_num_rows, column_id, stats_null_count from parquet_metadata('{path}')").fetchall()
    assert sum(r[1] for r in meta_rows if r[2] == 0) == len(want)
    dschema = con.execute(f"select name, type, converted_type, logical_type from parquet_schema('{path}')").fetchall()
    assert [r[0] for r in dschema[1:]] == names
    return pf.metadata, con, dschema

want = narrow()
run("n.csv", "n.parquet", "--schema", "n.schema.json")
names = ["id", "name", "score", "ok", "day", "ts", "note"]
types = ["int64", "string", "double", "bool", "date32[day]", "timestamp[us]", "string"]
want_naive = [tuple(v.replace(tzinfo=None) if isinstance(v, dt.datetime) else v for v in r) for r in want]
md, con, dschema = check_table("n.parquet", want_naive, names, types)
print("narrow:", md.num_rows, "rows,", md.num_row_groups, "row groups;", dschema[1:])
d = con.execute("select count(id), sum(id)::hugeint, count(ts), min(ts), max(day), sum(score) from 'n.parquet'").fetchone()
e = (sum(r[0] is not None for r in want), sum(r[0] for r in want if r[0] is not None),
     sum(r[5] is not None for r in want), min(r[5] for r in want if r[5]).replace(tzinfo=None),
     max(r[4] for r in want if r[4]), sum(r[2] for r in want if r[2] is not None))
assert d[:5] == e[:5] and abs(d[5] - e[5]) <= 1e-6 * abs(e[5]), (d, e)
stats = con.execute("select row_group_id, stats_min_value, stats_max_value from parquet_metadata('n.parquet') where column_id = 2 order by row_group_id").fetchall()
start = 0
for g, lo, hi in stats:
    rows = md.row_group(g).num_rows
    vals = [r[2] for r in want[start:start + rows] if r[2] is not None]
    start += rows
    assert (float(lo), float(hi)) == (min(vals), max(vals)), (g, lo, hi)
print("narrow duckdb aggregates and double statistics equal")

def wide(n, rows):
    """A text file of n columns: a header and `rows` rows of digits, every seventh empty."""
    path = f"wide{n}x{rows}.csv"
    rnd = random.Random(n)
    with open(path, "w") as f:
        f.write(",".join(f"c{i}" for i in range(n)) + "\n")
        for r in range(rows):
            f.write(",".join(str(rnd.randint(0, 9)) if (i + r) % 7 else "" for i in range(n)) + "\n")

for stem in sys.argv[3:]:
    if "x" not in stem:
        stem += "x5"
    wide(int(stem.split("x")[0]), int(stem.split("x")[1]))
    n = int(stem.split("x")[0])
    path = f"wide{stem}.csv"
    rows = list(csv.reader(open(path)))
    header, body = rows[0], rows[1:]
    run(path, f"wide{stem}.parquet")
    # Text columns: an empty (unquoted) field is null.
    want = [tuple(v if v != "" else None for v in row) for row in body]
    md, con, _ = check_table(f"wide{stem}.parquet", want, header, ["string"] * n)
    print(f"wide {stem}: equal;", md.num_row_groups, "row groups, footer", md.serialized_size, "bytes")
