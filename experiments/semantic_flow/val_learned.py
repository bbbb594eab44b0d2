"""Validation: learned GSFNet vs the training-free default on synthetic affine+TPS warps of the *validation* split
of the package images (never trained on), PCK@0.05/0.1 (image max side) over a 16 px grid of source points whose
true target lies inside the image.

    PYTHONPATH=. python experiments/semantic_flow/val_learned.py WEIGHTS_DIR [N_PAIRS] > benchmarks/results/x.json
"""

import json
import sys

import cv2
import numpy as np
import torch

from cvkit.semantic_flow.learned import LearnedFlow
from cvkit.semantic_flow.metrics import pck, sample_flow
from cvkit.semantic_flow.predict import SemanticFlow
from cvkit.semantic_flow.synthetic import package_images, split_images, synthetic_pair

torch.set_num_threads(1)
weights = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 24
val = split_images(package_images())[1]
rng = np.random.default_rng(123)
learned = LearnedFlow.from_path(weights)
methods = {"gsf-default": SemanticFlow(), "learned-tau": learned}
scores = {m: {0.05: [], 0.1: []} for m in [*methods, "learned-guidance", "nn"]}
for k in range(n):
    img = cv2.imread(str(val[k % len(val)]))
    src, tgt, flow = synthetic_pair(img, rng, 256)
    ys, xs = np.mgrid[8:256:16, 8:256:16]
    pts = np.stack([xs.ravel(), ys.ravel()], 1).astype(float)
    gt = pts + flow[ys.ravel(), xs.ravel()]
    ok = (gt >= 0).all(1) & (gt <= 255).all(1)
    preds = {"gsf-default": methods["gsf-default"](src, tgt).flow, "nn": methods["gsf-default"](src, tgt, "nn").flow,
             "learned-tau": learned(src, tgt).flow, "learned-guidance": learned(src, tgt, "guidance").flow}
    for m, f in preds.items():
        p = sample_flow(f, pts[ok])
        for a in (0.05, 0.1):
            scores[m][a].append(pck(p, gt[ok], 256, a))
out = {"data": f"{n} synthetic affine+TPS warps (seed 123) of the validation split {[p.name for p in val]}",
       "weights": weights, "pck": {m: {str(a): round(float(np.mean(v)), 4) for a, v in d.items()}
                                   for m, d in scores.items()}}
print(json.dumps(out, indent=2))
