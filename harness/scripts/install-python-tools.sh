#!/usr/bin/env bash
# Installs boto3 and the AWS CLI (v1, from PyPI) for the `stepcheck serve` smoke test
# (harness/tests/serve_python.rs) into a directory of their own, so nothing touches the
# system's Python packages.
#
#   STEPCHECK_TOOLS   where the tools go (default: $HOME/.cache/stepcheck); the packages land
#                     in $STEPCHECK_TOOLS/py, a `pip install --target` directory.
#   PYTHON            the interpreter to use (default: python3).
#
# The smoke test finds them the same way: it puts ${STEPCHECK_TOOLS:-$HOME/.cache/stepcheck}/py
# on PYTHONPATH (or uses STEPCHECK_PY when that is set) and runs the CLI as
# `python3 -m awscli`, so no `aws` on PATH is needed.
set -euo pipefail

python="${PYTHON:-python3}"
target="${STEPCHECK_TOOLS:-$HOME/.cache/stepcheck}/py"
mkdir -p "$target"
"$python" -m pip install --quiet --disable-pip-version-check --upgrade \
    --target "$target" boto3 awscli
PYTHONPATH="$target" "$python" -c 'import boto3, awscli; print("boto3", boto3.__version__, "awscli", awscli.__version__)'
echo "installed into $target"
