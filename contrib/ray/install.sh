#!/usr/bin/env bash
# Installs what contrib/ray needs into the current Python: Ray and pytest, pinned.
# Idempotent: a package already at the pinned version is left alone. Fails loudly.
set -euo pipefail

PY=${PYTHON:-python3}
RAY_VERSION=2.60.0
PYTEST_VERSION=9.2.0

have() {  # have MODULE VERSION: the module imports and is at that version
    "$PY" - "$1" "$2" <<'PYEOF' >/dev/null 2>&1
import importlib, sys
m = importlib.import_module(sys.argv[1])
sys.exit(0 if getattr(m, "__version__", None) == sys.argv[2] else 1)
PYEOF
}

want=()
have ray "$RAY_VERSION" || want+=("ray==$RAY_VERSION")
have pytest "$PYTEST_VERSION" || want+=("pytest==$PYTEST_VERSION")

if ((${#want[@]})); then
    echo "install.sh: installing ${want[*]}" >&2
    if ! "$PY" -m pip install --quiet "${want[@]}"; then
        echo "install.sh: FAILED: pip install ${want[*]}" >&2
        exit 1
    fi
fi

have ray "$RAY_VERSION" || { echo "install.sh: FAILED: ray $RAY_VERSION does not import after install" >&2; exit 1; }
have pytest "$PYTEST_VERSION" || { echo "install.sh: FAILED: pytest $PYTEST_VERSION does not import after install" >&2; exit 1; }
command -v ray >/dev/null || [ -x "$("$PY" -c 'import sys, os; print(os.path.join(os.path.dirname(sys.executable), "ray"))')" ] \
    || { echo "install.sh: FAILED: the ray command is not on PATH" >&2; exit 1; }
echo "install.sh: ray $RAY_VERSION and pytest $PYTEST_VERSION ready ($("$PY" -c 'import sys; print(sys.executable)'))" >&2
