"""DMTrack ablation: OFC alone vs ONR+OFC fusion on the held-out synthetic distractor benchmark (and a real sequence).

The benchmark is the `distractors` kind of `cvkit.track.synthetic` (sprites with 2-3 look-alike copies of the target
crossing it and 1-2 occluders), clip seeds `EVAL_SEED_BASE + 1000*seed + i` (never used for training). Both modes run
the same `dmtrack-lite` weights; only the online branch differs. Reports success AUC (mean over clips, frames 2..N),
frames lost (IoU = 0 with the exact box, summed), and tracker FPS; optionally the same on a VOT-style sequence.

    python experiments/track/bench_dmtrack_distractors.py --clips 20 \\
        --out experiments/track/results/bench_dmtrack_distractors.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SEQ = ROOT.parent / "shared" / "data" / "track" / "vot15_bag"


def bench(weights: Path | None, clips: int, seed: int, seq: Path | None, threads: int,
          modes: tuple[str, ...] = ("ofc", "onr+ofc")) -> dict:
    """Run OFC alone and ONR+OFC (or the given `modes`) on the held-out clips (and `seq`); returns the report."""
    import torch

    from cvkit.assets import find_asset
    from cvkit.track.dmtrack.dmtrack_train import evaluate_clips, evaluate_vot, load_dmtrack
    from cvkit.track.metrics import paired_difference

    torch.set_num_threads(threads)
    if weights is None:
        asset = find_asset("track", "dmtrack-lite")
        if asset is None:
            raise SystemExit("dmtrack-lite is not shipped: train it (cvkit train track --model dmtrack-lite "
                             "--data synthetic) and pass --weights DIR")
        weights = asset.weights.parent
    net = load_dmtrack(weights)
    out: dict = {"weights": str(weights), "benchmark": f"distractors, {clips} held-out clips (eval seed {seed})",
                 "threads": threads, "torch": torch.__version__, "machine": platform.processor() or platform.machine(),
                 "load_average_before": [round(v, 2) for v in os.getloadavg()], "modes": {}}
    for name, use_onr in (("ofc", False), ("onr+ofc", True)):
        if name not in modes:
            continue
        t0 = time.monotonic()
        r = evaluate_clips(net, "distractors", clips, seed, use_onr=use_onr)
        r["seconds"] = round(time.monotonic() - t0, 1)
        r["fps"] = round(r["frames"] / r["seconds"], 1)
        r["auc"] = round(r["auc"], 4)
        if seq is not None and seq.is_dir():
            v = evaluate_vot(net, seq, use_onr=use_onr)
            r["real"] = {"sequence": seq.name, **{k: round(x, 4) if isinstance(x, float) else x for k, x in v.items()}}
        out["modes"][name] = r
        print(f"{name:8s} AUC {r['auc']:.3f}  lost {r['frames_lost']}/{r['frames']}"
              + (f"  {seq.name} AUC {r['real']['auc']:.3f}" if "real" in r else ""), file=sys.stderr)
    if len(out["modes"]) == 2:
        ofc, fus = out["modes"]["ofc"], out["modes"]["onr+ofc"]
        out["fusion_beats_ofc"] = {"auc": fus["auc"] > ofc["auc"],
                                   "frames_lost": fus["frames_lost"] < ofc["frames_lost"]}
        out["paired_auc_difference"] = paired_difference(fus["auc_per_clip"], ofc["auc_per_clip"])
    out["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    return out


def main() -> None:
    """CLI of the benchmark."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, default=None, help="asset folder (default: the shipped dmtrack-lite)")
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0, help="evaluation seed (clip seeds EVAL_SEED_BASE + 1000*seed + i)")
    ap.add_argument("--seq", type=str, default=str(DEFAULT_SEQ), help="real VOT-style sequence ('' to skip)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--modes", default="ofc,onr+ofc", help="comma-separated subset of ofc,onr+ofc")
    ap.add_argument("--out", type=Path,
                    default=ROOT / "experiments" / "track" / "results" / "bench_dmtrack_distractors.json")
    a = ap.parse_args()
    seq = Path(a.seq) if a.seq else None  # Path("") would be ".", a folder
    res = bench(a.weights, a.clips, a.seed, seq, a.threads, tuple(a.modes.split(",")))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
