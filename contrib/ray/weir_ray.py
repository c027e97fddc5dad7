#!/usr/bin/env python3
"""Run one weir pipeline over a big input on a Ray cluster: plan, one Ray task per shard, repair,
merge (docs/scale-out.md). Needs only the standard library and ray.

  python weir_ray.py [PIPELINE] --input URL --out DIR (--shards N | --shard-size SIZE)
      [--address ADDR] [--weir PATH] [--concat FILE] [--max-retries 3] [-- weir run flags]

The weir binary must exist on every node: `weir` on each node's PATH, or --weir PATH (an
absolute path valid on every node). DIR must be shared by all nodes (NFS, or an s3:// URL).
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time

import ray

TRANSIENT = {75, 124, 130, 143}  # I/O or network error; timed out, interrupted, terminated


class Transient(Exception):
    """A shard exit code that a retry can fix: Ray retries the task."""


class ShardError(Exception):
    """A shard that failed for good (usage error, a crash): not retried."""


def _local(path):
    return "://" not in path


def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def part_stem(k, n):
    """A shard's file stem as weir names it: `part-00007`, five digits or those of N-1."""
    return f"part-{k:0{max(5, len(str(n - 1)))}d}"


def run_shard(argv, out, k, n, cwd=None):
    """One attempt of one shard: `weir run ... --shard K` as a subprocess of the Ray worker."""
    exe = shutil.which(argv[0]) or argv[0]
    try:
        attempt = ray._private.worker.global_worker.core_worker.get_current_task_attempt_number()
    except Exception:  # an internal API: the count is only for the summary
        attempt = 0
    p = subprocess.run([exe, *argv[1:]], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, errors="replace", cwd=cwd)
    tail = p.stderr[-2000:].strip()
    if p.returncode in TRANSIENT:
        raise Transient(f"shard {k}: exit {p.returncode} (attempt {attempt}): {tail}")
    if p.returncode not in (0, 65):
        raise ShardError(f"shard {k}: exit {p.returncode}: {shlex.join(argv)}\n{tail}")
    res = {"shard": k, "code": p.returncode, "attempt": attempt, "report": None, "stderr": tail,
           "node": ray.get_runtime_context().get_node_id()}
    if _local(out):
        name = part_stem(k, n) + (".json" if p.returncode == 0 else ".failed.json")
        res["report"] = _read_json(os.path.join(out, "_reports", name))
    return res


def main(argv):
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="Arguments after -- go to weir plan and to every weir run.")
    ap.add_argument("pipeline", nargs="?", help="the pipeline file (TOML), if any")
    ap.add_argument("--input", required=True, action="append", help="input path or URL (repeatable)")
    ap.add_argument("--out", required=True, help="the shard folder (shared by all nodes) or URL")
    size = ap.add_mutually_exclusive_group(required=True)
    size.add_argument("--shards", type=int)
    size.add_argument("--shard-size")
    ap.add_argument("--address", default=None, help="Ray address [default: RAY_ADDRESS or auto]")
    ap.add_argument("--weir", default="weir", help="the weir binary on every node [default: weir on PATH]")
    ap.add_argument("--concat", help="also write the merged output as this one file")
    ap.add_argument("--max-retries", type=int, default=3, help="retries per shard (transient exits, lost nodes)")
    ap.add_argument("--cpus-per-shard", type=float, default=1, help="Ray CPUs each shard task reserves")
    ap.add_argument("--repair", choices=["walk", "merge"], default="walk",
                    help="walk: check the shards' reports here, left to right, and re-run wrong starts "
                         "at once (a local DIR); merge: let `weir merge` name them (always for URLs)")
    ap.add_argument("--env", action="append", default=[], metavar="NAME",
                    help="forward this environment variable to the tasks (e.g. AWS_REGION)")
    a = ap.parse_args(argv)
    absp = lambda p: os.path.abspath(p) if p and _local(p) else p  # noqa: E731 (workers' cwd differs)
    out, pipe = absp(a.out), [absp(a.pipeline)] if a.pipeline else []
    inputs = [x for i in a.input for x in ("--input", absp(i))]
    t0 = time.time()

    cut = ["--shards", str(a.shards)] if a.shards else ["--shard-size", a.shard_size]
    p = subprocess.run([a.weir, "plan", *pipe, *inputs, "--out", out, *cut, *extra],
                       stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        print(f"weir_ray: weir plan failed (exit {p.returncode})", file=sys.stderr)
        return p.returncode
    n = int(p.stdout.split()[-1])
    plan = _read_json(os.path.join(out, "_plan.json")) if _local(out) else None

    env = {k: os.environ[k] for k in a.env if k in os.environ}
    ray.init(address=a.address, logging_level="WARNING", log_to_driver=False,
             runtime_env={"env_vars": env} if env else None)
    task = ray.remote(run_shard).options(
        num_cpus=a.cpus_per_shard, max_retries=a.max_retries, retry_exceptions=[Transient],
        scheduling_strategy="SPREAD")
    base = [a.weir, "run", *pipe, *inputs, "--out", out, *extra] + ([] if {"-q", "--quiet"} & set(extra) else ["--quiet"])
    shard_cmd = lambda k, start=None: base + ["--shard", str(k)] + (  # noqa: E731
        ["--start-at", str(start)] if start is not None else [])
    results, failed, stats = {}, [], {"retries": 0, "repairs": 0}

    def collect(ref):
        try:
            r = ray.get(ref)
        except Exception as e:  # ShardError, or retries exhausted (a lost node, transient exits)
            cause = getattr(e, "cause", None)
            failed.append(str(cause)[:1000] if cause else str(e).strip().splitlines()[-1][:1000])
            return None
        stats["retries"] += r["attempt"]
        results[r["shard"]] = r
        return r

    pending = {task.remote(shard_cmd(k), out, k, n): k for k in range(n)}
    last = 0
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1, timeout=2.0)
        for ref in done:
            del pending[ref]
            collect(ref)
        if done or time.time() - last > 10:
            last = time.time()
            reps = [r["report"] for r in results.values() if r["report"] and r["code"] == 0]
            print(f"weir_ray: {len(results)}/{n} shards done, {sum(r['records_read'] for r in reps):,} "
                  f"records, {sum(r['bytes_read'] for r in reps) / 1e6:,.1f} MB read, "
                  f"{time.time() - t0:.0f} s", file=sys.stderr)
    if failed:
        print("weir_ray: shards failed for good:\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1

    def rerun(argv, k, cwd=None):
        stats["repairs"] += 1
        print(f"weir_ray: repairing shard {k}: {shlex.join(argv[1:])}", file=sys.stderr)
        return collect(task.remote(argv, out, k, n, cwd))

    # Repair: walk each input's shards left to right; a shard that did not start where the one
    # before it ended (a wrong guess) runs again from that proven end.
    if plan and a.repair == "walk":
        for i, inp in enumerate(plan["inputs"]):
            prev_end = inp["data_start"]
            for k in [k for k, s in enumerate(plan["shards"]) if s["input"] == i]:
                r = results[k]
                sh = (r["report"] or {}).get("shard") or {}
                if sh.get("start") != prev_end:  # also a failed shard whose start is not proven
                    r = rerun(shard_cmd(k, prev_end), k)
                    if r is None:
                        return 1
                    sh = (r["report"] or {}).get("shard") or {}
                if r["code"] != 0:
                    break  # failed at a proven start: a real data error; merge says where
                prev_end = sh.get("end")

    # Merge; a merge that still finds wrong starts (3) or missing shards (4) names them: run, retry.
    for _ in range(n + 2):
        m = subprocess.run([a.weir, "merge", out] + (["--concat", absp(a.concat)] if a.concat else []),
                           stdout=subprocess.PIPE, text=True)
        lines = [ln for ln in m.stdout.splitlines() if ln.strip()]
        if m.returncode == 3:
            for ln in lines:  # `cd DIR && weir run ... --start-at BYTE`
                cmd, cwd = shlex.split(ln), None
                if cmd[0] == "cd" and cmd[2] == "&&":
                    cmd, cwd = cmd[3:], cmd[1]
                k = int(cmd[cmd.index("--shard") + 1].split("/")[0])
                if rerun([a.weir] + cmd[1:], k, cwd) is None:
                    return 1
        elif m.returncode == 4:
            for k in [int(x) for ln in lines for x in ln.replace(",", " ").split()]:
                if rerun(shard_cmd(k), k) is None:
                    return 1
        else:
            break
    sys.stdout.write(m.stdout)
    print(f"weir_ray: {n} shards, {stats['repairs']} repairs, {stats['retries']} retries, "
          f"{time.time() - t0:.1f} s wall, merge exit {m.returncode}", file=sys.stderr)
    return m.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
