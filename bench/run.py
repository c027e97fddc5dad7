#!/usr/bin/env python3
"""Benchmark weir against its peers (xan, Polars, DuckDB) on one input file.

  python3 bench/run.py --input /work/data/customers-1g.csv [--runs 3] [--tools weir,xan,polars,duckdb]
                       [--task t1] [--weir PATH] [--weir-args "--workers 2"] [--json out.json] [--no-count]

Each tool runs the same standard task (see /work/shared/bench/README.md) on the same file, in the
same sitting: one warm-up run, then N measured runs, interleaved round-robin across tools so that
machine noise hits every tool alike. For each tool it reports the median wall time, input MB/s
(MB = 10^6 bytes, at the median time), peak RSS (max over runs), CPU time (user+sys, median) and
the output's record count.

Peak RSS and CPU come from os.wait4() on the tool's own process (ru_maxrss is in KiB on Linux; see
spawn_and_wait for why it is launched through a tiny shell). Outputs go to a
temporary directory next to the input (same filesystem) and are deleted after each run; the last
measured run's output is counted first with Python's csv module (quoted newlines handled).
Python standard library only.
"""
import argparse
import csv
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_TOOLS = ["weir", "xan", "polars", "duckdb"]
ALL_TOOLS = DEFAULT_TOOLS + ["cat"]  # cat: the copy-bytes ceiling for T1, opt-in

# --------------------------------------------------------------------------------------------
# Tools: how to find them and how to report their version.
# --------------------------------------------------------------------------------------------


def find_xan():
    p = shutil.which("xan")
    if p:
        return p
    p = os.path.expanduser("~/.cargo/bin/xan")
    return p if os.access(p, os.X_OK) else None


def find_weir(opts):
    p = opts.weir
    if not os.path.isabs(p):
        p = os.path.join(REPO_ROOT, p)
    return p if os.path.isfile(p) and os.access(p, os.X_OK) else None


def have_module(name):
    return importlib.util.find_spec(name) is not None


def module_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def exe_version(path):
    try:
        r = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
        return (r.stdout.strip() or r.stderr.strip()).splitlines()[0] if r.returncode == 0 else "?"
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


def locate(tool, opts):
    """Return (ok, info): info is the executable path, or a note on why the tool is skipped."""
    if tool == "weir":
        p = find_weir(opts)
        return (True, p) if p else (False, f"binary not found at {opts.weir} (cargo build --release)")
    if tool == "xan":
        p = find_xan()
        return (True, p) if p else (False, "xan not on PATH nor in ~/.cargo/bin (cargo install xan --locked)")
    if tool == "cat":
        p = shutil.which("cat")
        return (True, p) if p else (False, "cat not found")
    if tool in ("polars", "duckdb"):
        if have_module(tool):
            return True, sys.executable
        return False, f"Python module {tool!r} not importable by {sys.executable} (pip install {tool})"
    return False, "unknown tool"


def version_of(tool, path):
    if tool == "cat":
        return "-"
    if tool in ("weir", "xan"):
        v = exe_version(path)
        return v.split()[-1] if v != "?" else v
    return module_version(tool)


# --------------------------------------------------------------------------------------------
# Tasks: task -> tool -> command builder.
#
# A builder gets (exe, inp, out, opts) and returns a Cmd. Paths are passed as argv entries, never
# spliced into code or shell text, so odd file names are safe. To add T2-T4, add an entry to TASKS
# with the same tool keys (a tool missing from a task's dict is reported as "not supported").
# --------------------------------------------------------------------------------------------


class Cmd:
    def __init__(self, argv, stdout_to=None, outputs=None):
        self.argv = argv            # the command to exec (no shell)
        self.stdout_to = stdout_to  # path the child's stdout is redirected to, or None
        self.outputs = outputs      # output files to count / delete (default: [out])


POLARS_T1 = ("import sys, polars as pl; "
             "pl.scan_csv(sys.argv[1], infer_schema=False).sink_csv(sys.argv[2])")

# SQL string literals: single quotes doubled. The file paths still arrive through argv.
DUCKDB_T1 = ("import sys, duckdb; q = lambda s: \"'\" + s.replace(\"'\", \"''\") + \"'\"; "
             "duckdb.sql('COPY (SELECT * FROM read_csv(' + q(sys.argv[1]) + ', all_varchar=true)) "
             "TO ' + q(sys.argv[2]) + ' (HEADER)')")


def t1_weir(exe, inp, out, opts):
    return Cmd([exe, "run", "--input", inp, "--output", out] + opts.weir_argv)


def t1_xan(exe, inp, out, opts):
    return Cmd([exe, "select", "*", inp], stdout_to=out)


def t1_cat(exe, inp, out, opts):
    return Cmd([exe, inp], stdout_to=out)


def t1_polars(exe, inp, out, opts):
    return Cmd([exe, "-c", POLARS_T1, inp, out])


def t1_duckdb(exe, inp, out, opts):
    return Cmd([exe, "-c", DUCKDB_T1, inp, out])


# T2-T4 as in /work/shared/bench/README.md. Every tool gets the same meaning: columns are text,
# an empty field is NULL, a value that is not an integer/date is invalid (not coerced).
T2_WHERE = "TRY_CAST(age AS BIGINT) >= 30 AND country IN ('US','DE')"
T4_AGE = "regexp_matches(age, '^-?[0-9]+$') AND TRY_CAST(age AS BIGINT) BETWEEN 0 AND 150"
T4_DATE = "TRY_CAST(signup_date AS DATE) IS NOT NULL AND regexp_matches(signup_date, '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')"
T4_EMAIL = "regexp_matches(email, '^[^@\\s]+@[^@\\s]+\\.[a-z]+$')"
T4_VALID = f"coalesce({T4_AGE}, false) AND coalesce({T4_DATE}, false) AND coalesce({T4_EMAIL}, false)"

DUCKDB_SQL = ("import sys, duckdb; q = lambda s: \"'\" + s.replace(\"'\", \"''\") + \"'\"; "
              "src = 'read_csv(' + q(sys.argv[1]) + ', all_varchar=true)'; ")

DUCKDB_T2 = DUCKDB_SQL + (
    "duckdb.sql('COPY (SELECT id, name, age, country FROM ' + src + ' WHERE " + T2_WHERE.replace("'", "\\'") + ") "
    "TO ' + q(sys.argv[2]) + ' (HEADER)')")
DUCKDB_T3 = DUCKDB_SQL + (
    "duckdb.sql('COPY (SELECT id, upper(trim(name)) AS name, lower(email) AS email, age, country, "
    "signup_date AS signup, score, notes, round(CAST(score AS DOUBLE) * 100, 1) AS score_pct FROM ' + src + ') "
    "TO ' + q(sys.argv[2]) + ' (HEADER)')")
DUCKDB_T4 = DUCKDB_SQL + (
    "duckdb.sql('CREATE TEMP TABLE t AS SELECT *, " + T4_VALID.replace("'", "\\'") + " AS ok FROM ' + src); "
    "duckdb.sql('COPY (SELECT * EXCLUDE (ok) FROM t WHERE ok) TO ' + q(sys.argv[2]) + ' (HEADER)'); "
    "duckdb.sql('COPY (SELECT * EXCLUDE (ok), \\'invalid\\' AS reason FROM t WHERE NOT ok) TO ' + q(sys.argv[3]) + ' (HEADER)')")

POLARS_T2 = ("import sys, polars as pl; "
             "pl.scan_csv(sys.argv[1], infer_schema=False)"
             ".filter((pl.col('age').cast(pl.Int64, strict=False) >= 30) & pl.col('country').is_in(['US', 'DE']))"
             ".select('id', 'name', 'age', 'country').sink_csv(sys.argv[2])")
POLARS_T3 = ("import sys, polars as pl; "
             "pl.scan_csv(sys.argv[1], infer_schema=False).with_columns("
             "pl.col('name').str.strip_chars(' ').str.to_uppercase(), pl.col('email').str.to_lowercase(), "
             "(pl.col('score').cast(pl.Float64, strict=False) * 100).round(1).alias('score_pct'))"
             ".rename({'signup_date': 'signup'}).sink_csv(sys.argv[2])")
POLARS_T4 = ("import sys, polars as pl; "
             "age = pl.col('age'); d = pl.col('signup_date'); "
             "ok = (age.str.contains(r'^-?[0-9]+$') & age.cast(pl.Int64, strict=False).is_between(0, 150)"
             " & d.str.contains(r'^[0-9]{4}-[0-9]{2}-[0-9]{2}$') & d.str.to_date('%Y-%m-%d', strict=False).is_not_null()"
             " & pl.col('email').str.contains(r'^[^@\\s]+@[^@\\s]+\\.[a-z]+$')).fill_null(False); "
             "lf = pl.scan_csv(sys.argv[1], infer_schema=False); "
             "lf.filter(ok).sink_csv(sys.argv[2]); "
             "lf.filter(~ok).with_columns(pl.lit('invalid').alias('reason')).sink_csv(sys.argv[3])")

T4_SCHEMA = os.path.join(REPO_ROOT, "pipelines", "customers.schema.json")


def t2_weir(exe, inp, out, opts):
    return Cmd([exe, "run", "--input", inp, "--output", out, "--filter", T2_WHERE,
                "--select", "id,name,age,country"] + opts.weir_argv)


def t2_xan(exe, inp, out, opts):
    # xan filter | xan select, through a shell pipe (paths as positional parameters).
    script = ('"$0" filter \'(country eq "US" || country eq "DE") && (try(int(age)) || -1) >= 30\' "$1" '
              '| "$0" select id,name,age,country > "$2"')
    return Cmd(["/bin/sh", "-c", script, exe, inp, out])


def t3_weir(exe, inp, out, opts):
    return Cmd([exe, "run", "--input", inp, "--output", out,
                "--derive", "name=upper(trim(name))", "--derive", "email=lower(email)",
                "--derive", "score_pct=round(score * 100, 1)", "--rename", "signup_date=signup"]
               + opts.weir_argv)


def t4_weir(exe, inp, out, opts):
    rej = out + ".rejects.csv"
    return Cmd([exe, "run", "--input", inp, "--output", out, "--schema", T4_SCHEMA,
                "--rejects", rej] + opts.weir_argv, outputs=[out, rej])


def py(code, n_out):
    def build(exe, inp, out, opts):
        outs = [out] if n_out == 1 else [out, out + ".rejects.csv"]
        return Cmd([exe, "-c", code, inp] + outs, outputs=outs)
    return build


TASKS = {
    "t1": {
        "title": "T1 passthrough (parse every record, write all columns back out as CSV)",
        "tools": {"weir": t1_weir, "xan": t1_xan, "polars": t1_polars, "duckdb": t1_duckdb,
                  "cat": t1_cat},
    },
    "t2": {
        "title": "T2 select+filter (id,name,age,country where age is an integer >= 30 and country is US or DE)",
        "keeps_all": False,
        "tools": {"weir": t2_weir, "xan": t2_xan, "polars": py(POLARS_T2, 1), "duckdb": py(DUCKDB_T2, 1)},
    },
    "t3": {
        "title": "T3 transform (upper(trim(name)), lower(email), score_pct = round(score*100, 1), rename signup_date)",
        "tools": {"weir": t3_weir, "polars": py(POLARS_T3, 1), "duckdb": py(DUCKDB_T3, 1)},
    },
    "t4": {
        "title": "T4 validate (age integer 0..150, signup_date a calendar date, email pattern; valid + rejects)",
        "tools": {"weir": t4_weir, "polars": py(POLARS_T4, 2), "duckdb": py(DUCKDB_T4, 2)},
    },
}

# --------------------------------------------------------------------------------------------
# Running and measuring.
# --------------------------------------------------------------------------------------------


# Why a launcher: a child's ru_maxrss starts at the RSS of the process it was forked from (with
# vfork/posix_spawn, at that process's *peak*), so children forked straight from this Python
# process would never report less than ~15 MiB, or more after Python grew. Instead, a tiny /bin/sh
# forks the tool in the background and exits; we are a child subreaper (prctl), so the orphaned
# tool becomes our child and os.wait4 gives its own usage, with a floor of ~1 MiB (the forked sh).
# The tool waits on a pipe until the sh is gone, then execs; the clock starts when we release it.
PR_SET_CHILD_SUBREAPER = 36
LAUNCHER = 'exec 3<&0 </dev/null; (read _ <&3; exec 3<&- "$@") & exit 0'
_subreaper = None


def subreaper():
    """Become a child subreaper once; False when not possible (non-Linux, no ctypes)."""
    global _subreaper
    if _subreaper is None:
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            _subreaper = (libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
                          and os.path.isdir("/proc/self/task") and os.path.exists("/bin/sh"))
        except (OSError, AttributeError, ImportError):
            _subreaper = False
    return _subreaper


def our_children():
    kids = set()
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/children") as f:
                kids.update(int(p) for p in f.read().split())
        except OSError:
            pass
    return kids


def spawn_and_wait(argv, stdout, stderr):
    """Run argv to completion; return (wall seconds, exit code, rusage of argv's process)."""
    if not subreaper():  # fallback: direct child; RSS has the floor described above
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                             start_new_session=True)
        try:
            _, status, ru = os.wait4(p.pid, 0)
        except BaseException:  # Ctrl-C: don't leave the child running
            p.kill()
            p.wait()
            raise
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)  # tell Popen it has been reaped
        return wall, p.returncode, ru

    go_r, go_w = os.pipe()
    gpid = None
    try:
        before = our_children()
        p = subprocess.Popen(["/bin/sh", "-c", LAUNCHER, "sh"] + argv, stdin=go_r,
                             stdout=stdout, stderr=stderr, start_new_session=True)
        os.close(go_r)
        go_r = None
        p.wait()
        if p.returncode != 0:
            raise RuntimeError(f"launcher shell failed (exit {p.returncode})")
        new = our_children() - before
        if len(new) != 1:
            raise RuntimeError(f"launcher: expected one orphaned child, found {sorted(new)}")
        gpid = new.pop()
        t0 = time.perf_counter()
        os.write(go_w, b"\n")
        os.close(go_w)
        go_w = None
        _, status, ru = os.wait4(gpid, 0)
        wall = time.perf_counter() - t0
        gpid = None
        return wall, os.waitstatus_to_exitcode(status), ru
    finally:
        for fd in (go_r, go_w):
            if fd is not None:
                os.close(fd)
        if gpid is not None:  # interrupted: kill and reap the tool
            try:
                os.kill(gpid, signal.SIGKILL)
                os.waitpid(gpid, 0)
            except OSError:
                pass


def run_once(cmd, outdir, label):
    """Run cmd once; return a dict with wall/user/sys/maxrss and exit status."""
    err_path = os.path.join(outdir, f"{label}.stderr")
    stdout = open(cmd.stdout_to, "wb") if cmd.stdout_to else subprocess.DEVNULL
    try:
        with open(err_path, "wb") as err:
            wall, code, ru = spawn_and_wait(cmd.argv, stdout, err)
    finally:
        if cmd.stdout_to:
            stdout.close()
    with open(err_path, "rb") as f:
        stderr = f.read()
    os.unlink(err_path)
    return {
        "wall_s": wall,
        "user_s": ru.ru_utime,
        "sys_s": ru.ru_stime,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "maxrss_mib": ru.ru_maxrss / 1024.0,
        "exit": code,
        "stderr": stderr.decode("utf-8", "replace"),
    }


def rss_floor(outdir):
    """Peak RSS reported for /bin/true: the smallest figure this harness can report."""
    exe = shutil.which("true") or "/bin/true"
    r = run_once(Cmd([exe]), outdir, "floor")
    return r["maxrss_mib"]


def count_records(path):
    """Data records (header excluded) in a CSV file, streaming, quoted newlines handled."""
    n = 0
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        for _ in csv.reader(f, strict=False):
            n += 1
    return max(n - 1, 0)


def remove(paths):
    for p in paths:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass


def bench(opts):
    task = TASKS[opts.task]
    inp = os.path.abspath(opts.input)
    size = os.path.getsize(inp)
    outdir = opts.out_dir or os.path.dirname(inp)
    tmp = tempfile.mkdtemp(prefix=".weir-bench-", dir=outdir)
    try:
        return bench_in(opts, task, inp, size, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_in(opts, task, inp, size, tmp):
    # Header line (input counted before any tool runs; this also warms the page cache).
    n_in = None if opts.no_count else count_records(inp)
    now = datetime.datetime.now().astimezone()
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    floor = rss_floor(tmp)
    print(f"# {now:%Y-%m-%d %H:%M %Z}  nproc={nproc}  input={inp}  "
          f"{size / 1e6:.1f} MB ({size / 2**20:.1f} MiB)  "
          f"records={'n/a' if n_in is None else f'{n_in:,}'}  "
          f"task={opts.task}  runs={opts.runs} (+1 warm-up)  rss-floor={floor:.1f} MiB")
    print(f"# {task['title']}")
    if not subreaper():
        print("# note: could not become a child subreaper; peak RSS figures can't go below "
              "rss-floor (this Python process's RSS)")

    # Which tools can run.
    tools, skipped = [], {}
    for t in opts.tools:
        if t not in task["tools"]:
            skipped[t] = f"task {opts.task} not implemented for {t}"
            continue
        ok, info = locate(t, opts)
        if ok:
            tools.append((t, info))
        else:
            skipped[t] = info
    for t, why in skipped.items():
        print(f"# skip {t}: {why}")
    sys.stdout.flush()

    state = {}
    for t, exe in tools:
        out = os.path.join(tmp, f"{t}.out.csv")
        cmd = task["tools"][t](exe, inp, out, opts)
        state[t] = {"cmd": cmd, "outputs": cmd.outputs or [out], "runs": [], "error": None,
                    "version": version_of(t, exe)}
        if opts.verbose:
            print(f"# {t} {state[t]['version']}: {shlex.join(cmd.argv)}"
                  + (f" > {cmd.stdout_to}" if cmd.stdout_to else ""), file=sys.stderr)

    # Round 0 is the warm-up; rounds 1..N are measured. Tools are interleaved per round.
    for rnd in range(opts.runs + 1):
        for t, _ in tools:
            s = state[t]
            if s["error"]:
                continue
            remove(s["outputs"])
            r = run_once(s["cmd"], tmp, t)
            tag = "warm-up" if rnd == 0 else f"run {rnd}/{opts.runs}"
            print(f"#   {t:7} {tag:9} {r['wall_s']:8.3f} s  {r['maxrss_mib']:8.1f} MiB  "
                  f"cpu {r['cpu_s']:7.2f} s  exit {r['exit']}", file=sys.stderr)
            if r["exit"] != 0:
                tail = "\n".join(r["stderr"].strip().splitlines()[-5:])
                s["error"] = f"exit {r['exit']} on {tag}: {tail}"
                print(f"# {t} failed ({s['error']})", file=sys.stderr)
                continue
            del r["stderr"]
            if rnd > 0:
                s["runs"].append(r)
            if rnd == opts.runs:  # last run: count its output
                if not opts.no_count:
                    s["records"] = sum(count_records(p) for p in s["outputs"]
                                       if os.path.exists(p))
                s["out_bytes"] = sum(os.path.getsize(p) for p in s["outputs"]
                                     if os.path.exists(p))
            remove(s["outputs"])

    # Summaries.
    results = []
    for t, exe in tools:
        s = state[t]
        res = {"tool": t, "version": s["version"], "command": s["cmd"].argv,
               "stdout_to": s["cmd"].stdout_to is not None, "error": s["error"],
               "runs": s["runs"]}
        if s["runs"] and not s["error"]:
            walls = [r["wall_s"] for r in s["runs"]]
            med = statistics.median(walls)
            res.update({
                "wall_s": med, "wall_min_s": min(walls), "wall_max_s": max(walls),
                "mb_per_s": size / 1e6 / med,
                "maxrss_mib": max(r["maxrss_mib"] for r in s["runs"]),
                "cpu_s": statistics.median(r["cpu_s"] for r in s["runs"]),
                "records": s.get("records"), "out_bytes": s.get("out_bytes"),
            })
        results.append(res)

    # A filtering task writes fewer records than it reads; the others account for every one.
    print_table(results, n_in if task.get("keeps_all", True) else None)
    for t, why in skipped.items():
        results.append({"tool": t, "skipped": why})

    if opts.json:
        doc = {"date": now.isoformat(timespec="seconds"), "host": platform.node(), "nproc": nproc,
               "task": opts.task, "input": inp, "input_bytes": size, "input_records": n_in,
               "runs": opts.runs, "warmup_runs": 1, "python": sys.version.split()[0],
               "rss_floor_mib": floor, "subreaper": subreaper(),
               "results": results}
        with open(opts.json, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        print(f"# wrote {opts.json}")
    return 0 if all(not r.get("error") for r in results) else 1


def print_table(results, n_in):
    ok = [r for r in results if "wall_s" in r]
    best = min((r["wall_s"] for r in ok), default=None)
    cols = ["tool", "version", "wall s", "min-max s", "vs best", "MB/s", "peak MiB",
            "CPU s", "cores", "records"]
    rows = []
    for r in results:
        if "wall_s" not in r:
            rows.append([r["tool"], r["version"], "FAILED", "", "", "", "", "", "",
                         (r["error"] or "no runs").splitlines()[-1][:60]])
            continue
        rec = "n/a" if r["records"] is None else f"{r['records']:,}"
        if r["records"] is not None and n_in is not None and r["records"] != n_in:
            rec += " (!)"
        rows.append([
            r["tool"], r["version"],
            f"{r['wall_s']:.3f}", f"{r['wall_min_s']:.2f}-{r['wall_max_s']:.2f}",
            f"{r['wall_s'] / best:.2f}x", f"{r['mb_per_s']:.0f}", f"{r['maxrss_mib']:.0f}",
            f"{r['cpu_s']:.2f}", f"{r['cpu_s'] / r['wall_s']:.2f}", rec,
        ])
    widths = [max(len(c), *(len(row[i]) for row in rows)) if rows else len(c)
              for i, c in enumerate(cols)]
    left = {0, 1}
    fmt = lambda row: "  ".join(v.ljust(w) if i in left else v.rjust(w)
                                for i, (v, w) in enumerate(zip(row, widths))).rstrip()
    print(fmt(cols))
    print(fmt(["-" * w for w in widths]))
    for row in rows:
        print(fmt(row))
    if any("(!)" in row[-1] for row in rows):
        print(f"# (!) output record count differs from the input's ({n_in:,})")


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", required=True, help="input CSV file")
    ap.add_argument("--runs", type=int, default=3, help="measured runs per tool (default 3)")
    ap.add_argument("--tools", default=",".join(DEFAULT_TOOLS),
                    help="comma-separated, from %(default)s, plus cat (a plain byte copy: the "
                         "ceiling for T1) (default %(default)s)")
    ap.add_argument("--task", default="t1", choices=sorted(TASKS), help="standard task (default t1)")
    ap.add_argument("--weir", default="target/release/weir",
                    help="weir binary, relative to the repo root unless absolute (default %(default)s)")
    ap.add_argument("--weir-args", default="",
                    help='extra weir arguments, shell-split, e.g. --weir-args "--workers 2" '
                         "(use --weir-args=--flag when it has no space)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    ap.add_argument("--no-count", action="store_true",
                    help="skip counting records of the input and the outputs (slow on big files)")
    ap.add_argument("--out-dir", metavar="DIR",
                    help="where outputs go (default: the input's directory, same filesystem)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print commands, versions and every run's figures")
    opts = ap.parse_args(argv)

    if opts.runs < 1:
        ap.error("--runs must be >= 1")
    if not os.path.isfile(opts.input):
        ap.error(f"--input {opts.input}: no such file")
    opts.tools = [t.strip() for t in opts.tools.split(",") if t.strip()]
    unknown = [t for t in opts.tools if t not in ALL_TOOLS]
    if unknown:
        ap.error(f"unknown tool(s) {', '.join(unknown)}; choose from {','.join(ALL_TOOLS)}")
    opts.weir_argv = shlex.split(opts.weir_args)
    return bench(opts)


def on_sigterm(signum, frame):
    raise SystemExit(128 + signum)  # unwinds like Ctrl-C: kills the running tool, removes outputs


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(128 + signal.SIGINT)
