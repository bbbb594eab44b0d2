"""detect-adapt speed: images/s of the detector at 512 px inference, and seconds per training step of each method
(source-only, image-adv, mcar) with the shipped small configuration (batch 4 source + 4 target synthetic scenes).

    python benchmarks/bench_detect_adapt.py --model assets/detect-adapt/mcar-synthetic-fog \\
        --out benchmarks/results/bench_detect_adapt.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(ROOT / "assets" / "detect-adapt" / "mcar-synthetic-fog"))
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bench_detect_adapt.json"))
    args = ap.parse_args()
    import torch

    from cvkit.detect_adapt.adapt import AdaptConfig, step_losses
    from cvkit.detect_adapt.registry import load_predictor
    from cvkit.detect_adapt.train import synthetic_sample

    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    pred = load_predictor(args.model, dev)
    cfg = pred.model.detector.cfg
    cfg.min_size, cfg.max_size = 512, 512  # 512 px inference
    imgs = [synthetic_sample("target-test", i).image for i in range(args.images)]
    pred.detect(imgs[:1])
    t = time.perf_counter()
    for im in imgs:
        pred.detect([im])
    infer = args.images / (time.perf_counter() - t)
    cfg.min_size, cfg.max_size = 192, 192
    model = pred.model.train()
    g = torch.Generator().manual_seed(0)
    steps = {}
    for method in ("source-only", "image-adv", "mcar"):
        acfg = AdaptConfig(method=method, head_channels=model.multilabel.fc.in_features)
        times = []
        for s in range(args.steps + 1):
            src = [synthetic_sample("source-train", 4 * s + j) for j in range(4)]
            tgt = [synthetic_sample("target-train", 4 * s + j).image.to(dev) for j in range(4)]
            t = time.perf_counter()
            losses = step_losses(model, acfg, [x.image.to(dev) for x in src], [x.boxes for x in src],
                                 [x.labels for x in src], tgt, g)
            losses["total"].backward()
            model.zero_grad()
            times.append(time.perf_counter() - t)
        steps[method] = round(sum(times[1:]) / args.steps, 3)
    rep = {"images_per_second_512px": round(infer, 2), "seconds_per_step": steps, "threads": args.threads,
           "device": str(dev), "machine": platform.processor() or platform.machine(),
           "note": "shared 2-core CPU machine under load from other jobs: timings are pessimistic"}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rep, indent=1))
    print(json.dumps(rep))


if __name__ == "__main__":
    main()
