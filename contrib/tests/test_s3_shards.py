"""Sharded runs on object storage (moto): an s3:// input and an s3:// shard folder.

Run by contrib/tests/s3.sh (it starts moto and sets WEIR_TEST_S3_ENDPOINT and AWS_*).
Shows: plan + every shard + merge on objects equals the one-machine run on a local copy; two
merges at once commit once (_SUCCESS is created with If-None-Match); an input object replaced
while a shard reads it fails that shard (exit 65, a .failed.json report, no success report).
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
