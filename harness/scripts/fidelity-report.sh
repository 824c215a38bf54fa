#!/usr/bin/env bash
# The emulator fidelity report: the whole corpus on the in-process engine, `stepcheck serve`
# (through aws-sdk-sfn), moto and LocalStack (started as processes by the harness), written
# to reports/emulators/ and summarised in reports/emulators.md (committed).
#
# Emulator differences are findings, not failures: the script exits 0 when the report was
# written, whatever the emulators did, and non-zero only when the harness itself failed.
# Usage: harness/scripts/fidelity-report.sh [STEPCHECK_BINARY]
set -uo pipefail
cd "$(dirname "$0")/../.."
bin="${1:-target/release/stepcheck}"
[ -x "$bin" ] || cargo build --release -p stepcheck-harness --bin stepcheck || exit 1

# Installing LocalStack takes minutes; it is bounded so that CI stays within its budget.
timeout "${STEPCHECK_INSTALL_SECONDS:-420}" harness/scripts/install-emulators.sh moto localstack \
  || echo "emulator install incomplete: those backends will be reported as skipped"

out=reports/emulators
rm -rf "$out"
limit="${STEPCHECK_FIDELITY_SECONDS:-480}"
timeout "$limit" "$bin" run corpus --backend in-process,serve,moto,localstack --jobs 4 --report "$out" > reports/emulators.log 2>&1
code=$?
tail -8 reports/emulators.log
if [ "$code" -eq 124 ]; then
  # A slow emulator is a finding too; the budget keeps CI within its time.
  echo "fidelity run not finished within ${limit} s: no report this time (STEPCHECK_FIDELITY_SECONDS raises the limit)"
  exit 0
fi
if [ ! -f "$out/summary.md" ]; then
  echo "the fidelity run wrote no report (exit $code); see reports/emulators.log" >&2
  exit 1
fi
moto_version=$("${STEPCHECK_TOOLS:-$HOME/.cache/stepcheck}/moto-venv/bin/pip" show moto 2>/dev/null | sed -n 's/^Version: //p')
ls_version=$("${STEPCHECK_TOOLS:-$HOME/.cache/stepcheck}/localstack-venv/bin/pip" show localstack-core 2>/dev/null | sed -n 's/^Version: //p')
{
  echo "# Emulator fidelity"
  echo
  echo "The corpus on each backend, compared with the goldens (AWS's behaviour as the corpus"
  echo "pins it). Written by \`harness/scripts/fidelity-report.sh\` on $(date -u +%Y-%m-%d) ($(uname -m), $(nproc) cores);"
  echo "moto ${moto_version:-not installed}, localstack-core ${ls_version:-not installed}. \"n/a\": the scenario needs what"
  echo "the backend lacks (virtual time, per-scenario mocks, validation diagnostics)."
  echo
  grep -E "^(skipped|[0-9]+ scenarios on)" reports/emulators.log | sed 's/^/- /'
  echo
  # The matrix only; each failure's diff is in reports/emulators/index.html and summary.md.
  sed '1,/^$/d' "$out/summary.md" | sed '/^## /,$d'
} > reports/emulators.md
echo "report reports/emulators.md"
