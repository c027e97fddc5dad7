#!/usr/bin/env bash
# The scale-out tests: sharded runs on a local S3 server (moto), on a real two-node Ray cluster,
# and on a single-node Slurm, each compared with the one-machine run. Installs what they need
# (pinned: moto in a venv of its own, Ray and pytest with pip, Slurm and munge with apt) and
# starts and stops every server itself, on 127.0.0.1 only.
#
#   bash contrib/tests/run.sh              # all three
#   bash contrib/tests/run.sh ray slurm    # some of them
#
# Uses $WEIR_BIN, else builds target/release/weir. A failed install fails the run: nothing is
# skipped.
set -euo pipefail
cd "$(dirname "$0")/../.."
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(s3 ray slurm)

if [ -z "${WEIR_BIN:-}" ]; then
    cargo build --release -p weir-cli
    WEIR_BIN="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release/weir"
fi
export WEIR_BIN

for suite in "${suites[@]}"; do
    start=$(date +%s)
    echo "== scale-out tests: $suite"
    case "$suite" in
        s3) bash contrib/tests/s3.sh ;;
        ray)
            bash contrib/ray/install.sh
            python3 -m pytest -q -p no:cacheprovider contrib/tests/test_ray.py
            ;;
        slurm)
            bash contrib/slurm/install.sh
            python3 -c 'import pytest, sys; sys.exit(pytest.__version__ != "9.2.0")' 2>/dev/null \
                || python3 -m pip install -q "pytest==9.2.0"
            python3 -m pytest -q -p no:cacheprovider contrib/tests/test_slurm.py contrib/tests/test_contract.py
            ;;
        *) echo "run.sh: unknown suite $suite (s3, ray, slurm)" >&2; exit 2 ;;
    esac
    echo "== $suite: $(( $(date +%s) - start )) s"
done
