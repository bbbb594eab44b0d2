"""Usage: PYTHONPATH=. python experiments/semantic_flow/stress_probe.py "" zoom0.5,zoom2,rot20,rot45,rot90,persp

Stress: known homographies (zoom in/out, rotation, perspective) applied to package images; PCK@0.05/0.1."""
import sys

import cv2
import numpy as np
import torch
from skimage import data

from cvkit.semantic_flow.metrics import homography_grid, pck, sample_flow
from cvkit.semantic_flow.predict import GSFParams, SemanticFlow

torch.set_num_threads(1)

imgs = {"astronaut": data.astronaut(), "coffee": data.coffee(), "chelsea": data.chelsea()}
kw = eval("dict(" + (sys.argv[1] if len(sys.argv) > 1 else "") + ")")
sf = SemanticFlow(GSFParams(**kw))


def hom(kind, w, h):
    c = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1.0]])
    ci = np.linalg.inv(c)
    if kind.startswith("zoom"):
        s = float(kind[4:])
        return ci @ np.diag([s, s, 1]) @ c
    if kind.startswith("rot"):
        a = np.deg2rad(float(kind[3:]))
        return ci @ np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]]) @ c
    if kind == "persp":
        return ci @ np.array([[0.9, 0.2, 0], [-0.1, 0.8, 0], [0.0008, 0.0004, 1]]) @ c


res = {}
for kind in sys.argv[2].split(","):
    for rgb in imgs.values():
        a = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        h, w = a.shape[:2]
        H = hom(kind, w, h)
        b = cv2.warpPerspective(a, H, (w, h))
        src, gt = homography_grid(H, (h, w), (h, w), step=16, margin=8)
        out = sf.flows(a, b, ("nn", "gsf"))
        for m, r in out.items():
            p = sample_flow(r.flow, src)
            res.setdefault((kind, m), []).append(pck(p, gt, max(h, w), 0.05))
for (kind, m), v in res.items():
    print(kind, m, np.round(v, 3), round(float(np.mean(v)), 3))
