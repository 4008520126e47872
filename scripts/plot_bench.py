#!/usr/bin/env python3
"""Draws `convjit bench --json` results as an SVG bar chart, with the standard library only.

    python3 scripts/plot_bench.py results.json out.svg [--title TEXT]

One group of bars per shape: convjit's GFLOP/s and, when the results have it, oneDNN's;
a dashed line marks the 1-thread FMA peak the bench measured (and a second one the
N-thread peak when the run used more threads). Values are printed above the bars.
"""
import argparse
import json
import math
import sys
from xml.sax.saxutils import escape

CONVJIT_COLOR = "#1f77b4"
ONEDNN_COLOR = "#ff7f0e"
PEAK_COLOR = "#d62728"


def nice_step(span, ticks=6):
    """A round tick step (1, 2 or 5 times a power of ten) giving about `ticks` ticks."""
    raw = span / max(ticks, 1)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 5, 10):
        if raw <= m * power:
            return m * power
    return 10 * power


def number(value):
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


def load_rows(path):
    with open(path, encoding="utf-8") as f:
        rows = json.load(f)
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{path}: expected a non-empty JSON array of bench rows")
    for i, row in enumerate(rows):
        if "name" not in row or "gflops" not in row:
            raise ValueError(f"{path}: row {i} lacks 'name' or 'gflops'")
    return rows


def render(rows, title=None):
    has_onednn = any(number(r.get("onednn_gflops")) is not None for r in rows)
    peak_1t = next((number(r.get("peak_gflops_1t")) for r in rows
                    if number(r.get("peak_gflops_1t")) is not None), None)
    threads = max(int(r.get("threads", 1)) for r in rows)
    peak_nt = next((number(r.get("peak_gflops")) for r in rows
                    if number(r.get("peak_gflops")) is not None), None) if threads > 1 else None
    if peak_1t is None and threads == 1:
        peak_1t = next((number(r.get("peak_gflops")) for r in rows
                        if number(r.get("peak_gflops")) is not None), None)

    values = [number(r.get("gflops")) or 0.0 for r in rows]
    values += [number(r.get("onednn_gflops")) or 0.0 for r in rows]
    top = max(values + [peak_1t or 0.0, peak_nt or 0.0, 1.0])
    step = nice_step(top * 1.08)
    y_max = step * math.ceil(top * 1.08 / step)

    bars = 2 if has_onednn else 1
    bar_w, gap = 22, 18
    group_w = bars * bar_w + gap
    left, right, top_pad, bottom = 70, 30, 70, 120
    plot_w = group_w * len(rows)
    plot_h = 360
    width = left + plot_w + right
    height = top_pad + plot_h + bottom

    def y(v):
        return top_pad + plot_h - plot_h * v / y_max

    first = rows[0]
    if title is None:
        title = "convjit bench: GFLOP/s per shape"
    subtitle = (f"{first.get('cpu', '?')} - {first.get('date', '?')} - {threads} thread(s)"
                + (" - --quick (shrunk shapes, not comparable)" if first.get("quick") else ""))

    out = []
    out.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
               f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">')
    out.append(f'<rect width="{width}" height="{height}" fill="white"/>')
    out.append(f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15" '
               f'font-weight="bold">{escape(title)}</text>')
    out.append(f'<text x="{width / 2}" y="40" text-anchor="middle" fill="#555">'
               f'{escape(subtitle)}</text>')

    # Grid and y axis.
    v = 0.0
    while v <= y_max + 1e-9:
        yy = y(v)
        out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{left + plot_w}" y2="{yy:.1f}" '
                   f'stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{v:g}</text>')
        v += step
    out.append(f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" '
               f'stroke="black"/>')
    out.append(f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" '
               f'y2="{top_pad + plot_h}" stroke="black"/>')
    out.append(f'<text x="18" y="{top_pad + plot_h / 2}" text-anchor="middle" '
               f'transform="rotate(-90 18 {top_pad + plot_h / 2})">GFLOP/s</text>')

    # Bars.
    for i, r in enumerate(rows):
        x0 = left + i * group_w + gap / 2
        series = [(number(r.get("gflops")), CONVJIT_COLOR, "convjit")]
        if has_onednn:
            series.append((number(r.get("onednn_gflops")), ONEDNN_COLOR, "oneDNN"))
        for j, (val, color, who) in enumerate(series):
            bx = x0 + j * bar_w
            if val is None:
                out.append(f'<text x="{bx + bar_w / 2:.1f}" y="{y(0) - 4:.1f}" '
                           f'text-anchor="middle" fill="#999">n/a</text>')
                continue
            by = y(val)
            out.append(f'<rect x="{bx:.1f}" y="{by:.1f}" width="{bar_w - 2}" '
                       f'height="{y(0) - by:.1f}" fill="{color}">'
                       f'<title>{escape(r["name"])} {who}: {val:.1f} GFLOP/s</title></rect>')
            out.append(f'<text x="{bx + (bar_w - 2) / 2:.1f}" y="{by - 3:.1f}" '
                       f'text-anchor="middle" font-size="9">{val:.0f}</text>')
        label = r["name"] + ("*" if r.get("shrunk") else "")
        if r.get("check_ok") is False:
            label += " (!)"
        lx = x0 + bars * bar_w / 2
        ly = top_pad + plot_h + 12
        out.append(f'<text x="{lx:.1f}" y="{ly}" text-anchor="end" '
                   f'transform="rotate(-40 {lx:.1f} {ly})">{escape(label)}</text>')

    # Peak lines.
    peaks = []
    if peak_1t is not None:
        peaks.append((peak_1t, "6,4", f"FMA peak, 1 thread: {peak_1t:.1f}"))
    if peak_nt is not None:
        peaks.append((peak_nt, "2,3", f"FMA peak, {threads} threads: {peak_nt:.1f}"))
    for val, dash, text in peaks:
        yy = y(val)
        out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{left + plot_w}" y2="{yy:.1f}" '
                   f'stroke="{PEAK_COLOR}" stroke-width="1.5" stroke-dasharray="{dash}"/>')
        out.append(f'<text x="{left + plot_w - 4}" y="{yy - 4:.1f}" text-anchor="end" '
                   f'fill="{PEAK_COLOR}">{escape(text)}</text>')

    # Legend.
    lx, ly = left, 52
    legend = [(CONVJIT_COLOR, "convjit")]
    if has_onednn:
        legend.append((ONEDNN_COLOR, "oneDNN (best formulation)"))
    for color, text in legend:
        out.append(f'<rect x="{lx}" y="{ly - 9}" width="12" height="10" fill="{color}"/>')
        out.append(f'<text x="{lx + 16}" y="{ly}">{escape(text)}</text>')
        lx += 30 + 7 * len(text)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="JSON written by `convjit bench --json`")
    parser.add_argument("svg", help="SVG file to write")
    parser.add_argument("--title", help="chart title")
    args = parser.parse_args(argv)
    try:
        rows = load_rows(args.results)
    except (OSError, ValueError) as e:
        print(f"plot_bench: {e}", file=sys.stderr)
        return 1
    svg = render(rows, args.title)
    with open(args.svg, "w", encoding="utf-8") as f:
        f.write(svg)
    print(f"wrote {args.svg} ({len(rows)} shapes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
