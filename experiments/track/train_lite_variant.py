"""Train a lite SiamFC net with the experiment-only recipe options (not in `cvkit train track --help`).

    python experiments/track/train_lite_variant.py --model sesiamfc-lite --layout s4 --steps 1600 --seed 0 \\
        --out runs/se-twin/se-s4-seed0
    python experiments/track/train_lite_variant.py --model siamfc-lite-plain --scale-label 0.2 --scale-wide 0.5 \\
        --steps 1600 --out runs/plain-scale-label

--layout s2|s4|s8 stops the frozen trunk early (the S-MNIST comparison of the sesiamfc-lite card);
--scale-label/--scale-wide are the scale-aware labels that measured worse (same card). The card's command records
this line, so the comparison nets can be regenerated.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cvkit.device import select_device, set_threads
from cvkit.track.siamfc.train import lite_option_problem
from cvkit.track.train import train_cli


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="sesiamfc-lite")
    ap.add_argument("--data", default="synthetic")
    ap.add_argument("--minutes", type=float, default=25.0)
    ap.add_argument("--steps", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--layout", default="deep")
    ap.add_argument("--scale-label", type=float, default=0.0)
    ap.add_argument("--scale-wide", type=float, default=0.0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    problem = lite_option_problem(args.model, args.scale_label, args.scale_wide, args.layout)
    if problem:
        ap.error(f"{problem[0]}: {problem[1]}")
    set_threads(args.threads)
    train_cli(model=args.model, data=args.data, minutes=args.minutes, out_dir=args.out,
              device=select_device(args.device), seed=args.seed, log=print, steps=args.steps,
              scale_label=args.scale_label, scale_wide=args.scale_wide, layout=args.layout)


if __name__ == "__main__":
    main()
