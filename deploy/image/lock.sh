#!/bin/sh
# Regenerate deploy/requirements.lock: the runtime dependencies of the project (no
# extras), resolved in a fresh virtualenv and frozen. Run from the repository root.
set -eu
python="${PYTHON:-python3.11}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet -e .
{
  sed -n '1,/^# `pip freeze --exclude-editable` here.$/p' deploy/requirements.lock
  "$tmp/venv/bin/python" -m pip freeze --exclude-editable
} > "$tmp/requirements.lock"
mv "$tmp/requirements.lock" deploy/requirements.lock
echo "deploy/requirements.lock refreshed; review the diff before committing"
