#!/usr/bin/env bash
# weir's object store tests against a local S3 server (moto): the Rust tests of
# crates/weir/src/store/s3/server_tests.rs (ignored without a server), then contrib/tests/test_s3.py, which runs
# the weir binary on s3:// inputs and outputs.
#
#   contrib/tests/s3.sh                      # installs moto/boto3/pytest if missing, builds weir
#   WEIR_BIN=path/to/weir contrib/tests/s3.sh  # uses that binary for the Python tests
#
# Honours CARGO_TARGET_DIR. The server listens on a free port of 127.0.0.1 only and is stopped
# when the script exits, however it exits.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}

MOTO_VERSION=5.2.5
PYTEST_VERSION=9.2.0
# The pinned versions: from this Python if it has them, else from a virtual environment of their
# own (made once, outside the work tree), so that the system's packages are left as they are.
pinned() {
    "$1" -c "import moto, boto3, flask, pytest
assert moto.__version__ == '$MOTO_VERSION', moto.__version__
assert pytest.__version__ == '$PYTEST_VERSION', pytest.__version__" >/dev/null 2>&1
}
if ! pinned "$PY"; then
    VENV=${WEIR_S3_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/weir/s3-venv}
    if ! pinned "$VENV/bin/python"; then
        echo "s3.sh: installing moto[server]==$MOTO_VERSION, boto3, pytest==$PYTEST_VERSION in $VENV"
        "$PY" -m venv "$VENV"
        "$VENV/bin/python" -m pip install -q "moto[server]==$MOTO_VERSION" boto3 "pytest==$PYTEST_VERSION"
    fi
    PY="$VENV/bin/python"
fi

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG=$(mktemp -t weir-moto.XXXXXX.log)
"$PY" -m moto.server -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 &
MOTO_PID=$!
cleanup() {
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
    rm -f "$LOG"
}
trap cleanup EXIT

ENDPOINT="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do
    if "$PY" -c "import urllib.request; urllib.request.urlopen('$ENDPOINT/moto-api/')" >/dev/null 2>&1; then
        break
    fi
    if ! kill -0 "$MOTO_PID" 2>/dev/null; then
        echo "s3.sh: moto did not start:" >&2
        cat "$LOG" >&2
        exit 1
    fi
    sleep 0.2
done

# Dummy credentials for moto; plain HTTP; no instance metadata lookups.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ALLOW_HTTP=true
export AWS_ENDPOINT_URL="$ENDPOINT" AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT AWS_ENDPOINT_URL_S3
export WEIR_TEST_S3_ENDPOINT="$ENDPOINT"
echo "s3.sh: moto $MOTO_VERSION at $ENDPOINT"

cargo test -p weir --lib store:: -- --ignored

if [ -z "${WEIR_BIN:-}" ]; then
    cargo build --release -p weir-cli
    WEIR_BIN="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release/weir"
fi
export WEIR_BIN
"$PY" -m pytest -q contrib/tests/test_s3.py contrib/tests/test_s3_shards.py
