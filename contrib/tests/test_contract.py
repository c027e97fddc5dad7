"""The Kubernetes and AWS Batch recipes (contrib/k8s, contrib/aws-batch) against the shard contract.

Neither engine runs here, so this checks what they would run: the files parse; their retry rules
say what docs/scale-out.md's exit-code table says; every `--flag` in their commands is one that
`weir <command> --help` lists; and running their commands, with the index in the engine's
variable (JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX, WEIR_SHARD_INDEX) for every index, then
their merge, gives the one-machine result byte for byte. Paths in the recipes (/data, /config)
are mapped to a temporary directory.

    WEIR_BIN=target/release/weir python3 -m pytest contrib/tests/test_contract.py
"""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

import common

ROOT = common.ROOT
K8S = ROOT / "contrib" / "k8s" / "indexed-job.yaml"
AWS = ROOT / "contrib" / "aws-batch"
INDEX_VARS = ("WEIR_SHARD_INDEX", "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX",
              "AWS_BATCH_JOB_ARRAY_INDEX", "WEIR_SHARD_COUNT")
# The report counters that a sharded run must reproduce exactly.
COUNTERS = ("records_read", "records_written", "records_filtered", "records_rejected",
            "rejects_by_error", "rejects_by_field", "bytes_written")
TRANSIENT = (75, 124, 130, 143)   # "retry" in the exit-code table
FINAL = (2, 65)                   # "stop" / "not retry; let merge decide"


# --- shared with test_slurm.py ------------------------------------------------------------------

def clean_env(**extra) -> dict:
    """The environment without any shard-index variable, plus `extra` (values made strings)."""
    env = {k: v for k, v in os.environ.items() if k not in INDEX_VARS}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def assert_same_result(out_dir: Path, concat: Path, ref: dict):
    """A merged shard directory equals the one-machine run `ref` (common.one_machine)."""
    assert (out_dir / "_SUCCESS").exists(), f"no _SUCCESS in {out_dir}"
    assert concat.read_bytes() == ref["output"].read_bytes(), f"{concat} differs from {ref['output']}"
    merged_rejects = out_dir / "rejects.csv"
    assert merged_rejects.read_bytes() == ref["rejects"].read_bytes(), \
        f"{merged_rejects} differs from {ref['rejects']}"
    merged = json.loads((out_dir / "_report.json").read_text())
    one = json.loads(ref["report"].read_text())
    for key in COUNTERS:
        assert merged.get(key) == one.get(key), f"_report.json {key}: {merged.get(key)!r} != {one.get(key)!r}"


def help_flags(command: str) -> set:
    """The long flags that `weir COMMAND --help` lists."""
    text = common.weir(command, "--help").stdout
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text))


def check_flags(argv: list, where: str):
    """Every --flag of a `weir ...` command line is one that its subcommand's --help lists."""
    assert argv[0] == "weir", f"{where}: {argv} does not run weir"
    sub = argv[1]
    known = help_flags(sub)
    used = [a.split("=", 1)[0] for a in argv[2:] if a.startswith("--")]
    unknown = [f for f in used if f not in known]
    assert not unknown, f"{where}: `weir {sub}` has no {unknown} (its --help lists {sorted(known)})"


def map_paths(argv: list, mapping: dict) -> list:
    """Replaces the recipe's absolute prefixes (/data, /config) by local directories."""
    out = []
    for a in argv:
        for prefix, local in mapping.items():
            if a == prefix or a.startswith(prefix + "/"):
                a = str(local) + a[len(prefix):]
                break
        out.append(a)
    return out


def run_weir(argv: list, env: dict, what: str) -> subprocess.CompletedProcess:
    assert argv[0] == "weir"
    p = subprocess.run([common.weir_bin(), *argv[1:]], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"{what}: {' '.join(argv)} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


# --- the recipes ----------------------------------------------------------------------------------

def k8s_docs():
    yaml = pytest.importorskip("yaml")
    docs = [d for d in yaml.safe_load_all(K8S.read_text()) if d]
    return {d["metadata"]["name"]: d for d in docs}


def k8s_container(job: dict) -> dict:
    [container] = job["spec"]["template"]["spec"]["containers"]
    return container


def k8s_argv(job: dict) -> list:
    c = k8s_container(job)
    return [*c["command"], *c["args"]]


def aws_def(name: str) -> dict:
    return json.loads((AWS / f"{name}.json").read_text())


def aws_argv(jobdef: dict, **params) -> list:
    """The container command with Ref:: parameters substituted (job definition defaults, then `params`)."""
    values = {**jobdef.get("parameters", {}), **params}
    argv = []
    for a in jobdef["containerProperties"]["command"]:
        if a.startswith("Ref::"):
            assert a[5:] in values, f"{jobdef['jobDefinitionName']}: {a} has no default parameter"
            a = values[a[5:]]
        argv.append(a)
    return argv


def first_match(rules: list, code: int) -> str:
    """AWS Batch's evaluateOnExit on an exit code: the first matching rule's action, else RETRY."""
    for r in rules:
        pat = r.get("onExitCode")
        if pat is None or r.get("onReason") or r.get("onStatusReason"):
            continue
        if pat == str(code) or (pat.endswith("*") and str(code).startswith(pat[:-1])):
            return r["action"].upper()
    return "RETRY"


# --- static checks (no weir needed) ---------------------------------------------------------------

def test_k8s_indexed_job_shape():
    docs = k8s_docs()
    assert set(docs) == {"weir-pipeline", "weir-plan", "weir-shards", "weir-merge"}
    plan, shards, merge = docs["weir-plan"], docs["weir-shards"], docs["weir-merge"]
    for d in (plan, shards, merge):
        assert d["apiVersion"] == "batch/v1" and d["kind"] == "Job"
        assert d["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    spec = shards["spec"]
    assert spec["completionMode"] == "Indexed"
    argv = k8s_argv(plan)
    assert int(argv[argv.index("--shards") + 1]) == spec["completions"], "plan --shards != completions"
    assert 1 <= spec["parallelism"] <= spec["completions"]
    assert spec["backoffLimitPerIndex"] == 3
    assert "backoffLimit" not in spec, "backoffLimitPerIndex governs retries"
    name = k8s_container(shards)["name"]
    by_action = {}
    for job in (shards, merge):
        for rule in job["spec"]["podFailurePolicy"]["rules"]:
            codes = rule.get("onExitCodes")
            if codes:
                assert codes["containerName"] == name
                vals = codes["values"]
                # The API server rejects unsorted or duplicate values and 0 with operator In.
                assert vals == sorted(set(vals)) and 0 not in vals, vals
                if job is shards:
                    by_action.setdefault(rule["action"], set()).update(vals)
    assert set(FINAL) <= by_action["FailIndex"]
    assert set(TRANSIENT) <= by_action.get("Count", set())
    assert not set(TRANSIENT) & (by_action.get("FailIndex", set()) | by_action.get("FailJob", set()))
    shard_argv = k8s_argv(shards)
    assert shard_argv[:2] == ["weir", "run"] and "--shard-from-env" in shard_argv
    assert "--shard" not in shard_argv and "--input" not in shard_argv, "the plan names the input"
    assert k8s_argv(merge)[:2] == ["weir", "merge"] and "--repair" in k8s_argv(merge)
    # The merge re-runs shards (--repair) with their recorded command: it needs their mounts.
    mounts = lambda j: {m["mountPath"] for m in k8s_container(j)["volumeMounts"]}
    assert mounts(shards) <= mounts(merge)


def test_aws_batch_job_definitions_shape():
    names = {p.stem for p in AWS.glob("*.json")}
    assert names == {"weir-plan", "weir-shard", "weir-merge"}
    for name in names:
        d = aws_def(name)
        assert d["jobDefinitionName"] == name and d["type"] == "container"
        rs = d["retryStrategy"]
        assert 1 <= rs["attempts"] <= 10
        rules = rs.get("evaluateOnExit", [])
        assert len(rules) <= 5, "AWS Batch takes at most 5 evaluateOnExit conditions"
        for r in rules:
            assert r["action"].upper() in ("RETRY", "EXIT")
            if "onExitCode" in r:
                assert re.fullmatch(r"[0-9]+\*?", r["onExitCode"]), r
        aws_argv(d)  # every Ref:: has a default
    shard = aws_def("weir-shard")
    rules = shard["retryStrategy"]["evaluateOnExit"]
    for code in TRANSIENT:
        assert first_match(rules, code) == "RETRY", code
    for code in FINAL:
        assert first_match(rules, code) == "EXIT", code
    argv = aws_argv(shard)
    assert argv[:2] == ["weir", "run"] and "--shard-from-env" in argv
    merge = aws_def("weir-merge")
    for code in (3, 4, 65):
        assert first_match(merge["retryStrategy"]["evaluateOnExit"], code) == "EXIT"
    assert "--repair" in aws_argv(merge)
    # One storage layout for the three: the shards find the plan that weir-plan wrote.
    assert aws_argv(aws_def("weir-plan"))[aws_argv(aws_def("weir-plan")).index("--out") + 1] == \
        argv[argv.index("--out") + 1] == aws_argv(merge)[2]


# --- against the binary ---------------------------------------------------------------------------

def test_recipe_flags_exist():
    docs = k8s_docs()
    for name in ("weir-plan", "weir-shards", "weir-merge"):
        check_flags(k8s_argv(docs[name]), f"k8s {name}")
    for name in ("weir-plan", "weir-shard", "weir-merge"):
        check_flags(aws_argv(aws_def(name)), f"aws-batch {name}")
    assert "--shard-from-env" in help_flags("run")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A /data and /config of our own: the k8s ConfigMap's pipeline, dirty customers, the reference."""
    base = tmp_path_factory.mktemp("contract")
    data, config = base / "data", base / "config"
    (data / "in").mkdir(parents=True)
    config.mkdir()
    pipeline = k8s_docs()["weir-pipeline"]["data"]["pipeline.toml"]
    (config / "pipeline.toml").write_text(pipeline)
    (data / "pipeline.toml").write_text(pipeline)   # where the AWS Batch definitions look for it
    src = common.customers(data / "in" / "customers.csv", 6_000_000, seed=7, adversarial=True)
    ref = common.one_machine(src, base / "one", config / "pipeline.toml")
    return {"base": base, "data": data, "config": config, "ref": ref}


def fresh(world, name):
    """A /data of its own for one engine (an empty out/), with the one input at the same path as
    the reference run's (rejects name the input file as it was given)."""
    data = world["base"] / name / "data"
    data.mkdir(parents=True)
    (data / "pipeline.toml").write_text((world["data"] / "pipeline.toml").read_text())
    return {"/data/in": world["data"] / "in", "/data": data, "/config": world["config"]}


def run_recipe(mapping, plan_argv, shard_argv, merge_argv, index_var, count, extra_env=None):
    plan = run_weir(map_paths(plan_argv, mapping), clean_env(), "plan")
    assert plan.stdout.strip() == str(count), f"plan printed {plan.stdout!r}, the recipe runs {count}"
    for k in range(count):
        env = clean_env(**{index_var: k}, **(extra_env or {}))
        run_weir(map_paths(shard_argv, mapping), env, f"shard {k} ({index_var}={k})")
    run_weir(map_paths(merge_argv, mapping), clean_env(), "merge")


@pytest.mark.parametrize("index_var", ["JOB_COMPLETION_INDEX", "WEIR_SHARD_INDEX"])
def test_k8s_recipe_gives_one_machine_result(world, index_var):
    docs = k8s_docs()
    mapping = fresh(world, f"k8s-{index_var}")
    count = docs["weir-shards"]["spec"]["completions"]
    run_recipe(mapping, k8s_argv(docs["weir-plan"]), k8s_argv(docs["weir-shards"]),
               k8s_argv(docs["weir-merge"]), index_var, count)
    merge = k8s_argv(docs["weir-merge"])
    out = Path(map_paths([merge[2]], mapping)[0])
    concat = Path(map_paths([merge[merge.index("--concat") + 1]], mapping)[0])
    assert len(list(out.glob("part-*"))) == count
    assert_same_result(out, concat, world["ref"])


def test_aws_batch_recipe_gives_one_machine_result(world):
    mapping = fresh(world, "aws")
    count = 5   # the array size is the submit-job's; the plan's --shards is a parameter
    plan, shard, merge = (aws_argv(aws_def("weir-plan"), shards=str(count)), aws_argv(aws_def("weir-shard")),
                          aws_argv(aws_def("weir-merge")))
    run_recipe(mapping, plan, shard, merge, "AWS_BATCH_JOB_ARRAY_INDEX", count)
    out = Path(map_paths([merge[2]], mapping)[0])
    concat = Path(map_paths([merge[merge.index("--concat") + 1]], mapping)[0])
    assert_same_result(out, concat, world["ref"])


def test_weir_shard_index_wins_over_the_engines_variables(world):
    """--shard-from-env takes the first of WEIR_SHARD_INDEX, SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX,
    AWS_BATCH_JOB_ARRAY_INDEX: the later ones, set to a wrong index, change nothing."""
    docs = k8s_docs()
    mapping = fresh(world, "precedence")
    count = docs["weir-shards"]["spec"]["completions"]
    wrong = {"SLURM_ARRAY_TASK_ID": 0, "JOB_COMPLETION_INDEX": 0, "AWS_BATCH_JOB_ARRAY_INDEX": 0}
    run_recipe(mapping, k8s_argv(docs["weir-plan"]), k8s_argv(docs["weir-shards"]),
               k8s_argv(docs["weir-merge"]), "WEIR_SHARD_INDEX", count, extra_env=wrong)
    merge = k8s_argv(docs["weir-merge"])
    out = Path(map_paths([merge[2]], mapping)[0])
    assert_same_result(out, Path(map_paths([merge[merge.index("--concat") + 1]], mapping)[0]), world["ref"])


def test_no_plan_file_with_weir_shard_count(world):
    """Without a plan file: the index from the engine, N from WEIR_SHARD_COUNT; merge checks the plans agree."""
    mapping = fresh(world, "noplan")
    data, config = mapping["/data"], mapping["/config"]
    out, concat, count = data / "out", data / "result.csv", 6
    argv = ["weir", "run", str(config / "pipeline.toml"), "--input", str(mapping["/data/in"] / "customers.csv"),
            "--out", str(out), "--shard-from-env"]
    for k in range(count):
        run_weir(argv, clean_env(JOB_COMPLETION_INDEX=k, WEIR_SHARD_COUNT=count), f"shard {k}/{count}")
    run_weir(["weir", "merge", str(out), "--repair", "--concat", str(concat)], clean_env(), "merge")
    assert_same_result(out, concat, world["ref"])
