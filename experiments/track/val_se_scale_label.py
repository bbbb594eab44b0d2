"""Validation runs for the scale-aware label (issue 2 item 4): train a lite net for a few steps with a given
`--scale-label` / `--scale-wide` and score it on validation digits-s clips (eval seeds other than 0, the test
seed), writing JSON. Settings are chosen from these numbers only; the test clips are scored once, afterwards,
by bench_se_twin.py.

    python experiments/track/val_se_scale_label.py --model sesiamfc-lite --steps 600 --scale-label 0.1 \\
        --scale-wide 0.5 \\
        --out experiments/track/results/val_se_scale_label_A.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main() -> None:
    """Train, score on validation seeds, write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="sesiamfc-lite")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scale-label", type=float, default=0.0)
    ap.add_argument("--scale-wide", type=float, default=0.0)
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--eval-seeds", type=int, nargs="+", default=[7, 8])
    ap.add_argument("--save", type=Path, default=None, help="also write the asset folder here")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if 0 in args.eval_seeds:
        raise SystemExit("eval seed 0 is the test set; validation uses other seeds")
    import torch

    from cvkit.track.siamfc.train import evaluate_synthetic, scale_pair_config, train_siamfc_lite

    torch.set_num_threads(1)
    res = train_siamfc_lite(args.model, "synthetic", 1e9, args.seed, args.save, max_steps=args.steps,
                            pair_config=scale_pair_config(args.scale_label, args.scale_wide), threads=1,
                            callback=lambda d: print(d, file=sys.stderr), log_every=100)
    row = {"model": args.model, "steps": res.steps, "seed": args.seed, "scale_label": args.scale_label,
           "scale_wide": args.scale_wide, "train_seconds": round(res.seconds, 1),
           "final_loss": round(res.losses[-1], 4), "clips": args.clips, "val_auc": {}}
    t0 = time.monotonic()
    for s in args.eval_seeds:
        row["val_auc"][str(s)] = round(evaluate_synthetic(res.net, "digits-s", args.clips, s), 4)
    row["val_auc_mean"] = round(sum(row["val_auc"].values()) / len(row["val_auc"]), 4)
    row["eval_seconds"] = round(time.monotonic() - t0, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(row, indent=2) + "\n")
    print(json.dumps(row))


if __name__ == "__main__":
    main()
