#!/usr/bin/env bash
# End-to-end tests of the audit binary against the moto emulator, and the static tests of
# the deployment files under deploy/.
#   tests/e2e/run.sh [-v] [-k PATTERN]
# The arguments go to test_e2e.py; test_deploy.py always runs in full (-v is passed on).
# Both suites run even when the first fails; the exit status is non-zero if either failed.
# Builds nothing: set AUDIT_BIN, or have a debug build under $CARGO_TARGET_DIR (or
# target/, or ~/.cache/awsaudit/target). Creates/reuses the tests' virtualenv first.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=$(tests/e2e/setup_venv.sh)

deploy_args=()
for arg in "$@"; do
    if [ "$arg" = "-v" ]; then deploy_args+=("-v"); fi
done

status=0
"$VENV/bin/python" tests/e2e/test_deploy.py "${deploy_args[@]+"${deploy_args[@]}"}" || status=1
"$VENV/bin/python" tests/e2e/test_e2e.py "$@" || status=1
exit "$status"
