"""SE-SiamFC's claim on our data: `sesiamfc-lite` vs its non-equivariant twin trained with the same budget.

Both nets come from `cvkit train track --model sesiamfc-lite|siamfc-lite-plain --data synthetic --steps N
--seed 0` (same data stream, same number of steps and pairs); this script checks that their cards agree on
that budget, scores both (and the training-free `siam-lite`) on the same held-out S-MNIST-like clips
(`digits-s`, seeds never used in training) and on the real VOT2015 `bag` sequence when present, and writes
JSON. `--update-card` also records the twin's numbers in the SE asset's card (the issue asks for both AUCs
there).

    cvkit train track --model siamfc-lite-plain --data synthetic --steps 1600 --seed 0 --out runs/siamfc-lite-plain
    python experiments/track/bench_se_twin.py --plain runs/siamfc-lite-plain \\
        --out experiments/track/results/bench_se_twin.json

The S-MNIST-style comparison with the shallow `s4` layout (frozen trunk to stride 4, three trained neck layers):

    python experiments/track/train_lite_variant.py --model sesiamfc-lite --layout s4 --data synthetic \\
        --steps 1600 --seed 0 --out runs/se-s4
    python experiments/track/train_lite_variant.py --model siamfc-lite-plain --layout s4 --data synthetic \\
        --steps 1600 --seed 0 --out runs/plain-s4
    python experiments/track/bench_se_twin.py --se runs/se-s4 --plain runs/plain-s4 \
        --out experiments/track/results/bench_se_twin_s4.json

The JSON holds each net's mean AUC and the paired per-clip difference (SE minus twin, same clips).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI does
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BAG = ROOT.parent / "shared" / "data" / "track" / "vot15_bag"
BUDGET_KEYS = ("steps", "pairs", "batch", "data", "seed")


def _budget(card: dict) -> dict:
    training = card.get("training", {})
    return {k: training.get(k) for k in BUDGET_KEYS}


def compare(se_dir: Path, plain_dir: Path, clips: int, bag: Path | None, threads: int,
            scale_axis: bool = False, eval_seed: int = 0, siam_lite: bool = True) -> dict:
    """Score both nets (and siam-lite) on the same held-out clips and on `bag`; return a JSON-able dict."""
    import torch

    from cvkit.assets import asset_from_path
    from cvkit.track.metrics import paired_difference
    from cvkit.track.siamfc.siam_lite import SiamLiteNet
    from cvkit.track.siamfc.train import (
        evaluate_synthetic,
        evaluate_vot_folder,
        load_trained,
        synthetic_aucs,
        synthetic_tracker_kwargs,
    )

    torch.set_num_threads(threads)
    cards = {"sesiamfc-lite": asset_from_path(se_dir).card, "siamfc-lite-plain": asset_from_path(plain_dir).card}
    budgets = {k: _budget(c) for k, c in cards.items()}
    nets = {"sesiamfc-lite": load_trained(se_dir), "siamfc-lite-plain": load_trained(plain_dir)}
    if siam_lite:
        nets["siam-lite"] = SiamLiteNet()
    out: dict = {"se": str(se_dir), "plain": str(plain_dir), "configs": {k: c.get("config") for k, c in cards.items()},
                 "commands": {k: c.get("training", {}).get("command") for k, c in cards.items()},
                 "pairs_configs": {k: c.get("training", {}).get("pairs_config") for k, c in cards.items()},
                 "clips": clips, "eval_seed": eval_seed, "threads": threads, "budgets": budgets,
                 "same_budget": budgets["sesiamfc-lite"] == budgets["siamfc-lite-plain"],
                 "same_pairs_config": out_pairs_same(cards), "models": {}}
    per_clip: dict[str, list[float]] = {}
    for name, net in nets.items():
        t0 = time.monotonic()
        # --scale-axis: sesiamfc-lite also reads the size from its features' scale axis (ScaleAxisTracker)
        kwargs = synthetic_tracker_kwargs(net) if scale_axis else {}
        per_clip[name] = synthetic_aucs(net.eval(), "digits-s", clips, eval_seed, **kwargs)
        row = {"digits_s_auc": round(float(np.mean(per_clip[name])), 4)}
        if kwargs:  # the same net with the scale pyramid alone, as its twin is run
            row["digits_s_auc_pyramid_only"] = round(evaluate_synthetic(net, "digits-s", clips, eval_seed), 4)
        row["digits_s_tracker"] = "ScaleAxisTracker " + str({k: v for k, v in kwargs.items() if k != "tracker_cls"}) \
            if kwargs else "SiamFCTracker"
        if bag is not None and bag.is_dir():
            r = evaluate_vot_folder(net, bag)
            row.update(bag_auc=round(r["auc"], 4), bag_p20=round(r["p20"], 4), bag_mean_iou=round(r["mean_iou"], 4))
        row["seconds"] = round(time.monotonic() - t0, 1)
        out["models"][name] = row
        print(name, row, file=sys.stderr)
    se, plain = out["models"]["sesiamfc-lite"], out["models"]["siamfc-lite-plain"]
    out["se_beats_twin_on_digits_s"] = se["digits_s_auc"] > plain["digits_s_auc"]
    out["paired_se_minus_twin"] = paired_difference(per_clip["sesiamfc-lite"], per_clip["siamfc-lite-plain"])
    return out


def out_pairs_same(cards: dict) -> bool:
    """Whether both cards record the same pair recipe (response size aside), e.g. the same scale-aware label."""
    cfgs = [dict(c.get("training", {}).get("pairs_config") or {}) for c in cards.values()]
    for c in cfgs:
        c.pop("response_size", None)
    return cfgs[0] == cfgs[1]


def update_card(se_dir: Path, result: dict) -> None:
    """Record both nets' held-out AUCs (and bag AUCs) in the SE asset's card.json under `comparison`."""
    path = se_dir / "card.json"
    card = json.loads(path.read_text())
    card["comparison"] = {
        "what": "sesiamfc-lite vs its non-equivariant twin siamfc-lite-plain trained with the same budget "
                "(experiments/track/bench_se_twin.py)",
        "budget": result["budgets"]["siamfc-lite-plain"],
        "results": result["models"],
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(card, indent=2) + "\n")
    tmp.replace(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--se", type=Path, default=ROOT / "assets" / "track" / "sesiamfc-lite")
    ap.add_argument("--plain", type=Path, default=ROOT / "runs" / "siamfc-lite-plain")
    ap.add_argument("--clips", type=int, default=50)
    ap.add_argument("--bag", default=str(DEFAULT_BAG), help="VOT bag folder; empty string: skip")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=ROOT / "experiments" / "track" / "results" / "bench_se_twin.json")
    ap.add_argument("--update-card", action="store_true", help="also write the comparison into the SE card")
    ap.add_argument("--scale-axis", action="store_true",
                    help="score sesiamfc-lite on digits-s with the scale-axis size read-out (ScaleAxisTracker, "
                         "train.SYNTHETIC_SCALE_AXIS) and with the pyramid alone; the twin has no scale axis")
    ap.add_argument("--eval-seed", type=int, default=0,
                    help="digits-s evaluation seed (0: the test clips; others: a further held-out set)")
    ap.add_argument("--no-siam-lite", action="store_true", help="score the two trained nets only")
    args = ap.parse_args()
    bag = Path(args.bag) if args.bag else None
    result = compare(args.se, args.plain, args.clips, bag, args.threads, args.scale_axis, args.eval_seed,
                     not args.no_siam_lite)
    if not result["same_budget"]:
        print(f"warning: the two nets were trained with different budgets: {result['budgets']}", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    if args.update_card:
        update_card(args.se, result)
    print(json.dumps(result["models"], indent=2))


if __name__ == "__main__":
    main()
