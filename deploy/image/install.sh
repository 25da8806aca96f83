#!/bin/sh
# The install steps of the container image, kept here so that the image build (Dockerfile)
# and the test that checks it (tests/deploy/test_image.py) run the very same commands.
#
#   install.sh dependencies VENV   the pinned runtime dependencies, nothing else
#   install.sh application VENV    the platform itself, from the current folder
set -eu
step="$1"
venv="$2"
case "$step" in
  dependencies)
    # --no-deps: every package must be pinned in the lock file; `pip check` below fails
    # when one is missing or does not fit.
    "$venv/bin/python" -m pip install --no-cache-dir --no-deps --require-virtualenv \
      -r deploy/requirements.lock
    ;;
  application)
    "$venv/bin/python" -m pip install --no-cache-dir --no-deps --require-virtualenv .
    "$venv/bin/python" -m pip check
    ;;
  *)
    echo "usage: install.sh dependencies|application VENV" >&2
    exit 2
    ;;
esac
