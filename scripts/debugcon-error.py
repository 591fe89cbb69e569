#!/usr/bin/env python3
"""How far debugcon's timestamps are from perf's, on the same boots.

Reads the events.csv of a `coldmark run --source both` run, where every marker has a perf time
(kvm:kvm_pio, stamped in the kernel when the guest writes) and a debugcon time (stamped by the
kernel as qemu sends the byte on coldmark's isa-debugcon socket), and prints:
  - the latency of debugcon per marker: debugcon time - perf time;
  - the error of each phase between consecutive markers: debugcon delta - perf delta.
"""
import csv
import statistics
import sys


def pct(v, p):
    v = sorted(v)
    k = (len(v) - 1) * p
    f = int(k)
    return v[f] + (v[min(f + 1, len(v) - 1)] - v[f]) * (k - f)


def main(path):
    boots = {}
    for row in csv.DictReader(open(path)):
        ev = row["event"]
        key = (row["case"], row["boot"], row["warmup"])
        name, _, src = ev.partition("@")
        boots.setdefault(key, {}).setdefault(name, {})["debugcon" if src else "perf"] = int(row["ts_ns"])
    latency, phase_err = {}, {}
    for events in boots.values():
        both = sorted((t["perf"], n, t["debugcon"]) for n, t in events.items() if len(t) == 2)
        for perf, name, dbg in both:
            latency.setdefault(name, []).append((dbg - perf) / 1e3)
        for (p0, n0, d0), (p1, n1, d1) in zip(both, both[1:]):
            phase_err.setdefault(f"{n0} -> {n1}", []).append(((d1 - d0) - (p1 - p0)) / 1e3)
    if not latency:
        sys.exit(f"{path}: no marker has both a perf and a debugcon time (run with --source both)")
    print(f"{len(boots)} boots of {path}")
    print("debugcon latency per marker (µs, debugcon - perf): median [p5, p95]")
    for name, v in latency.items():
        print(f"  {name:24s} {statistics.median(v):8.1f}  [{pct(v, .05):.1f}, {pct(v, .95):.1f}]  n={len(v)}")
    print("phase error (µs, debugcon delta - perf delta): median [p5, p95], median |error|")
    for name, v in phase_err.items():
        print(f"  {name:24s} {statistics.median(v):8.1f}  [{pct(v, .05):.1f}, {pct(v, .95):.1f}]  "
              f"|e| {statistics.median(abs(x) for x in v):.1f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "events.csv")
