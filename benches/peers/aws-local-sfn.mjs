// Times N executions of one workflow on aws-local-stepfunctions' JS API, in this process,
// one after another (one JS thread, as `stepcheck bench --concurrency 1` uses one OS thread).
//
// Usage: AWS_LOCAL_SFN_DIR=PREFIX node aws-local-sfn.mjs DEFINITION INPUT SECONDS TRANSITIONS
//   PREFIX is the `npm install --prefix` directory (run.sh installs it under STEPCHECK_TOOLS,
//   outside the repository, so the package is loaded by path rather than by bare name).
//   TRANSITIONS is the workflow's state entries per execution as AWS counts them (from
//   stepcheck's Standard history); every runner is credited with the same count so that the
//   rates compare the same work. The library's own StateEntered count of one untimed run is
//   reported next to it (`own_state_entered`), to show where the two disagree.
// Prints one JSON object. Executions are started until SECONDS have passed (at least one);
// the caller wraps this in `timeout` so that a hung execution cannot hang the run. A failing
// execution prints {"skipped": "fails: <error>"} (the library's message and its cause, not the
// `throw` line of Node's crash report) and exits with status 1.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// The error and its causes in one line, e.g. "ExecutionError: Execution has failed with the
// following error: ... (cause: States.Runtime: ...)".
const describe = (e) => {
  const parts = [];
  for (let c = e; c && parts.length < 4; c = c.cause) parts.push(`${c.name ?? 'Error'}: ${c.message ?? c}`);
  return parts[0] + (parts.length > 1 ? ` (cause: ${parts.slice(1).join('; ')})` : '');
};
const fail = (e) => {
  console.log(JSON.stringify({ skipped: `fails: ${describe(e)}` }));
  process.exit(1);
};
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

const pkg = path.join(process.env.AWS_LOCAL_SFN_DIR ?? '', 'node_modules', 'aws-local-stepfunctions');
const { StateMachine } = await import(
  pathToFileURL(path.join(pkg, JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'))).module)).href);

const [defPath, inputPath, secondsArg, transitionsArg] = process.argv.slice(2);
const definition = JSON.parse(fs.readFileSync(defPath, 'utf8'));
const input = JSON.parse(fs.readFileSync(inputPath, 'utf8'));
const seconds = Number(secondsArg);
const transitions = Number(transitionsArg);

// Validated and parsed once, as stepcheck compiles a definition once per thread.
const sm = new StateMachine(definition);

// One untimed run: warms the JIT and counts the library's own StateEntered events.
let ownEntered = 0;
{
  const ex = sm.run(structuredClone(input));
  for await (const e of ex.eventLogs) if (e.type === 'StateEntered') ownEntered++;
  await ex.result;
}

const deadline = seconds * 1000;
const latencies = [];
const t0 = performance.now();
let n = 0;
do {
  const s = performance.now();
  // The input is cloned per execution (outside nothing else): the library may not mutate it,
  // but stepcheck parses a fresh input per execution too.
  await sm.run(structuredClone(input)).result;
  latencies.push(performance.now() - s);
  n++;
} while (performance.now() - t0 < deadline);
const elapsed = (performance.now() - t0) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
console.log(JSON.stringify({
  executions: n,
  seconds: elapsed,
  transitions: n * transitions,
  transitions_per_second: (n * transitions) / elapsed,
  latency_ms: { p50: pct(0.5), p90: pct(0.9), p99: pct(0.99) },
  own_state_entered: ownEntered,
}));
