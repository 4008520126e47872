#!/usr/bin/env python3
"""Summarize several `convjit bench --json` runs as the README's markdown table.

    scripts/bench_table.py RUN1.json RUN2.json ... [--llvm L1.json L2.json ...]

One row per shape: the median over the runs of convjit's time, GFLOP/s, % of peak and
oneDNN's GFLOP/s, the median and range of the convjit/oneDNN ratio, the median compile
time and, with --llvm (runs of `convjit bench --backend llvm --no-onednn`), the LLVM
backend's GFLOP/s and the Xbyak/LLVM ratio of the medians. Medians, because a shared
machine's runs have outliers; ranges, so the reader sees the spread.
"""
import argparse
import json
import statistics


def load(paths):
    runs = [json.load(open(p)) for p in paths]
    shapes = [row["name"] for row in runs[0]]
    by_shape = {name: [] for name in shapes}
    for run in runs:
        for row in run:
            by_shape.setdefault(row["name"], []).append(row)
    return shapes, by_shape


def median(rows, key):
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="convjit bench --json files")
    parser.add_argument("--llvm", nargs="*", default=[], help="LLVM backend runs")
    args = parser.parse_args()
    shapes, xbyak = load(args.runs)
    llvm = load(args.llvm)[1] if args.llvm else {}
    header = ["shape", "convjit µs", "GFLOP/s", "% of peak", "oneDNN GFLOP/s",
              "convjit / oneDNN (range)", "compile µs"]
    if llvm:
        header += ["LLVM backend GFLOP/s", "Xbyak / LLVM"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name in shapes:
        rows = xbyak[name]
        ratios = [r["ratio_vs_onednn"] for r in rows if r.get("ratio_vs_onednn")]
        cells = [name, f"{median(rows, 'time_us'):.1f}", f"{median(rows, 'gflops'):.1f}",
                 f"{median(rows, 'pct_peak'):.0f}%"]
        if ratios:
            cells += [f"{median(rows, 'onednn_gflops'):.1f}",
                      f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})"]
        else:
            cells += ["-", "-"]
        cells.append(f"{median(rows, 'compile_us'):.0f}")
        if llvm:
            lg = median(llvm.get(name, []), "gflops")
            cells += [f"{lg:.1f}", f"{median(rows, 'gflops') / lg:.2f}"] if lg else ["-", "-"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
