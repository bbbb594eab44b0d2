"""Clear -> fog comparison on the procedural benchmark: from one source-only checkpoint (phase 1), continue N steps
with each method (same data stream, seed, steps), then score every model on the same held-out fog target test
scenes (and clear source test scenes). Usage: python experiments/detect_adapt/compare.py PHASE1_DIR OUT_DIR STEPS
[N_TEST] [METHOD ...]; writes OUT_DIR/<method>/ (model + card) and OUT_DIR/results.json."""

import json
import os
import sys
import time
from pathlib import Path

import torch

from cvkit.detect_adapt.adapt import AdaptConfig
from cvkit.detect_adapt.evaluate import evaluate_synthetic
from cvkit.detect_adapt.train import train

torch.set_num_threads(1)
SEED = int(os.environ.get("SEED", "1"))  # phase-2 seed (data stream and sampling)
p1, out, steps = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
n_test = int(sys.argv[4]) if len(sys.argv) > 4 else 200
methods = sys.argv[5:] or ["source-only", "photometric", "image-adv", "mcar"]
res_path = out / "results.json"
results = json.loads(res_path.read_text()) if res_path.exists() else {}
for m in methods:
    if m in results:
        continue
    t = time.time()
    model, log, _ = train(out / m, acfg=AdaptConfig(method=m, head_channels=64), steps=steps, init=p1, lr=0.01,
                          seed=SEED, name=f"{m}-synthetic-fog", quiet=True)
    row = {"train_seconds": round(time.time() - t, 1), "steps": steps}
    for split in ("target-test", "source-test"):
        r = evaluate_synthetic(model.detector, split, n_test)
        row[split] = {k: r[k] for k in ("map", "map07", "coco_map")} | {"per_class": r["per_class"]}
    results[m] = row
    print(m, json.dumps(row), flush=True)
    res_path.write_text(json.dumps(results, indent=1))
