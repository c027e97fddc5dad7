#!/usr/bin/env python3
"""Regenerates the golden files of the T2-T4 tests: the input and DuckDB's outputs.

    cd crates/weir-cli/tests/data/golden && python3 produce.py     # needs: pip install duckdb

Produced with DuckDB 2.0.1 (python) and ../../../../../../shared/bench/gen_customers.py
(`--rows 3000 --seed 11`). The weir tests run the same tasks from flags and from the TOML files
beside this script and compare record for record.
"""
import subprocess
import sys

import duckdb

GEN = "../../../../../../shared/bench/gen_customers.py"

if "--keep-input" not in sys.argv:
    with open("customers.csv", "w") as f:
        subprocess.run([sys.executable, GEN, "--rows", "3000", "--seed", "11"], stdout=f, check=True)

src = "read_csv('customers.csv', all_varchar=true)"
T2 = "TRY_CAST(age AS BIGINT) >= 30 AND country IN ('US','DE')"
duckdb.sql(f"COPY (SELECT id, name, age, country FROM {src} WHERE {T2}) TO 't2.duckdb.csv' (HEADER)")
duckdb.sql(
    "COPY (SELECT id, upper(trim(name)) AS name, lower(email) AS email, age, country, "
    "signup_date AS signup, score, notes, round(CAST(score AS DOUBLE) * 100, 1) AS score_pct "
    f"FROM {src}) TO 't3.duckdb.csv' (HEADER)"
)
# T4: valid when age is an integer in 0..=150, signup_date a calendar date (YYYY-MM-DD), and the
# email matches the pattern; the invalid records' ids are kept to compare with weir's rejects.
age = "regexp_matches(age, '^-?[0-9]+$') AND TRY_CAST(age AS BIGINT) BETWEEN 0 AND 150"
date = ("TRY_CAST(signup_date AS DATE) IS NOT NULL "
        "AND regexp_matches(signup_date, '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')")
email = "regexp_matches(email, '^[^@\\s]+@[^@\\s]+\\.[a-z]+$')"
ok = f"coalesce({age}, false) AND coalesce({date}, false) AND coalesce({email}, false)"
duckdb.sql(f"COPY (SELECT * FROM {src} WHERE {ok}) TO 't4-valid.duckdb.csv' (HEADER)")
duckdb.sql(f"COPY (SELECT id FROM {src} WHERE NOT ({ok})) TO 't4-invalid-ids.duckdb.csv' (HEADER)")
