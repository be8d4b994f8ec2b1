#!/usr/bin/env bash
# End-to-end tests of the audit binary against the moto emulator.
#   tests/e2e/run.sh [-v] [-k PATTERN]
# Builds nothing: set AUDIT_BIN, or have a debug build under $CARGO_TARGET_DIR (or
# target/, or ~/.cache/awsaudit/target). Creates/reuses moto's virtualenv first.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=$(tests/e2e/setup_venv.sh)
exec "$VENV/bin/python" tests/e2e/test_e2e.py "$@"
