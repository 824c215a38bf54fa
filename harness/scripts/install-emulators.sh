#!/usr/bin/env bash
# Installs the local Step Functions emulators the harness can start as processes (no Docker):
# moto_server (PyPI moto[server]) and LocalStack in host mode (PyPI localstack-core[runtime],
# which needs Python 3.13). Each goes into its own virtual environment under
# ${STEPCHECK_TOOLS:-$HOME/.cache/stepcheck}; a second run only checks that they are there.
#
# Usage: harness/scripts/install-emulators.sh [moto] [localstack]   (default: both)
set -euo pipefail
TOOLS="${STEPCHECK_TOOLS:-$HOME/.cache/stepcheck}"
mkdir -p "$TOOLS"
wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(moto localstack)

python_for() {
  # LocalStack's runtime needs Python 3.13; pyenv has it on this machine's image.
  # (A pyenv shim answers `command -v` even when it cannot run, so each candidate is run.)
  local want="$1" v
  if [ -d "$HOME/.pyenv/versions" ]; then
    v=$(ls -d "$HOME"/.pyenv/versions/"$want"* 2>/dev/null | sort -V | tail -1 || true)
    if [ -n "$v" ] && "$v/bin/python3" --version >/dev/null 2>&1; then echo "$v/bin/python3"; return; fi
  fi
  if "python$want" --version >/dev/null 2>&1; then command -v "python$want"; return; fi
  return 1
}

for tool in "${wanted[@]}"; do
  case "$tool" in
    moto)
      if [ ! -x "$TOOLS/moto-venv/bin/moto_server" ]; then
        python3 -m venv "$TOOLS/moto-venv"
        "$TOOLS/moto-venv/bin/pip" install -q 'moto[server]'
      fi
      echo "moto: $TOOLS/moto-venv/bin/moto_server"
      ;;
    localstack)
      if [ ! -x "$TOOLS/localstack-venv/bin/python" ] || \
         ! "$TOOLS/localstack-venv/bin/python" -c 'import localstack.runtime.main' 2>/dev/null; then
        py=$(python_for 3.13) || { echo "localstack: skipped: no Python 3.13 (pyenv install 3.13)" >&2; continue; }
        "$py" -m venv "$TOOLS/localstack-venv"
        # These pins are what localstack-core's runtime needs on this image (see issue 7).
        "$TOOLS/localstack-venv/bin/pip" install -q 'localstack-core[runtime]' \
          'cbor2<5.7' 'cryptography<44' 'pyopenssl<24.3' 'service_identity<24.3'
      fi
      echo "localstack: $TOOLS/localstack-venv/bin/python -m localstack.runtime.main"
      ;;
    *) echo "unknown tool: $tool (moto, localstack)" >&2; exit 2 ;;
  esac
done
