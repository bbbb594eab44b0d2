"""Re-run the sweep that chose the classical segment-lidar thresholds on simulated scans (never on real data).

    python experiments/segment_lidar/tune_classical.py --scans 150 --seed 1 --holdout 30 --holdout-seed 2 \\
        > experiments/segment_lidar/results/tune_segment_lidar_classical.json

See `cvkit.segment_lidar.tune` for the grid, the coordinate descent and the score.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict

from cvkit.segment_lidar.classical import ClassicalParams
from cvkit.segment_lidar.tune import GRID, SimBench, _finite, sweep


def main(argv: list[str] | None = None) -> dict:
    """Run the sweep and print the chosen thresholds with tuning and held-out simulated scores (JSON)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scans", type=int, default=150, help="simulated tuning scans")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--holdout", type=int, default=30, help="simulated held-out scans (0: none)")
    ap.add_argument("--holdout-seed", type=int, default=2)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t0:6.1f}s] {msg}", flush=True)

    bench = SimBench(a.seed, a.scans)
    log(f"simulated {len(bench.scans)} tuning scans (seed {a.seed})")
    best, best_s = sweep(bench, log=log)
    current = ClassicalParams()
    out = {"tuning": {"seed": a.seed, "scans": a.scans, "score": round(best_s, 4),
                      "current_defaults_score": round(bench.score(current), 4)},
           "chosen": {k: getattr(best, k) for k in GRID}}
    if a.holdout:
        held = SimBench(a.holdout_seed, a.holdout)
        out["holdout"] = {"seed": a.holdout_seed, "scans": a.holdout, "chosen": held.report(best),
                          "current_defaults": held.report(current)}
    out["params"] = asdict(best)
    print(json.dumps(_finite(out), indent=2))
    return out


if __name__ == "__main__":
    main()
