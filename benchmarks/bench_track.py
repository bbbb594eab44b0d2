"""Tracking benchmark: cvkit trackers beside OpenCV CSRT/KCF/MIL on the same real sequence, JSON out.

Reports success AUC, precision@20px (frames 2..N vs the min/max GT boxes, init from the frame-1 box) and
tracker speed (median per-frame update time -> frames/s, decode and drawing excluded) for each model.

    python benchmarks/bench_track.py --out benchmarks/results/bench_track.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI does
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SEQ = ROOT.parent / "shared" / "data" / "track" / "vot15_bag"
DEFAULT_MODELS = ["siam-lite", "sesiamfc-lite", "automatch-lite", "dmtrack-lite", "dmtrack-lite-ofc",
                  "cv-csrt", "cv-kcf", "cv-mil"]


def bench(seq_path: Path, models: list[str], threads: int, repeats: int) -> dict:
    """Run every model on the sequence `repeats` times; quality from the first run, speed from all."""
    import cv2
    import numpy as np
    import torch

    from cvkit.device import set_threads
    from cvkit.errors import ModelError
    from cvkit.track.datasets import detect_sequence
    from cvkit.track.metrics import score_sequence
    from cvkit.track.registry import build_tracker

    set_threads(threads)
    seq = detect_sequence(seq_path)
    if seq is None or seq.gt is None:
        raise SystemExit(f"{seq_path}: not a benchmark sequence with ground truth")
    frames = [cv2.imread(str(f)) for f in seq.frames]  # decode once, outside the timing
    out = {"sequence": seq.name, "frames": len(frames), "size": list(frames[0].shape[1::-1]),
           "threads": threads, "torch": torch.__version__, "opencv": cv2.__version__,
           "machine": platform.processor() or platform.machine(),
           "load_average_before": [round(v, 2) for v in os.getloadavg()], "models": {}}
    for name in models:
        try:
            tracker = build_tracker(name, "cpu")
        except ModelError as e:
            out["models"][name] = {"skipped": str(e)}
            continue
        fps_runs, boxes = [], None
        for rep in range(repeats):
            tracker.initialize(frames[0], tuple(seq.gt[0]))
            pred, times = [tuple(seq.gt[0])], []
            for frame in frames[1:]:
                t0 = time.perf_counter()
                box, _ = tracker.track(frame)
                times.append(time.perf_counter() - t0)
                pred.append(box)
            fps_runs.append(1.0 / statistics.median(times))
            if rep == 0:
                boxes = np.asarray(pred)
        scores = score_sequence(boxes, seq.gt, include_first=False)
        out["models"][name] = {"auc": round(scores["auc"], 4), "p20": round(scores["p20"], 4),
                               "mean_iou": round(scores["mean_iou"], 4),
                               "fps_median": round(statistics.median(fps_runs), 1),
                               "fps_runs": [round(f, 1) for f in fps_runs]}
        print(f"{name:16s} AUC {scores['auc']:.3f}  P@20 {scores['p20']:.3f}  "
              f"{statistics.median(fps_runs):6.1f} fps", file=sys.stderr)
    out["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    return out


def main() -> None:
    """CLI of the benchmark."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seq", type=Path, default=DEFAULT_SEQ, help="benchmark sequence folder")
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS))
    ap.add_argument("--threads", type=int, default=0, help="0 = all cores of this process")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_track.json")
    args = ap.parse_args()
    if not args.seq.exists():
        raise SystemExit(f"{args.seq}: sequence not found (the shared data folder is absent)")
    from cvkit.device import available_cores

    result = bench(args.seq, args.models.split(","), args.threads or available_cores(), args.repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
