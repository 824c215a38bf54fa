"""Turns the runners' JSON lines into reports/bench/peers.{json,md} and prints the table.

Usage: report.py RESULTS.jsonl OUT_DIR META.json
Each line: {"workflow", "runner", ...result} where a result has transitions_per_second or
"skipped". Ratios are stepcheck in-process (Standard, and Express) over each runner.
"""
import json
import sys

RUNNERS = ["inprocess-standard", "inprocess-express", "serve-standard", "serve-express",
           "aws-local-stepfunctions", "moto", "localstack"]
# Issue 9: in-process >= 50x aws-local-stepfunctions with full Standard history, >= 100x
# without history (Express).
TARGETS = {"inprocess-standard": 50, "inprocess-express": 100}


def fmt(v):
    if v >= 1e6:
        return f"{v / 1e6:.2f} M"
    if v >= 1e3:
        return f"{v / 1e3:.1f} k"
    return f"{v:.0f}"


def main():
    lines, out, meta_path = sys.argv[1], sys.argv[2], sys.argv[3]
    meta = json.load(open(meta_path))
    rows = [json.loads(l) for l in open(lines) if l.strip()]
    workflows = list(dict.fromkeys(r["workflow"] for r in rows))
    cell = {(r["workflow"], r["runner"]): r for r in rows}
    runners = [r for r in RUNNERS if any((w, r) in cell for w in workflows)]

    def tps(w, r):
        c = cell.get((w, r))
        return c.get("transitions_per_second") if c and "skipped" not in c else None

    ratios = []
    for w in workflows:
        for base in TARGETS:
            b = tps(w, base)
            for r in runners:
                if r.startswith("inprocess"):
                    continue
                p = tps(w, r)
                if b and p:
                    ratios.append({"workflow": w, "stepcheck": base, "peer": r, "ratio": b / p})

    md = [f"Measured {meta['date']} on {meta['machine']}; {meta['seconds']} s per measurement.",
          "", "### State transitions per second (state entries per second)", "",
          "| workflow | " + " | ".join(runners) + " |",
          "| --- |" + " --- |" * len(runners)]
    for w in workflows:
        cells = []
        for r in runners:
            c = cell.get((w, r))
            if c is None:
                cells.append("—")
            elif "skipped" in c:
                cells.append("skipped: " + c["skipped"].replace("|", "/"))
            else:
                cells.append(f"{fmt(c['transitions_per_second'])} ({c['executions']} ex)")
        md.append(f"| {w} | " + " | ".join(cells) + " |")
    md += ["", "### Ratio: stepcheck in-process ÷ runner", "",
           "| workflow | stepcheck | " + " | ".join(r for r in runners if not r.startswith("inprocess")) + " |",
           "| --- | --- |" + " --- |" * sum(1 for r in runners if not r.startswith("inprocess"))]
    for w in workflows:
        for base in TARGETS:
            cells = []
            for r in runners:
                if r.startswith("inprocess"):
                    continue
                m = [x for x in ratios if x["workflow"] == w and x["stepcheck"] == base and x["peer"] == r]
                cells.append(f"{m[0]['ratio']:.1f}×" if m else "—")
            md.append(f"| {w} | {base} | " + " | ".join(cells) + " |")
    md += ["", "### Issue 9 targets against aws-local-stepfunctions", ""]
    for x in ratios:
        if x["peer"] == "aws-local-stepfunctions":
            t = TARGETS[x["stepcheck"]]
            md.append(f"- {x['workflow']}, {x['stepcheck']}: {x['ratio']:.1f}× "
                      f"(target ≥ {t}×): {'met' if x['ratio'] >= t else 'NOT met'}")
    notes = [f"- {w} on {r}: own StateEntered count {c['own_state_entered']} "
             f"vs {c['credited_transitions']} credited"
             for (w, r), c in cell.items()
             if c.get("own_state_entered") not in (None, c.get("credited_transitions"))]
    if notes:
        md += ["", "### Where a runner's own StateEntered count differs from AWS's count", ""] + notes
    md += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items())]
    text = "\n".join(md) + "\n"
    json.dump({"meta": meta, "results": rows, "ratios": ratios}, open(f"{out}/peers.json", "w"), indent=1)
    open(f"{out}/peers.md", "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
