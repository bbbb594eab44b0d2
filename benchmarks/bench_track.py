"""Tracking benchmark: every cvkit tracker beside OpenCV CSRT/KCF/MIL on all real sequences, JSON out.

Every sequence under ROOT (default ../shared/data/track; any OTB/VOT/UAV123/GOT-10k/LaSOT-style folder,
1-based GT handled by the layout's convention) is tracked once per model from its frame-1 GT box (the
min/max box of a VOT polygon). Per sequence: success AUC, precision@20px (frames 2..N), and tracker speed
(median per-frame `track()` time -> frames/s; decode excluded; `fps_cpu` is the same from the process's CPU
time x threads, which a machine shared with other jobs does not distort the way wall time is distorted:
with --threads 1 it is the uncontended single-core speed). Per model: the mean over sequences and the
ratio of each AUC to CSRT's in the same run (the acceptance check of issue 23).

    python benchmarks/bench_track.py --out benchmarks/results/bench_track.json
    python benchmarks/bench_track.py --models automatch-lite,cv-csrt --seqs uav123_wakeboard10
    python benchmarks/bench_track.py --models automatch-lite,cv-csrt --update   # re-run two, keep the rest
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
DEFAULT_ROOT = ROOT.parent / "shared" / "data" / "track"
DEFAULT_MODELS = ["siam-lite", "sesiamfc-lite", "automatch-lite", "dmtrack-lite", "dmtrack-lite-ofc",
                  "cv-csrt", "cv-kcf", "cv-mil"]
PEER = "cv-csrt"


def run_model(tracker, frames: list, init_box: tuple) -> tuple[list, list, list, int]:
    """Track one sequence: boxes per frame (init box first), wall and CPU seconds per tracked frame, and the
    number of frames the tracker itself flagged lost (trackers with their own absence decision)."""
    tracker.initialize(frames[0], init_box)
    pred, times, cpu, lost = [init_box], [], [], 0
    for frame in frames[1:]:
        t0, c0 = time.perf_counter(), time.process_time()
        box, _ = tracker.track(frame)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        pred.append(tuple(float(v) for v in box))
        lost += bool(tracker.lost)
    return pred, times, cpu, lost


def bench(root: Path, models: list[str], threads: int, seqs: list[str] | None = None,
          previous: dict | None = None) -> dict:
    """Run every model on every sequence under `root` once; per-sequence scores, means and CSRT ratios.

    `previous` (an earlier result on the same sequences) contributes the models not run now.
    """
    import cv2
    import numpy as np
    import torch

    from cvkit.device import set_threads
    from cvkit.errors import ModelError
    from cvkit.track.datasets import list_sequences
    from cvkit.track.metrics import score_sequence
    from cvkit.track.registry import build_tracker

    set_threads(threads)
    sequences = [s for s in list_sequences(root, "folder") if s.gt is not None]
    if seqs:
        sequences = [s for s in sequences if s.name in set(seqs)]
    out = {"root": str(root), "threads": threads, "torch": torch.__version__, "opencv": cv2.__version__,
           "machine": platform.processor() or platform.machine(),
           "load_average_before": [round(v, 2) for v in os.getloadavg()], "sequences": {}, "models": {}}
    decoded = {}
    for seq in sequences:
        frames = [cv2.imread(str(f)) for f in seq.frames]  # decode once, outside the timing
        decoded[seq.name] = frames
        out["sequences"][seq.name] = {"frames": len(frames), "size": list(frames[0].shape[1::-1]),
                                      "init_box": [round(float(v), 2) for v in seq.gt[0]], "layout": seq.layout}
    for name in models:
        try:
            tracker = build_tracker(name, "cpu")
        except ModelError as e:
            out["models"][name] = {"skipped": str(e)}
            continue
        per_seq = {}
        for seq in sequences:
            pred, times, cpu, lost = run_model(tracker, decoded[seq.name], tuple(float(v) for v in seq.gt[0]))
            s = score_sequence(np.asarray(pred), seq.gt, include_first=False)
            per_seq[seq.name] = {"auc": round(s["auc"], 4), "p20": round(s["p20"], 4),
                                 "fps": round(1.0 / statistics.median(times), 1),
                                 "fps_cpu": round(threads / max(statistics.median(cpu), 1e-6), 1)}
            if tracker.reports_lost:
                per_seq[seq.name]["lost_frames"] = lost
            print(f"{name:18s} {seq.name:20s} AUC {s['auc']:.3f}  P@20 {s['p20']:.3f}  "
                  f"{per_seq[seq.name]['fps']:6.1f} fps (CPU-time {per_seq[seq.name]['fps_cpu']:.1f})",
                  file=sys.stderr, flush=True)
        row = {"per_sequence": per_seq}
        for k in ("auc", "p20", "fps", "fps_cpu"):
            row[f"mean_{k}"] = round(float(np.mean([v[k] for v in per_seq.values()])), 4)
        for k in ("fps", "fps_cpu"):
            big = [v[k] for n, v in per_seq.items() if min(out["sequences"][n]["size"]) >= 720]
            if big:
                row[f"{k}_720p"] = round(float(np.median(big)), 1)
        row["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        row["load_average"] = [round(v, 2) for v in os.getloadavg()]
        out["models"][name] = row
    out["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    if previous:
        return merge(previous, out)
    add_peer_ratios(out)
    return out


def merge(previous: dict, new: dict) -> dict:
    """`new`'s rows over `previous`'s (same sequences); each row keeps its own finish time and load."""
    out = dict(new)
    kept = {k: v for k, v in previous.get("models", {}).items() if k not in new["models"]}
    out["models"] = {**kept, **new["models"]}
    out["runs"] = previous.get("runs", [{k: previous.get(k) for k in ("load_average_before", "load_average_after")}
                                        | {"models": list(previous.get("models", {}))}])
    out["runs"] = out["runs"] + [{k: new.get(k) for k in ("load_average_before", "load_average_after")}
                                 | {"models": list(new["models"])}]
    add_peer_ratios(out)
    return out


def add_peer_ratios(out: dict) -> None:
    """Each model's AUC over CSRT's per sequence and on the mean, and the issue-23 acceptance check."""
    peer = out["models"].get(PEER, {})
    if "per_sequence" not in peer:
        return
    for row in out["models"].values():
        if "per_sequence" not in row:
            continue
        ratios = {n: round(v["auc"] / max(peer["per_sequence"][n]["auc"], 1e-9), 3)
                  for n, v in row["per_sequence"].items()}
        row["auc_ratio_to_csrt"] = ratios
        row["mean_auc_ratio_to_csrt"] = round(row["mean_auc"] / max(peer["mean_auc"], 1e-9), 3)
        row["acceptance"] = bool(row["mean_auc_ratio_to_csrt"] >= 1.15 and min(ratios.values()) >= 0.85)


def table(result: dict) -> str:
    """Markdown table: one row per model, AUC per sequence, mean AUC / P@20, fps on 720p."""
    seqs = list(result["sequences"])
    lines = ["| model | " + " | ".join(seqs) + " | mean AUC | mean P@20 | fps 720p (wall / CPU-time) |",
             "|---" * (len(seqs) + 4) + "|"]
    for name, row in result["models"].items():
        if "per_sequence" not in row:
            continue
        cells = [f"{row['per_sequence'][s]['auc']:.3f}" for s in seqs]
        wall, cpu = row.get("fps_720p", row["mean_fps"]), row.get("fps_cpu_720p", row["mean_fps_cpu"])
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {row['mean_auc']:.3f} | {row['mean_p20']:.3f} | "
                     f"{wall:.1f} / {cpu:.1f} |")
    return "\n".join(lines)


def main() -> None:
    """CLI of the benchmark."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="folder of benchmark sequences")
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS), help="comma-separated model names")
    ap.add_argument("--seqs", default="", help="comma-separated sequence names (default: all)")
    ap.add_argument("--threads", type=int, default=0, help="0 = all cores of this process")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_track.json")
    ap.add_argument("--update", action="store_true", help="keep the other models' rows already in --out")
    args = ap.parse_args()
    if not args.root.exists():
        raise SystemExit(f"{args.root}: not found (the shared data folder is absent)")
    from cvkit.device import available_cores

    result = bench(args.root, [m for m in args.models.split(",") if m], args.threads or available_cores(),
                   [s for s in args.seqs.split(",") if s] or None,
                   json.loads(args.out.read_text()) if args.update and args.out.is_file() else None)
    print(table(result), file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
