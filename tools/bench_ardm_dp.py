#!/usr/bin/env python
"""Time the ARDM budget dynamic program (anytime_audio.core.ardm_schedule.dp_schedule).

Usage: python tools/bench_ardm_dp.py [--lengths 64 256 1024] [--repeats 3]

For each sequence length D it times budgets D/16, D/8, D/3 (the worst case of
the O(budget * (D - budget + 1)^2) program), D/2 and D on a synthetic
decreasing loss curve, and prints the best-of-repeats wall time together with
the DP cost relative to an even split.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from anytime_audio.core.ardm_schedule import dp_schedule, even_schedule, schedule_cost


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", type=int, nargs="+", default=[64, 256, 1024])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    print(f"{'D':>6} {'budget':>7} {'seconds':>9} {'dp/even cost':>13}")
    for D in args.lengths:
        # a decreasing per-step loss curve, like a trained ARDM's (sorted, as the tracker does)
        comps = np.sort(2.0 * np.exp(-np.linspace(0, 4, D)) + 0.05 * rng.random(D))[::-1]
        budgets = sorted({max(1, D // 16), max(1, D // 8), max(1, D // 3), max(1, D // 2), D})
        for b in budgets:
            best = np.inf
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                steps, cost = dp_schedule(comps, b)
                best = min(best, time.perf_counter() - t0)
            ratio = cost / schedule_cost(comps, even_schedule(D, b))
            print(f"{D:>6} {b:>7} {best:>9.4f} {ratio:>13.3f}")


if __name__ == "__main__":
    main()
