#!/usr/bin/env python3
"""Wall time of a sharded run on a local Ray cluster (a head and a worker node, 1 CPU each)
against one weir on the same machine, same input, same pipeline, outputs on a tmpfs.

  python3 bench/ray_scaling.py --input /work/data/customers-1g.csv --shards 1,4 --runs 3

Needs Ray (bash contrib/ray/install.sh) and target/release/weir; uses the cluster helper of
contrib/tests/test_ray.py (a private network namespace, everything stopped at the end).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "contrib" / "tests"))
import test_ray  # noqa: E402
import common  # noqa: E402

PIPE = ["--filter", "TRY_CAST(age AS BIGINT) >= 30", "--select", "id,name,age,country"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", required=True)
    ap.add_argument("--shards", default="1,4")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=None, help="a tmpfs folder for outputs (default: a new tmpfs)")
    a = ap.parse_args()
    out = Path(a.out or tempfile.mkdtemp(prefix="weir-ray-bench-"))
    mounted = False
    if not a.out:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4g", "tmpfs", str(out)]).returncode == 0
    cluster = test_ray.RayCluster()
    times = {"one weir, no Ray": []}
    try:
        t = time.time()
        cluster.start_head()
        cluster.add_worker()
        print(f"cluster up in {time.time() - t:.1f} s", file=sys.stderr)
        for run in range(a.runs):
            for n in [int(x) for x in a.shards.split(",")]:
                d = out / f"r{run}-n{n}"
                t = time.time()
                p = subprocess.run(cluster.cmd(sys.executable, test_ray.DRIVER, "--input", a.input,
                                               "--out", d, "--shards", n, "--address", cluster.address,
                                               "--weir", common.weir_bin(), "--", *PIPE),
                                   env=cluster.env, capture_output=True, text=True)
                took = time.time() - t
                assert p.returncode == 0, p.stderr[-2000:]
                times.setdefault(f"Ray, {n} shard{'s' if n > 1 else ''}", []).append(took)
                shutil.rmtree(d)
            t = time.time()
            common.weir("run", "-q", "-i", a.input, "-o", out / "one.csv", *PIPE)
            times["one weir, no Ray"].append(time.time() - t)
            (out / "one.csv").unlink()
    finally:
        cluster.stop()
        if mounted:
            subprocess.run(["umount", str(out)])
    for k, v in times.items():
        v = sorted(v)
        print(f"{k:20} " + " ".join(f"{x:.2f}" for x in v) + f"  (median {v[len(v) // 2]:.2f} s)")


if __name__ == "__main__":
    main()
