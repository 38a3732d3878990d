#!/usr/bin/env python3
"""Turns the rows scenario tests append (tests/scenarios/diagnosis.h) into a markdown table with
top-1 and top-3 accuracy per twin. Usage: diagnosis_report.py scenario-report.tsv"""
import sys

rows = {}
for line in open(sys.argv[1], encoding="utf-8"):
    f = line.rstrip("\n").split("\t")
    if len(f) != 8:
        continue
    scenario, twin, expected, top1, hosts, evidence, top3, verdict = f
    rows.setdefault(scenario, {"expected": expected})[twin] = (top1, hosts, evidence, top3, verdict)

def cell(entry):
    if entry is None:
        return "not run"
    top1, hosts, evidence, _, verdict = entry
    notes = [] if verdict == "pass" else [n for n, ok in (("hosts", hosts), ("evidence", evidence)) if ok != "yes"]
    return top1 + ("" if not notes else " (wrong " + ", ".join(notes) + ")") + ("" if verdict == "pass" else " ✗")

print("| scenario | expected | top-1 quiet | top-1 noisy | top-3 (noisy) |")
print("|---|---|---|---|---|")
totals = {"quiet": [0, 0, 0], "noisy": [0, 0, 0]}
for scenario in sorted(rows):
    r = rows[scenario]
    for twin in ("quiet", "noisy"):
        if twin in r:
            top1, _, _, top3, verdict = r[twin]
            totals[twin][0] += 1
            totals[twin][1] += verdict == "pass"
            totals[twin][2] += r["expected"] in top3.split(", ")
    top3 = (r.get("noisy") or r.get("quiet"))[3]
    print(f"| {scenario} | {r['expected']} | {cell(r.get('quiet'))} | {cell(r.get('noisy'))} | {top3} |")
print()
for twin, (n, top1, top3) in totals.items():
    if n:
        print(f"{twin}: top-1 {top1}/{n} ({100.0 * top1 / n:.0f} %), top-3 {top3}/{n} ({100.0 * top3 / n:.0f} %)")
