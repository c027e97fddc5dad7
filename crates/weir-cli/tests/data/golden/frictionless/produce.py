#!/usr/bin/env python3
"""Regenerates the frictionless comparison files: a generated CSV with errors of every kind, a
Table Schema, and the reference implementation's verdict on it.

    cd crates/weir-cli/tests/data/golden/frictionless && python3 produce.py   # pip install frictionless

Produced with frictionless-py 5.21.0. `expected.csv` holds, for every data row that
frictionless reports, the FIRST error of the row in field order (weir rejects a record at its
first error): row (1-based data record number), field, error type. The weir test runs the same
schema over `data.csv` and compares its rejects file with it.
"""
import csv
import json
import random

from frictionless import Resource, Schema

rnd = random.Random(5)
SCHEMA = {
    "fields": [
        {"name": "id", "type": "integer", "constraints": {"required": True, "minimum": 1}},
        {"name": "name", "type": "string", "constraints": {"minLength": 2, "maxLength": 12}},
        {"name": "email", "type": "string", "format": "email"},
        {"name": "age", "type": "integer", "constraints": {"minimum": 0, "maximum": 150}},
        {"name": "score", "type": "number", "constraints": {"maximum": 100}},
        {"name": "active", "type": "boolean"},
        {"name": "signup", "type": "date", "constraints": {"required": True}},
        {"name": "last_seen", "type": "datetime"},
        {"name": "wake", "type": "time"},
        {"name": "born", "type": "year", "constraints": {"minimum": 1900}},
        {"name": "tier", "type": "string", "constraints": {"enum": ["gold", "silver", "bronze"]}},
        {"name": "code", "type": "string", "constraints": {"pattern": "[A-Z]{3}-[0-9]{3}"}},
        {"name": "day", "type": "date", "format": "%d/%m/%Y"},
    ],
    "missingValues": ["", "NA"],
}

GOOD = {
    "id": lambda i: str(i),
    "name": lambda i: rnd.choice(["Ana", "Ben Okafor", "Chloé", "Dmitri", "Zoë Kim"]),
    "email": lambda i: f"user{i}@example.com",
    "age": lambda i: str(rnd.randint(0, 150)),
    "score": lambda i: rnd.choice(["12.5", "99", "0.001", "-3.25", "1e2", "100.0"]),
    "active": lambda i: rnd.choice(["true", "false", "True", "FALSE", "yes", "no", "1", "0"]),
    "signup": lambda i: f"20{rnd.randint(10, 24)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
    "last_seen": lambda i: rnd.choice(["2024-01-02T03:04:05Z", "2023-12-31T23:59:59", "2024-02-29T12:00:00+02:00", ""]),
    "wake": lambda i: rnd.choice(["07:30:00", "23:59:59", "00:00:00", "NA"]),
    "born": lambda i: str(rnd.randint(1900, 2020)),
    "tier": lambda i: rnd.choice(["gold", "silver", "bronze", ""]),
    "code": lambda i: rnd.choice(["ABC-123", "XYZ-999", "QQQ-000"]),
    "day": lambda i: rnd.choice(["01/02/2020", "31/12/1999", "29/02/2024"]),
}
BAD = {
    "id": ["", "abc", "0", "-5", "1.5"],
    "name": ["A", "Bartholomew Jones", ""],
    "email": ["no-at-sign", "a@", "@b.com", "two words@x.com"],
    "age": ["151", "-1", "4.5", "old", " 42"],
    "score": ["100.5", "abc", "1,5", "NaN?"],
    "active": ["maybe", "2", "t"],
    "signup": ["", "2023-02-30", "2021-13-01", "yesterday", "2024/01/02", "NA"],
    "last_seen": ["2024-01-02", "2024-13-01T00:00:00", "noon"],
    "wake": ["25:00:00", "7:30", "07:60:00"],
    "born": ["1899", "19999", "MCMXC", "90"],
    "tier": ["platinum", "Gold"],
    "code": ["abc-123", "ABC123", "ABC-1234"],
    "day": ["2020-02-01", "31/02/2020", "1/2/2020"],
}
names = [f["name"] for f in SCHEMA["fields"]]

with open("data.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(names)
    for i in range(1, 1501):
        row = {n: GOOD[n](i) for n in names}
        if rnd.random() < 0.45:
            for n in rnd.sample(names, rnd.choice([1, 1, 1, 2, 3])):
                row[n] = rnd.choice(BAD[n])
        w.writerow([row[n] for n in names])

with open("schema.json", "w") as f:
    json.dump(SCHEMA, f, indent=2)
    f.write("\n")

report = Resource("data.csv", schema=Schema.from_descriptor(SCHEMA)).validate(limit_errors=100000)
first = {}
for err in report.flatten(["rowNumber", "fieldNumber", "fieldName", "type"]):
    row, field_no, field, kind = err
    if row is None:
        raise SystemExit(f"unexpected header error: {err}")
    if row not in first or field_no < first[row][0]:
        first[row] = (field_no, field, kind)
with open("expected.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["row", "field", "error"])
    for row in sorted(first):
        # frictionless numbers rows from 1 at the header; weir's test counts data records.
        w.writerow([row - 1, first[row][1], first[row][2]])
print(f"{len(first)} invalid rows of 1500")
