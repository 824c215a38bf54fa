"""Turns the runners' JSON lines into reports/bench/peers.{json,md,svg} and prints the table.

Usage: report.py RESULTS.jsonl OUT_DIR META.json
Each line: {"workflow", "runner", ...result} where a result has transitions_per_second or
"skipped". Ratios are stepcheck in-process (Standard, and Express) over each runner.
"""
import json
import math
import sys
from xml.sax.saxutils import escape

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


# One colour per runner (stepcheck in blues, the peers in warm colours and greys).
COLOURS = {"inprocess-standard": "#1f4e9c", "inprocess-express": "#4f8fe0",
           "serve-standard": "#2a9d8f", "serve-express": "#7ccfc4",
           "aws-local-stepfunctions": "#e07b39", "moto": "#b5483b", "localstack": "#7a5aa6"}


def svg_chart(meta, workflows, runners, tps, cell):
    """A grouped horizontal bar chart, one group per workflow and one bar per runner, of
    transitions per second on a log scale; hand-written SVG (no plotting library)."""
    values = [v for w in workflows for r in runners if (v := tps(w, r))]
    lo = 10 ** math.floor(math.log10(min(values))) if values else 1
    hi = 10 ** math.ceil(math.log10(max(values))) if values else 10
    if hi <= lo:
        hi = lo * 10
    left, right, top, plot_w = 120, 90, 86, 640
    bar, gap, group_gap = 13, 2, 16
    group_h = len(runners) * (bar + gap) - gap
    height = top + len(workflows) * (group_h + group_gap) + 40
    width = left + plot_w + right
    x = lambda v: left + plot_w * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    subtitle = f"{meta['date']}, {meta['machine']}; {meta['seconds']} s per measurement"
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
         f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">'
         f'{escape("State transitions per second, stepcheck and its peers (log scale)")}</text>',
         f'<text x="{width / 2}" y="37" text-anchor="middle" font-size="11">'
         f'{escape(subtitle)}</text>']
    # Legend: one swatch per runner, on one or two lines.
    lx, ly = left, 52
    for r in runners:
        w = 18 + 6.2 * len(r) + 14
        if lx + w > width - 10:
            lx, ly = left, ly + 15
        o.append(f'<rect x="{lx}" y="{ly}" width="12" height="10" fill="{COLOURS.get(r, "#888")}"/>'
                 f'<text x="{lx + 16}" y="{ly + 9}">{escape(r)}</text>')
        lx += w
    top = max(top, ly + 24)
    plot_bottom = top + len(workflows) * (group_h + group_gap) - group_gap
    # Decade grid lines and labels.
    d = lo
    while d <= hi * 1.0001:
        gx = x(d)
        label = f"{d / 1e6:g} M" if d >= 1e6 else f"{d / 1e3:g} k" if d >= 1e3 else f"{d:g}"
        o.append(f'<line x1="{gx:.1f}" y1="{top - 4}" x2="{gx:.1f}" y2="{plot_bottom + 4}" '
                 f'stroke="#ddd"/><text x="{gx:.1f}" y="{plot_bottom + 17}" text-anchor="middle" '
                 f'fill="#444">{label}</text>')
        d *= 10
    o.append(f'<line x1="{left}" y1="{top - 4}" x2="{left}" y2="{plot_bottom + 4}" stroke="#444"/>')
    y = top
    for w in workflows:
        o.append(f'<text x="{left - 8}" y="{y + group_h / 2 + 4:.1f}" text-anchor="end" '
                 f'font-weight="bold">{escape(w)}</text>')
        for r in runners:
            v = tps(w, r)
            if v:
                bx = x(v)
                o.append(f'<rect x="{left}" y="{y}" width="{max(bx - left, 1):.1f}" height="{bar}" '
                         f'fill="{COLOURS.get(r, "#888")}"><title>{escape(f"{w} / {r}: {v:.0f}")}</title></rect>'
                         f'<text x="{bx + 4:.1f}" y="{y + bar - 3}" fill="#222">{fmt(v)}'
                         f'{" (partial)" if cell[(w, r)].get("partial") else ""}</text>')
            else:
                o.append(f'<text x="{left + 4}" y="{y + bar - 3}" fill="#999" font-style="italic">'
                         f'{escape(r)}: skipped</text>')
            y += bar + gap
        y += group_gap - gap
    o.append(f'<text x="{left + plot_w / 2}" y="{plot_bottom + 33}" text-anchor="middle" fill="#444">'
             f'transitions per second (state entries per second, log scale)</text>')
    o.append('</svg>')
    return "\n".join(o) + "\n"


def main():
    lines, out, meta_path = sys.argv[1], sys.argv[2], sys.argv[3]
    meta = json.load(open(meta_path))
    rows = [json.loads(l) for l in open(lines) if l.strip()]
    workflows = list(dict.fromkeys(r["workflow"] for r in rows))
    # With PEERS_ROUNDS > 1 the fast runners (stepcheck in-process and serve,
    # aws-local-stepfunctions) are measured several times; a cell shows the best round, the
    # same rule for every runner, so that a busy moment of the machine does not decide a ratio.
    cell, rounds = {}, {}
    for r in rows:
        k = (r["workflow"], r["runner"])
        rounds[k] = rounds.get(k, 0) + 1
        old = cell.get(k)
        if (old is None or ("skipped" in old and "skipped" not in r)
                or ("skipped" not in r and "skipped" not in old
                    and r.get("transitions_per_second", 0) > old.get("transitions_per_second", 0))):
            cell[k] = r
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

    most = max(rounds.values(), default=1)
    md = [f"Measured {meta['date']} (to {meta.get('finished', '?')}) on {meta['machine']}; "
          f"{meta['seconds']} s per measurement"
          + (f"; the best of {most} rounds for stepcheck and aws-local-stepfunctions."
             if most > 1 else "."),
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
                n = "partial" if c.get("partial") else f"{c['executions']} ex"
                cells.append(f"{fmt(c['transitions_per_second'])} ({n})")
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
                cells.append((f"{m[0]['ratio']:,.0f}×" if m[0]["ratio"] >= 100 else f"{m[0]['ratio']:.1f}×")
                             if m else "—")
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
    single = [f"{w} on {r} ({c['seconds']:.1f} s)" for (w, r), c in cell.items()
              if c.get("measured") and not c.get("partial")]
    if single:
        md += ["", "Measured on one execution, one client (it alone took longer than the measurement "
               "time): " + ", ".join(single) + "."]
    partial = [f"{w} on {r}: {c['measured']}" for (w, r), c in cell.items() if c.get("partial")]
    if partial:
        md += ["", "Partial (the execution did not end within the timeout; its rate is the states "
               "it entered before it was stopped):", ""] + [f"- {x}" for x in partial]
    if notes:
        md += ["", "### Where a runner's own StateEntered count differs from AWS's count", ""] + notes
    md += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
           "", "Chart: `peers.svg` (transitions per second, log scale)."]
    text = "\n".join(md) + "\n"
    json.dump({"meta": meta, "results": rows, "ratios": ratios}, open(f"{out}/peers.json", "w"), indent=1)
    open(f"{out}/peers.md", "w").write(text)
    open(f"{out}/peers.svg", "w").write(svg_chart(meta, workflows, runners, tps, cell))
    print(text)


if __name__ == "__main__":
    main()
