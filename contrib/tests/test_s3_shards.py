"""Sharded runs on object storage (moto): an s3:// input and an s3:// shard folder.

Run by contrib/tests/s3.sh (it starts moto and sets WEIR_TEST_S3_ENDPOINT and AWS_*).
Shows: plan + every shard + merge on objects equals the one-machine run on a local copy; two
merges at once commit once (_SUCCESS is created with If-None-Match); an input object replaced
while a shard reads it fails that shard (exit 65, a .failed.json report, no success report); an
object pattern (`s3://bucket/in/part-*.csv`) reads what a local glob over the same files reads,
in one run and sharded.
"""
import json
import subprocess
import time
from pathlib import Path

import pytest

import common
from test_s3 import PIPELINE, bucket, env, exists, get, run, s3  # noqa: F401 (fixtures)


def put_file(s3, bucket, key, path: Path):
    s3.upload_file(str(path), bucket, key)


def shard_cmd(inp, out, k, *extra):
    return ["run", "-q", "-i", inp, "--out", out, "--shard", str(k), *PIPELINE, *extra]


def test_a_sharded_run_on_objects_equals_one_machine(s3, bucket, tmp_path):
    local = common.customers(tmp_path / "in.csv", 3_000_000, seed=5)
    put_file(s3, bucket, "shards/in.csv", local)
    inp, out = f"s3://{bucket}/shards/in.csv", f"s3://{bucket}/shards/out"
    n = int(run("plan", "-q", "-i", inp, "--out", out, "--shards", "6", *PIPELINE,
                tmpdir=tmp_path).stdout)
    assert n == 6
    for k in range(n):
        run(*shard_cmd(inp, out, k), tmpdir=tmp_path)
    m1 = subprocess.Popen([common.weir_bin(), "merge", out, "--repair", "--concat", str(tmp_path / "cat.csv")],
                          env={**env(), "TMPDIR": str(tmp_path)}, stderr=subprocess.PIPE, text=True)
    m2 = subprocess.Popen([common.weir_bin(), "merge", out, "--repair"],
                          env={**env(), "TMPDIR": str(tmp_path)}, stderr=subprocess.PIPE, text=True)
    errs = [m1.communicate()[1], m2.communicate()[1]]
    assert m1.returncode == 0 and m2.returncode == 0, errs
    # Exactly one merge committed (the other found _SUCCESS there, or lost the create).
    assert sum("merged 6 shards" in e for e in errs) == 1, errs
    if not (tmp_path / "cat.csv").exists():
        run("merge", out, "--concat", str(tmp_path / "cat.csv"), tmpdir=tmp_path)  # already merged
    ref = common.one_machine(local, tmp_path / "one", *PIPELINE)
    for key in ["_SUCCESS", "_plan.json", "_report.json", "rejects.csv", "part-00000.csv",
                "part-00005.csv", "_reports/part-00003.json", "rejects/part-00002.csv"]:
        assert exists(s3, bucket, f"shards/out/{key}"), key
    # The merged rejects name the object and give file lines, as the one-machine run names its file.
    rejects = get(s3, bucket, "shards/out/rejects.csv").decode()
    assert rejects.replace(inp, "IN") == ref["rejects"].read_text().replace(str(local), "IN")
    report = json.loads(get(s3, bucket, "shards/out/_report.json"))
    one = json.loads(ref["report"].read_text())
    for key in ["records_read", "records_written", "records_filtered", "records_rejected",
                "rejects_by_error", "bytes_read"]:
        assert report[key] == one[key], key
    # The parts concatenated: the one-machine output, when the merge that committed wrote it.
    if "merged 6 shards" in errs[0]:
        assert (tmp_path / "cat.csv").read_bytes() == ref["output"].read_bytes()


def test_an_input_object_replaced_while_a_shard_reads_it(s3, bucket, tmp_path):
    local = common.customers(tmp_path / "big.csv", 120_000_000, seed=9)
    put_file(s3, bucket, "changing/big.csv", local)
    inp, out = f"s3://{bucket}/changing/big.csv", f"s3://{bucket}/changing/out"
    run("plan", "-q", "-i", inp, "--out", out, "--shards", "2", *PIPELINE, tmpdir=tmp_path)
    p = subprocess.Popen([common.weir_bin(), *shard_cmd(inp, out, 0, "--workers", "1")],
                         env={**env(), "TMPDIR": str(tmp_path)}, stderr=subprocess.PIPE, text=True)
    # Once the shard is writing its part, replace the object under it.
    deadline = time.time() + 60
    while time.time() < deadline and not any(tmp_path.glob(".*.tmp")) and p.poll() is None:
        time.sleep(0.05)
    s3.put_object(Bucket=bucket, Key="changing/big.csv", Body=b"id,name\n1,replaced\n")
    err = p.communicate()[1]
    assert p.returncode == 65, err
    assert "changed" in err, err
    assert exists(s3, bucket, "changing/out/_reports/part-00000.failed.json")
    assert not exists(s3, bucket, "changing/out/_reports/part-00000.json")
    # The other shard, started after the change, is refused before it reads.
    late = run(*shard_cmd(inp, out, 1), tmpdir=tmp_path, check=False)
    assert late.returncode == 65 and "changed" in late.stderr, late.stderr


def test_an_object_pattern_reads_the_matching_objects_in_key_order(s3, bucket, tmp_path):
    """`s3://bucket/in/part-*.csv` is the objects it matches, sorted by key, as a local glob is
    the files it matches: one run and a sharded run over them equal the local run's result."""
    local = tmp_path / "local"
    local.mkdir()
    # Uploaded out of order; `*` stays within its folder; other names are not matched.
    for i in [2, 0, 1]:
        f = common.customers(local / f"part-{i}.csv", 400_000, seed=20 + i)
        put_file(s3, bucket, f"glob/in/part-{i}.csv", f)
    put_file(s3, bucket, "glob/in/sub/part-9.csv", common.customers(tmp_path / "deep.csv", 50_000, seed=29))
    put_file(s3, bucket, "glob/in/other.csv", common.customers(tmp_path / "other.csv", 50_000, seed=30))
    pattern = f"s3://{bucket}/glob/in/part-*.csv"

    ref = tmp_path / "ref"
    ref.mkdir()
    run("run", "-q", "-i", str(local / "part-*.csv"), "-o", ref / "out.csv", "--rejects",
        ref / "rejects.csv", "--report", ref / "report.json", *PIPELINE, tmpdir=tmp_path)
    want = json.loads((ref / "report.json").read_text())
    assert want["records_rejected"] > 0, want

    run("run", "-q", "-i", pattern, "-o", f"s3://{bucket}/glob/out.csv", "--rejects",
        tmp_path / "rejects.csv", "--report", tmp_path / "report.json", *PIPELINE, tmpdir=tmp_path)
    assert get(s3, bucket, "glob/out.csv") == (ref / "out.csv").read_bytes()
    # The rejects name each record's object where the local run names its file.
    local_rejects = (ref / "rejects.csv").read_text().replace(str(local), f"s3://{bucket}/glob/in")
    assert (tmp_path / "rejects.csv").read_text() == local_rejects
    got = json.loads((tmp_path / "report.json").read_text())
    assert got["records_read"] == want["records_read"]

    # `**` spans folders: the deeper object is read too (after part-2, in key order).
    run("run", "-q", "-i", f"s3://{bucket}/glob/in/**/part-*.csv", "-o", tmp_path / "all.csv",
        "--report", tmp_path / "all.json", tmpdir=tmp_path)
    run("run", "-q", "-i", tmp_path / "deep.csv", "-o", tmp_path / "deep-out.csv", "--report",
        tmp_path / "deep.json", tmpdir=tmp_path)
    deep = json.loads((tmp_path / "deep.json").read_text())["records_read"]
    assert json.loads((tmp_path / "all.json").read_text())["records_read"] == want["records_read"] + deep

    # Sharded: the plan lists the matched objects; shards given the pattern expand it the same way.
    out = f"s3://{bucket}/glob/shards"
    n = int(run("plan", "-q", "-i", pattern, "--out", out, "--shards", "5", *PIPELINE, tmpdir=tmp_path).stdout)
    plan = json.loads(get(s3, bucket, "glob/shards/_plan.json"))
    assert [i["name"] for i in plan["inputs"]] == [f"s3://{bucket}/glob/in/part-{i}.csv" for i in range(3)]
    for k in range(n):
        run(*shard_cmd(pattern, out, k), tmpdir=tmp_path)
    run("merge", out, "--repair", "--concat", tmp_path / "cat.csv", tmpdir=tmp_path)
    assert (tmp_path / "cat.csv").read_bytes() == (ref / "out.csv").read_bytes()

    # A pattern that matches nothing is a usage error naming it; nothing is written.
    none = f"s3://{bucket}/glob/in/nothing-*.csv"
    p = run("run", "-i", none, "-o", tmp_path / "none.csv", tmpdir=tmp_path, check=False)
    assert p.returncode == 2 and f"no object matches the input pattern '{none}'" in p.stderr, p.stderr
    assert not (tmp_path / "none.csv").exists()


def test_object_patterns_skip_folder_objects_and_keep_names_that_match_nothing_else(s3, bucket, tmp_path):
    # Consoles make "folder" objects (zero bytes, key ending in `/`); a pattern never reads them.
    jl = tmp_path / "a.jsonl"
    jl.write_text("".join(f'{{"id": {i}, "name": "n{i}"}}\n' for i in range(50)))
    put_file(s3, bucket, "pat/j/a.jsonl", jl)
    put_file(s3, bucket, "pat/j/b.jsonl", jl)
    s3.put_object(Bucket=bucket, Key="pat/j/sub/", Body=b"")
    s3.put_object(Bucket=bucket, Key="pat/j/empty/", Body=b"")
    # The format comes from the first object matched (JSON Lines), not from the pattern.
    run("run", "-q", "-i", f"s3://{bucket}/pat/j/*", "-o", tmp_path / "j.jsonl", "--report",
        tmp_path / "j.json", tmpdir=tmp_path)
    report = json.loads((tmp_path / "j.json").read_text())
    assert (report["records_read"], report["records_rejected"]) == (100, 0), report
    assert (tmp_path / "j.jsonl").read_text() == jl.read_text() * 2

    # A key holding a wildcard character is read as it is when the pattern matches nothing else.
    csv = common.customers(tmp_path / "lit.csv", 200_000, seed=41)
    put_file(s3, bucket, "pat/lit/b[2].csv", csv)
    put_file(s3, bucket, "pat/lit/a[1.csv", csv)
    for key in ["pat/lit/b[2].csv", "pat/lit/a[1.csv"]:
        run("run", "-q", "-i", f"s3://{bucket}/{key}", "-o", tmp_path / "lit-out.csv", tmpdir=tmp_path)
        assert (tmp_path / "lit-out.csv").read_bytes() == csv.read_bytes(), key

    # Shards without --input read the planned name as a name, even once `b2.csv` (which the
    # name, read as a pattern, would match) is there.
    out = f"s3://{bucket}/pat/shards"
    n = int(run("plan", "-q", "-i", f"s3://{bucket}/pat/lit/b[2].csv", "--out", out, "--shards", "3",
                tmpdir=tmp_path).stdout)
    s3.put_object(Bucket=bucket, Key="pat/lit/b2.csv", Body=b"id,name\n1,decoy\n")
    for k in range(n):
        run("run", "-q", "--out", out, "--shard", str(k), tmpdir=tmp_path)
    run("merge", out, "--repair", "--concat", tmp_path / "cat.csv", tmpdir=tmp_path)
    assert (tmp_path / "cat.csv").read_bytes() == csv.read_bytes()

    # A wildcard in the bucket name is a usage error that says so.
    p = run("run", "-i", "s3://weir-*/x.csv", "-o", tmp_path / "none.csv", tmpdir=tmp_path, check=False)
    assert p.returncode == 2 and "wildcards go in the key, not in the bucket name" in p.stderr, p.stderr
