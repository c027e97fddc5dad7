"""One-machine `weir run` with s3:// inputs and outputs, against an S3 server (moto).

`contrib/tests/s3.sh` starts moto, sets the AWS_* variables and WEIR_TEST_S3_ENDPOINT, builds
weir and runs this file; by hand:

    WEIR_BIN=target/release/weir WEIR_TEST_S3_ENDPOINT=http://127.0.0.1:PORT AWS_ENDPOINT_URL=... \\
        python3 -m pytest -q contrib/tests/test_s3.py

What it shows: the same run on objects and on local files gives the same bytes (output and
rejects, gzip input, zstd output); an object replaced while a run reads it fails the run
("changed while it was read", exit 1) with no output object; an output to a missing bucket is a
usage error (exit 2) before anything is read, and nothing is written.
"""
import gzip
import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

import common

ENDPOINT = os.environ.get("WEIR_TEST_S3_ENDPOINT")
if not ENDPOINT:
    pytest.skip("needs an S3 server: contrib/tests/s3.sh starts moto and sets WEIR_TEST_S3_ENDPOINT",
                allow_module_level=True)

boto3 = pytest.importorskip("boto3")
botocore = pytest.importorskip("botocore")

# A pipeline with filtered records and rejects (a CAST of the dirty `age` column).
PIPELINE = ("--filter", "country <> 'JP'", "--derive", "age_n=CAST(age AS BIGINT)",
            "--derive", "name=upper(trim(name))")


def env() -> dict:
    """weir's environment: the server's endpoint and dummy credentials (unless already set)."""
    e = dict(os.environ)
    e.setdefault("AWS_ENDPOINT_URL", ENDPOINT)
    e.setdefault("AWS_ACCESS_KEY_ID", "testing")
    e.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    e.setdefault("AWS_REGION", "us-east-1")
    e.setdefault("AWS_ALLOW_HTTP", "true")
    return e


@pytest.fixture(scope="module")
def s3():
    e = env()
    return boto3.client("s3", endpoint_url=e["AWS_ENDPOINT_URL"], region_name=e["AWS_REGION"],
                        aws_access_key_id=e["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=e["AWS_SECRET_ACCESS_KEY"])


@pytest.fixture(scope="module")
def bucket(s3):
    name = f"weir-pytest-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def run(*args, tmpdir: Path, check=True) -> subprocess.CompletedProcess:
    """weir with the S3 environment and its temporary files in `tmpdir`."""
    return common.weir(*args, check=check, env={**env(), "TMPDIR": str(tmpdir)})


def exists(s3, bucket, key) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except botocore.exceptions.ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, e
        return False


def get(s3, bucket, key) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_a_run_on_objects_matches_the_same_run_on_files(s3, bucket, tmp_path, gz):
    data = common.customers(tmp_path / "in.csv", 3_000_000, seed=7)
    local_in = data
    if gz:
        local_in = tmp_path / "in.csv.gz"
        local_in.write_bytes(gzip.compress(data.read_bytes(), compresslevel=1))
    key = f"{tmp_path.name}/{local_in.name}"
    s3.upload_file(str(local_in), bucket, key)
    tmp = tmp_path / "tmp"
    tmp.mkdir()

    ref = tmp_path / "ref"
    ref.mkdir()
    run("run", *PIPELINE, "--input", local_in, "--output", ref / "out.csv",
        "--rejects", ref / "rejects.csv", "--workers", 2, "--quiet", tmpdir=tmp)
    url_in = f"s3://{bucket}/{key}"
    out = f"{tmp_path.name}/out/out.csv"
    rejects = f"{tmp_path.name}/out/rejects.csv"
    zst = f"{tmp_path.name}/out/out.csv.zst"
    gzo = f"{tmp_path.name}/out/out.csv.gz"
    report = f"{tmp_path.name}/out/report.json"
    run("run", *PIPELINE, "--input", url_in, "--output", f"s3://{bucket}/{out}",
        "--rejects", f"s3://{bucket}/{rejects}", "--report", f"s3://{bucket}/{report}",
        "--workers", 2, "--quiet", tmpdir=tmp)
    stats = json.loads(get(s3, bucket, report))
    assert stats["status"] == "succeeded" and stats["records_rejected"] > 10, stats
    expected = (ref / "out.csv").read_bytes()
    assert len(expected) > 1_000_000
    assert get(s3, bucket, out) == expected
    # The rejects name their input: the URL where the local run names the path.
    ref_rejects = (ref / "rejects.csv").read_bytes()
    assert ref_rejects.count(b"\n") > 10
    assert get(s3, bucket, rejects) == ref_rejects.replace(str(local_in).encode(), url_in.encode())

    # Compression by the output's extension applies to objects too.
    for out_key, magic in [(zst, b"\x28\xb5\x2f\xfd"), (gzo, b"\x1f\x8b")]:
        run("run", *PIPELINE, "--input", url_in, "--output", f"s3://{bucket}/{out_key}",
            "--quiet", tmpdir=tmp)
        stored = get(s3, bucket, out_key)
        assert stored[:len(magic)] == magic, out_key
        assert decompress(stored, magic) == expected, out_key
    assert list(tmp.iterdir()) == [], "no temporary file left"


def decompress(stored: bytes, magic: bytes) -> bytes:
    """gzip with Python's gzip, zstd with the zstd tool (weir's own decoder is not the judge)."""
    if magic == b"\x1f\x8b":
        return gzip.decompress(stored)
    if not shutil.which("zstd"):
        pytest.skip("the zstd tool is not installed (apt-get install zstd)")
    return subprocess.run(["zstd", "-dc"], input=stored, capture_output=True, check=True).stdout


def big_input(path: Path, size: int) -> Path:
    """A CSV of about `size` bytes: a few MB of customers, repeated (the header once)."""
    block = common.customers(path.with_suffix(".block"), 4_000_000, seed=3).read_bytes()
    header, body = block.split(b"\n", 1)
    with open(path, "wb") as f:
        f.write(header + b"\n")
        for _ in range(max(1, size // len(body))):
            f.write(body)
    return path


def test_an_object_replaced_while_it_is_read_fails_the_run_and_writes_nothing(s3, bucket, tmp_path):
    src = big_input(tmp_path / "big.csv", 200_000_000)
    key = f"{tmp_path.name}/big.csv"
    s3.upload_file(str(src), bucket, key)
    out_key = f"{tmp_path.name}/out.csv"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    # One worker and a regular expression on every record: the run reads for many seconds.
    args = [common.weir_bin(), "run", "--input", f"s3://{bucket}/{key}",
            "--output", f"s3://{bucket}/{out_key}", "--workers", "1",
            "--derive", "x=regexp_replace(notes, '([a-z]+) ([a-z]+)', '\\2 \\1', 'g')",
            "--filter", "regexp_matches(email, '^u[0-9]+7@')"]
    proc = subprocess.Popen(args, env={**env(), "TMPDIR": str(tmp)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        # The output's temporary file grows once records flow: the run has read its first part.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if any(p.stat().st_size > 0 for p in tmp.iterdir()):
                break
            time.sleep(0.05)
        assert proc.poll() is None, f"the run ended before the object was replaced: {proc.stderr.read()}"
        s3.put_object(Bucket=bucket, Key=key, Body=b"id,name\n1,replaced\n")
        _, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, stderr
    assert f"input s3://{bucket}/{key} changed while it was read" in stderr, stderr
    assert not exists(s3, bucket, out_key)
    assert list(tmp.iterdir()) == [], "no temporary file left"


def test_an_output_to_a_missing_bucket_is_a_usage_error_and_writes_nothing(s3, bucket, tmp_path):
    src = common.customers(tmp_path / "in.csv", 100_000)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    for out, rejects in [("s3://weir-no-such-bucket/out.csv", None),
                         (str(tmp_path / "out.csv"), "s3://weir-no-such-bucket/rejects.csv")]:
        extra = ["--rejects", rejects] if rejects else []
        p = run("run", "--input", src, "--output", out, *extra, tmpdir=tmp, check=False)
        assert p.returncode == 2, p.stderr
        assert "the bucket weir-no-such-bucket does not exist" in p.stderr, p.stderr
        assert not (tmp_path / "out.csv").exists()
        assert list(tmp.iterdir()) == []
    # A missing input object: a usage error naming it (as a missing local file), nothing written.
    missing = f"s3://{bucket}/{tmp_path.name}/missing.csv"
    p = run("run", "--input", missing, "--output", f"s3://{bucket}/{tmp_path.name}/o.csv",
            tmpdir=tmp, check=False)
    assert p.returncode == 2, p.stderr
    assert missing in p.stderr and "no such object" in p.stderr, p.stderr
    assert not exists(s3, bucket, f"{tmp_path.name}/o.csv")


SCHEMA = '{"fields":[{"name":"id","type":"integer"},{"name":"name"}]}'


def run_with_pause(args, tmpdir: Path, mid) -> subprocess.CompletedProcess:
    """weir reading standard input: the first records, a pause in which `mid` runs (the run
    is then between its start and its commit), the last record."""
    proc = subprocess.Popen([common.weir_bin(), *map(str, args)], env={**env(), "TMPDIR": str(tmpdir)},
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(b"id,name\n1,a\nx,b\n")
        proc.stdin.flush()
        time.sleep(1.0)
        mid()
        out, err = proc.communicate(b"3,c\n", timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return subprocess.CompletedProcess(args, proc.returncode, out, err.decode())


def weir_objects(s3, bucket, prefix) -> list:
    """Keys under `prefix` that are weir's backups or temporary objects."""
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return [o["Key"] for o in listed if ".weir-" in o["Key"]]


def test_an_output_upload_that_fails_puts_the_local_rejects_back(s3, tmp_path):
    """The output's bucket is deleted while the run goes on: the upload fails at the commit,
    after the local rejects were renamed into place; they are put back."""
    doomed = f"weir-doomed-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=doomed)
    schema = tmp_path / "schema.json"
    schema.write_text(SCHEMA)
    rejects = tmp_path / "rejects.csv"
    rejects.write_bytes(b"old rejects\n")
    report = tmp_path / "report.json"
    report.write_bytes(b"old report\n")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    p = run_with_pause(["run", "-i", "-", "--format", "csv", "-o", f"s3://{doomed}/out.csv",
                        "--rejects", rejects, "--schema", schema],
                       tmp, lambda: s3.delete_bucket(Bucket=doomed))
    assert p.returncode == 1, p.stderr
    assert "out.csv" in p.stderr, p.stderr
    assert rejects.read_bytes() == b"old rejects\n"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["rejects.csv", "report.json", "schema.json", "tmp"]
    assert list(tmp.iterdir()) == [], "no temporary file left"


def test_rejects_objects_are_put_back_when_the_local_output_cannot_be_renamed(s3, bucket, tmp_path):
    prefix = f"{tmp_path.name}/"
    rejects_key = f"{prefix}rejects.csv"
    report_key = f"{prefix}report.json"
    s3.put_object(Bucket=bucket, Key=rejects_key, Body=b"old rejects\n")
    schema = tmp_path / "schema.json"
    schema.write_text(SCHEMA)
    out = tmp_path / "out.csv"
    out.write_bytes(b"old output\n")
    tmp = tmp_path / "tmp"
    tmp.mkdir()

    def make_output_a_folder():
        out.unlink()
        (out / "x").mkdir(parents=True)

    p = run_with_pause(["run", "-i", "-", "--format", "csv", "-o", out,
                        "--rejects", f"s3://{bucket}/{rejects_key}",
                        "--report", f"s3://{bucket}/{report_key}", "--schema", schema],
                       tmp, make_output_a_folder)
    assert p.returncode == 1, p.stderr
    assert get(s3, bucket, rejects_key) == b"old rejects\n"
    # The report of the failed run, written alone, says so.
    assert json.loads(get(s3, bucket, report_key))["status"] == "failed"
    assert weir_objects(s3, bucket, prefix) == [], "no backup object left"
    assert list(tmp.iterdir()) == []

    # The same run with nothing in the way: all three replaced, nothing of weir's left.
    out.joinpath("x").rmdir()
    out.rmdir()
    p = run_with_pause(["run", "-i", "-", "--format", "csv", "-o", out,
                        "--rejects", f"s3://{bucket}/{rejects_key}",
                        "--report", f"s3://{bucket}/{report_key}", "--schema", schema],
                       tmp, lambda: None)
    assert p.returncode == 0, p.stderr
    assert out.read_bytes() == b"id,name\n1,a\n3,c\n"
    assert get(s3, bucket, rejects_key).count(b"\n") == 2
    assert json.loads(get(s3, bucket, report_key))["status"] == "succeeded"
    assert weir_objects(s3, bucket, prefix) == []
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out.csv", "schema.json", "tmp"]


def test_an_object_output_that_is_an_input_is_refused(s3, bucket, tmp_path):
    key = f"{tmp_path.name}/in.csv"
    s3.put_object(Bucket=bucket, Key=key, Body=b"id\n1\n")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    p = run("run", "-i", f"s3://{bucket}/{key}", "-o", f"s3://{bucket}/{key}", tmpdir=tmp, check=False)
    assert p.returncode == 2, p.stderr
    assert "the output would replace the input" in p.stderr, p.stderr
    # A pattern that matches the output does not read it.
    s3.put_object(Bucket=bucket, Key=f"{tmp_path.name}/all.csv", Body=b"id\n9\n")
    p = run("run", "-i", f"s3://{bucket}/{tmp_path.name}/*.csv", "-o", f"s3://{bucket}/{tmp_path.name}/all.csv",
            "-q", tmpdir=tmp, check=False)
    assert p.returncode == 0, p.stderr
    assert get(s3, bucket, f"{tmp_path.name}/all.csv") == b"id\n1\n"
    assert get(s3, bucket, key) == b"id\n1\n"
