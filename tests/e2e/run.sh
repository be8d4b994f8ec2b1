#!/usr/bin/env bash
# End-to-end tests of the audit binary against the moto emulator, the static tests of the
# deployment files under deploy/, and the browser test of the HTML report (Debian's
# Chromium, installed here when missing).
#   tests/e2e/run.sh [-v] [-k PATTERN]
# The arguments go to test_e2e.py; test_deploy.py and test_browser.py always run in full
# (-v is passed on). Every suite runs even when one fails; the exit status is non-zero if
# any failed.
# Builds nothing: set AUDIT_BIN, or have a debug build under $CARGO_TARGET_DIR (or
# target/, or ~/.cache/awsaudit/target). Creates/reuses the tests' virtualenv first.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=$(tests/e2e/setup_venv.sh)
CHROMIUM=$(tests/e2e/setup_chromium.sh)
export AWSAUDIT_CHROMIUM="$CHROMIUM"

suite_args=()
for arg in "$@"; do
    if [ "$arg" = "-v" ]; then suite_args+=("-v"); fi
done

status=0
"$VENV/bin/python" tests/e2e/test_deploy.py "${suite_args[@]+"${suite_args[@]}"}" || status=1
"$VENV/bin/python" tests/e2e/test_browser.py "${suite_args[@]+"${suite_args[@]}"}" || status=1
"$VENV/bin/python" tests/e2e/test_e2e.py "$@" || status=1
exit "$status"
