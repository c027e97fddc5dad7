"""The Slurm job-array recipe (contrib/slurm) on a one-node Slurm on 127.0.0.1.

A session fixture installs Slurm and munge when they are missing (contrib/slurm/install.sh, root
and Debian's apt needed), starts a cluster of its own in a temporary directory
(contrib/slurm/start-local.sh, on a free port) and stops it afterwards. Each case plans a dirty
CSV, submits contrib/slurm/weir-shard.sh as an array and `weir merge --repair --concat` as a job
that depends on it, and compares the result with the one-machine run byte for byte.

    WEIR_BIN=target/release/weir python3 -m pytest contrib/tests/test_slurm.py
"""
import bisect
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

import common
from test_contract import assert_same_result, clean_env

SLURM = common.ROOT / "contrib" / "slurm"
# The CAST comes first so that records whose age is no number are rejected (type-error): after
# the filter, every age left is a number and the rejects would be empty.
PIPELINE = ["--derive", "a2=CAST(age AS BIGINT)", "--filter", "TRY_CAST(age AS BIGINT) >= 18",
            "--derive", "email=lower(email)"]
SIZE = 50_000_000
ADV_SHARDS = 32


def record_ends(data: bytes) -> list:
    """The offsets just after each record's newline (a quote toggles quoting; "" toggles twice)."""
    ends, inside = [], False
    for m in re.finditer(rb'["\n]', data):
        if m.group() == b'"':
            inside = not inside
        elif not inside:
            ends.append(m.end())
    return ends


def trap_cuts(path: Path, shards: int, lines: int = 300) -> Path:
    """Puts across every nominal cut of a `shards` plan a record whose quoted notes are `lines`
    lines that parse as records of the header's width (`1,x,y@z,3,US,n`, as in
    common.customers' adversarial notes, but longer than the 100 records weir checks after a
    candidate start). A guesser that only checks those 100 records finds both hypotheses
    well-formed and takes "outside quotes": wrong (the 13:42 build got 31 of 31 wrong; the
    14:31 build, which runs both until they meet, gets them all right)."""
    data = path.read_bytes()
    ds = data.index(b"\n") + 1
    ends = record_ends(data)
    blocks = []
    for k in range(1, shards):
        fake = "\n".join(f"9{k}{j},x,y@z,{j % 90},US,n" for j in range(lines))
        blocks.append(f'9{k},Trap,t@x.org,40,US,"{fake}\n"\n'.encode())
    total = len(data) + sum(map(len, blocks))
    out, prev, inserted = [], 0, 0
    for k, block in enumerate(blocks, start=1):
        cut = ds + k * (total - ds) // shards            # shard k's nominal start in the result
        want = cut - inserted - len(block) // 2          # where the block should begin in `data`
        pos = ends[min(bisect.bisect_left(ends, want), len(ends) - 1)]
        assert pos >= prev
        out += [data[prev:pos], block]
        inserted, prev = inserted + len(block), pos
    out.append(data[prev:])
    path.write_bytes(b"".join(out))
    return path


def free_port_pair() -> int:
    """A port p with p and p+1 free (slurmctld, slurmd)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
        if p >= 65535:
            continue
        try:
            with socket.socket() as s1, socket.socket() as s2:
                s1.bind(("127.0.0.1", p))
                s2.bind(("127.0.0.1", p + 1))
            return p
        except OSError:
            continue
    raise RuntimeError("no two free consecutive ports")


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the local Slurm runs its daemons as root")
    if not all(shutil.which(c) for c in ("sbatch", "slurmctld", "slurmd", "munged")):
        p = subprocess.run([str(SLURM / "install.sh")], capture_output=True, text=True)
        assert p.returncode == 0, f"install.sh failed:\n{p.stdout}\n{p.stderr}"
    common.weir_bin()  # fail early, before starting daemons, when there is no binary
    d = tmp_path_factory.mktemp("slurm")
    env = clean_env(SLURM_PORT=free_port_pair())
    t0 = time.monotonic()
    p = subprocess.run([str(SLURM / "start-local.sh"), str(d)], env=env, capture_output=True, text=True)
    assert p.returncode == 0, f"start-local.sh failed:\n{p.stdout}\n{p.stderr}"
    print(f"\nlocal slurm up in {time.monotonic() - t0:.1f} s: {p.stdout.strip().splitlines()[0]}")
    env.pop("SLURM_PORT")
    env["SLURM_CONF"] = str(d / "slurm.conf")
    try:
        yield env
    finally:
        subprocess.run([str(SLURM / "start-local.sh"), "--stop", str(d)], env=env, capture_output=True)


def slurm(env, *args) -> str:
    p = subprocess.run(list(map(str, args)), env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p.stdout.strip()


def job_info(env, job) -> dict:
    """`scontrol show job -o` of one job (or array task JOB_K) as a dict (JobState, ExitCode, ...)."""
    out = slurm(env, "scontrol", "show", "job", "-o", job)
    return dict(re.findall(r"(\w+)=(\S*)", out.splitlines()[0]))


def wait_for(predicate, timeout, what, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


DONE = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE")


def wait_job(env, job, timeout=180) -> dict:
    return wait_for(lambda: (lambda i: i if i["JobState"] in DONE else None)(job_info(env, job)),
                    timeout, f"job {job}")


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    src = common.customers(d / "customers.csv", SIZE, seed=11)
    ref = common.one_machine(src, d / "one", *PIPELINE)
    assert json.loads(ref["report"].read_text())["records_rejected"] > 0, "the pipeline should reject some"
    return {"src": src, "ref": ref}


@pytest.fixture(scope="module")
def adversarial(tmp_path_factory):
    d = tmp_path_factory.mktemp("adv")
    src = trap_cuts(common.customers(d / "customers.csv", SIZE, seed=12, adversarial=True), ADV_SHARDS)
    return {"src": src, "ref": common.one_machine(src, d / "one", *PIPELINE)}



class Run:
    """One plan + array + dependent merge in a directory of its own."""

    def __init__(self, env, tmp: Path, src, shards, weir=None, throttle="", **env_extra):
        self.env = dict(env, WEIR=weir or common.weir_bin(), WEIR_RETRY_DELAY="1", **env_extra)
        self.out, self.logs, self.concat = tmp / "out", tmp / "logs", tmp / "result.csv"
        self.logs.mkdir(parents=True)
        plan = common.weir("plan", *PIPELINE, "--input", src, "--out", self.out, "--shards", shards)
        self.n = int(plan.stdout.strip())
        assert self.n == shards, plan.stdout
        self.array = slurm(self.env, "sbatch", "--parsable", f"--array=0-{self.n - 1}{throttle}", "--requeue",
                           "-o", self.logs / "shard-%A_%a.out", SLURM / "weir-shard.sh",
                           *PIPELINE, "--out", self.out)
        # afterany, not afterok: a shard that exits 65 (a wrong guessed start) or was cancelled
        # must not keep the merge from running; the merge is what decides (README.md).
        merge = " ".join(map(shlex.quote, [common.weir_bin(), "merge", str(self.out), "--repair",
                                           "--concat", str(self.concat)]))
        self.merge = slurm(self.env, "sbatch", "--parsable", f"--dependency=afterany:{self.array}",
                           "-o", self.logs / "merge-%j.out", "--wrap", merge)

    def log(self, k) -> str:
        return (self.logs / f"shard-{self.array}_{k}.out").read_text()

    def finish(self, timeout=180) -> dict:
        info = wait_job(self.env, self.merge, timeout)
        merge_log = next(self.logs.glob("merge-*.out")).read_text()
        tasks = [job_info(self.env, f"{self.array}_{k}") for k in range(self.n)]
        if info["JobState"] != "COMPLETED" or info["ExitCode"] != "0:0":
            codes = [f"{k}:{t['JobState']}/{t['ExitCode']}" for k, t in enumerate(tasks)]
            bad = next((k for k, t in enumerate(tasks) if t["ExitCode"] != "0:0"), None)
            task_log = f"\n--- log of task {bad}:\n{self.log(bad)[-1500:]}" if bad is not None else ""
            raise AssertionError(f"merge job {info['JobState']} exit {info['ExitCode']}; tasks {' '.join(codes)}"
                                 f"\n--- merge log:\n{merge_log[-1500:]}{task_log}")
        return {"merge_log": merge_log, "tasks": tasks}


def test_array_then_merge(cluster, dirty, tmp_path):
    t0 = time.monotonic()
    run = Run(cluster, tmp_path, dirty["src"], 8)
    res = run.finish()
    assert [t["ExitCode"] for t in res["tasks"]] == ["0:0"] * 8, res["tasks"]
    assert_same_result(run.out, run.concat, dirty["ref"])
    print(f"8 shards + merge on slurm: {time.monotonic() - t0:.1f} s")


def test_cancelled_task_requeued(cluster, dirty, tmp_path):
    """Shard 1 is caught mid-write (a wrapper freezes its weir with SIGSTOP as soon as its temporary
    part file appears, so the cancel cannot come too late), scancel'ed, then `scontrol requeue`d:
    the result is the same."""
    frozen = tmp_path / "frozen"
    out = tmp_path / "run" / "out"
    wrapper = tmp_path / "weir-freeze"
    wrapper.write_text(f"""#!/bin/bash
# Shard 1's first attempt: start weir, freeze it once it is writing its part, say so.
if [ "$SLURM_ARRAY_TASK_ID" = 1 ] && [ "${{SLURM_RESTART_COUNT:-0}}" = 0 ]; then
  {shlex.quote(common.weir_bin())} "$@" &
  pid=$!
  while kill -0 $pid 2>/dev/null; do
    if compgen -G {shlex.quote(str(out))}'/.part-00001.*.tmp' >/dev/null; then
      kill -STOP $pid && echo frozen > {shlex.quote(str(frozen))}.tmp && mv {shlex.quote(str(frozen))}.tmp {shlex.quote(str(frozen))}
      break
    fi
    sleep 0.001
  done
  [ -e {shlex.quote(str(frozen))} ] || echo finished-early > {shlex.quote(str(frozen))}
  wait $pid
  exit $?
fi
exec {shlex.quote(common.weir_bin())} "$@"
""")
    wrapper.chmod(0o755)
    run = Run(cluster, tmp_path / "run", dirty["src"], 8, weir=wrapper)
    state = wait_for(lambda: frozen.exists() and frozen.read_text().strip(), 60, "shard 1 to start")
    assert state == "frozen", "shard 1 finished before its part file was seen"
    task = f"{run.array}_1"
    # Hold the merge while shard 1 is out: with afterany, the merge would start as soon as the
    # other tasks are done, maybe before the requeue, and find shard 1 missing (exit 4).
    slurm(cluster, "scontrol", "hold", run.merge)
    slurm(cluster, "scancel", task)
    wait_for(lambda: job_info(cluster, task)["JobState"] == "CANCELLED", 30, f"{task} cancelled")
    assert not (run.out / "_reports" / "part-00001.json").exists()
    left = sorted(p.name for p in [*run.out.iterdir(), *run.out.glob("*/*")] if "00001" in p.name)
    print(f"after scancel of shard 1: {left}")
    slurm(cluster, "scontrol", "requeue", task)
    # Slurm 22.05 holds a requeued job for 120 s (Reason=BeginTime) once it has completed; make it
    # eligible now. (Updating StartTime before that, while it is still completing, does nothing.)
    info = wait_for(lambda: (lambda i: i if i["Reason"] == "BeginTime" or i["JobState"] in
                             ("RUNNING", "COMPLETED") else None)(job_info(cluster, task)), 30, f"{task} requeued")
    if info["Reason"] == "BeginTime":
        slurm(cluster, "scontrol", "update", f"JobId={task}", "StartTime=now")
    slurm(cluster, "scontrol", "release", run.merge)
    res = run.finish()
    assert [t["ExitCode"] for t in res["tasks"]] == ["0:0"] * 8, res["tasks"]
    info = job_info(cluster, task)
    assert info["Restarts"] == "1", info
    assert "restart 1" in run.log(1), run.log(1)   # --open-mode=append keeps both attempts' logs
    assert_same_result(run.out, run.concat, dirty["ref"])


def test_transient_exit_retried_by_the_script(cluster, dirty, tmp_path):
    """Shard 2's first weir run exits 75: weir-shard.sh runs it again, and the task succeeds."""
    seen = tmp_path / "seen"
    wrapper = tmp_path / "weir-75"
    wrapper.write_text(f"""#!/bin/bash
if [ "$SLURM_ARRAY_TASK_ID" = 2 ] && [ ! -e {shlex.quote(str(seen))} ]; then
  touch {shlex.quote(str(seen))}; echo "wrapper: simulated transient error" >&2; exit 75
fi
exec {shlex.quote(common.weir_bin())} "$@"
""")
    wrapper.chmod(0o755)
    run = Run(cluster, tmp_path / "run", dirty["src"], 8, weir=wrapper)
    res = run.finish()
    assert [t["ExitCode"] for t in res["tasks"]] == ["0:0"] * 8, res["tasks"]
    log = run.log(2)
    assert "exited 75 (transient): retrying" in log and "attempt 2/3" in log, log
    assert "attempt 2/3" not in run.log(3)
    assert_same_result(run.out, run.concat, dirty["ref"])


def test_adversarial_wrong_starts_repaired_by_merge(cluster, adversarial, tmp_path):
    """Adversarial data (quoted notes that look like records, across every cut), 32 shards, 2 at a
    time. Shard 5 is also made to start 3 records late (a wrapper adds --start-at), so at least
    one start is wrong whatever weir's guesser does: the merge job's --repair re-runs it from
    the proven start, and the result is the one-machine result."""
    src = adversarial["src"]
    data = src.read_bytes()
    ds = data.index(b"\n") + 1
    nominal = ds + 5 * (len(data) - ds) // ADV_SHARDS      # docs/scale-out.md's s_k
    ends = record_ends(data)
    late = ends[bisect.bisect_left(ends, nominal) + 3]
    seen = tmp_path / "seen"
    wrapper = tmp_path / "weir-late"
    wrapper.write_text(f"""#!/bin/bash
if [ "$SLURM_ARRAY_TASK_ID" = 5 ] && [ ! -e {shlex.quote(str(seen))} ]; then
  touch {shlex.quote(str(seen))}
  exec {shlex.quote(common.weir_bin())} "$@" --start-at {late}
fi
exec {shlex.quote(common.weir_bin())} "$@"
""")
    wrapper.chmod(0o755)
    run = Run(cluster, tmp_path / "run", src, ADV_SHARDS, weir=wrapper, throttle="%2")
    res = run.finish(timeout=240)
    codes = {t["ExitCode"] for t in res["tasks"]}
    assert codes <= {"0:0", "65:0"}, res["tasks"]   # a wrong start may also end in a data error
    assert_same_result(run.out, run.concat, adversarial["ref"])
    repairs = json.loads((run.out / "_report.json").read_text()).get("merge", {}).get("repairs")
    assert repairs and 5 in repairs, f"shard 5 was not repaired\n{res['merge_log']}"
    print(f"adversarial: task exit codes {sorted(codes)}, shards repaired by the merge job: {repairs}")


def _moto_python() -> str:
    """A Python that has moto and boto3: contrib/tests/s3.sh's venv, else this one."""
    venv = Path(os.environ.get("WEIR_S3_VENV") or Path.home() / ".cache/weir/s3-venv") / "bin/python"
    for py in (str(venv), shutil.which("python3") or "python3"):
        if os.access(py, os.X_OK) and subprocess.run([py, "-c", "import moto, boto3"],
                                                      capture_output=True).returncode == 0:
            return py
    pytest.fail("no Python with moto and boto3: run contrib/tests/s3.sh (or contrib/tests/run.sh) first")


def test_array_on_an_s3_input(cluster, dirty, tmp_path, monkeypatch):
    """The array reads its input from an S3 server (moto on 127.0.0.1): ranged reads pinned to the
    plan's ETag; the shard folder is a shared folder. Equal to the one-machine run on the file,
    but for the rejects' file column, which names the object."""
    py = _moto_python()
    port = free_port_pair()
    moto = subprocess.Popen([py, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        s3env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing",
                 "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
                 "AWS_ALLOW_HTTP": "true", "AWS_EC2_METADATA_DISABLED": "true"}
        upload = ("import boto3, sys, time\n"
                  "s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1',"
                  " aws_access_key_id='testing', aws_secret_access_key='testing')\n"
                  "for _ in range(100):\n"
                  "    try:\n        s3.create_bucket(Bucket='slurm-in'); break\n"
                  "    except Exception:\n        time.sleep(0.1)\n"
                  "s3.upload_file(sys.argv[2], 'slurm-in', 'customers.csv')\n")
        subprocess.run([py, "-c", upload, s3env["AWS_ENDPOINT_URL"], str(dirty["src"])], check=True)
        for k, v in s3env.items():
            monkeypatch.setenv(k, v)  # for `weir plan` and the merge, run from here
        url = "s3://slurm-in/customers.csv"
        run = Run(cluster, tmp_path, url, 8, **s3env)
        res = run.finish()
        assert [t["ExitCode"] for t in res["tasks"]] == ["0:0"] * 8, res["tasks"]
        assert run.concat.read_bytes() == dirty["ref"]["output"].read_bytes()
        rejects = (run.out / "rejects.csv").read_text()
        assert rejects.count(url) > 0
        assert rejects.replace(url, "IN") == dirty["ref"]["rejects"].read_text().replace(str(dirty["src"]), "IN")
        report = json.loads((run.out / "_reports" / "part-00003.json").read_text())
        assert report["input"] == url
    finally:
        moto.terminate()
        moto.wait(timeout=10)
