#!/usr/bin/env python3
"""How often a sharded run's guessed CSV start is wrong, and whether the result is still exact.

  python3 bench/shard_guesses.py --input /work/data/customers-1g.csv --shards 512
  python3 bench/shard_guesses.py --make-adversarial /tmp/adv.csv --size-mb 200 --shards 512

Plans N shards, runs them all (two at a time, one worker each), merges with --repair (every
repair is one wrong guess), and compares the merged file with a one-machine run byte for byte.
`--make-adversarial PATH` first writes a CSV whose quoted notes hold 150 lines that look like
records of the same width: more than the 100 records a guess looks at, so guesses that land in
them are wrong by design and merge must repair them.
"""
import argparse
import concurrent.futures
import filecmp
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def adversarial(path, size_mb, seed=7):
    rnd = random.Random(seed)
    with open(path, "w") as f:
        f.write("id,name,note\n")
        written, i = 0, 0
        while written < size_mb << 20:
            i += 1
            if rnd.random() < 0.02:
                note = '"' + "".join(f"{i}{j},n{j},x\n" for j in range(150)) + '"'
            elif rnd.random() < 0.05:
                note = '"two\nlines"'
            else:
                note = f"n{i}"
            line = f"{i},name {i},{note}\n"
            f.write(line)
            written += len(line)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input")
    ap.add_argument("--make-adversarial", metavar="PATH")
    ap.add_argument("--size-mb", type=int, default=200)
    ap.add_argument("--shards", type=int, default=512)
    ap.add_argument("--weir", default=os.path.join(ROOT, "target/release/weir"))
    ap.add_argument("--dir", default=None, help="work folder (default: a temp dir beside the input)")
    a = ap.parse_args()
    inp = a.input
    if a.make_adversarial:
        adversarial(a.make_adversarial, a.size_mb)
        inp = a.make_adversarial
    if not inp:
        ap.error("--input or --make-adversarial")
    work = a.dir or tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(inp)))
    out = os.path.join(work, "out")
    try:
        t = time.time()
        n = int(subprocess.run([a.weir, "plan", "-q", "-i", inp, "--out", out, "--shards", str(a.shards)],
                               check=True, capture_output=True, text=True).stdout)

        def shard(k):
            return subprocess.run([a.weir, "run", "-q", "-i", inp, "--out", out, "--shard", str(k),
                                   "--workers", "1"], capture_output=True).returncode

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            codes = list(pool.map(shard, range(n)))
        failed = sum(c != 0 for c in codes)
        subprocess.run([a.weir, "merge", "-q", out, "--repair", "--concat", os.path.join(work, "cat.csv")],
                       check=True, stdout=subprocess.DEVNULL)
        sharded = time.time() - t
        report = json.load(open(os.path.join(out, "_report.json")))
        hyps = {}
        for k in range(n):
            r = json.load(open(os.path.join(out, "_reports", f"part-{k:05d}.json")))
            h = r["shard"]["start_guess"]["hypothesis"]
            hyps[h] = hyps.get(h, 0) + 1
        subprocess.run([a.weir, "run", "-q", "-i", inp, "-o", os.path.join(work, "one.csv")], check=True)
        same = filecmp.cmp(os.path.join(work, "cat.csv"), os.path.join(work, "one.csv"), shallow=False)
        repairs = report["merge"]["repairs"]
        print(json.dumps({"input": inp, "shards": n, "wrong_starts": len(repairs), "repaired": repairs[:20],
                          "shards_failed_before_repair": failed, "final_start_kinds": hyps,
                          "records": report["records_read"], "identical_to_one_machine": same,
                          "sharded_seconds": round(sharded, 1)}, indent=1))
        return 0 if same else 1
    finally:
        if not a.dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
