"""Cross-identity faces (../shared/data/faces/ganimation_sample, 12 ordered pairs): PCK@0.05/0.1 (target image max
side) of the 5 MTCNN landmarks (facenet-pytorch weights) transferred by identity flow, NN argmax and the default.

    PYTHONPATH=. python experiments/semantic_flow/faces_eval.py > benchmarks/results/semantic_flow_faces.json
"""

import itertools
import json
from pathlib import Path

import cv2
import numpy as np
import torch

from cvkit.semantic_flow.landmarks import MTCNN
from cvkit.semantic_flow.metrics import pck, pck_threshold, sample_flow
from cvkit.semantic_flow.predict import SemanticFlow

torch.set_num_threads(1)
paths = sorted(Path("../shared/data/faces/ganimation_sample/imgs").glob("*.jpg"))
ims = [cv2.imread(str(p)) for p in paths]
det = MTCNN()
kps = [det.landmarks(cv2.cvtColor(im, cv2.COLOR_BGR2RGB)) for im in ims]
sf = SemanticFlow()
scores = {m: {0.05: [], 0.1: []} for m in ("identity", "nn", "guidance", "gsf")}
for i, j in itertools.permutations(range(len(ims)), 2):
    thr = pck_threshold("img", image_hw=ims[j].shape[:2])
    res = sf.flows(ims[i], ims[j], ("nn", "guidance", "gsf"))
    preds = {"identity": kps[i], **{m: sample_flow(r.flow, kps[i]) for m, r in res.items()}}
    for m, p in preds.items():
        for a in (0.05, 0.1):
            scores[m][a].append(pck(p, kps[j], thr, a))
print(json.dumps({"data": "ganimation_sample 4 faces, 12 ordered cross-identity pairs, 5 MTCNN landmarks",
                  "threshold": "alpha * max(h, w) of the target image (128 px)",
                  "command": "PYTHONPATH=. python experiments/semantic_flow/faces_eval.py",
                  "pck": {m: {str(a): round(float(np.mean(v)), 4) for a, v in d.items()} for m, d in scores.items()}},
                 indent=2))
