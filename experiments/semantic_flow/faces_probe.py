import itertools
import sys

import cv2
import numpy as np
import torch

torch.set_num_threads(1)
from pathlib import Path

from cvkit.semantic_flow.landmarks import MTCNN
from cvkit.semantic_flow.metrics import pck, pck_threshold, sample_flow
from cvkit.semantic_flow.predict import GSFParams, SemanticFlow

imgs = sorted(Path("../shared/data/faces/ganimation_sample/imgs").glob("*.jpg"))
det = MTCNN()
ims = [cv2.imread(str(p)) for p in imgs]
kps = [det.landmarks(cv2.cvtColor(im, cv2.COLOR_BGR2RGB)) for im in ims]
for p, k in zip(imgs, kps): print(p.name, None if k is None else k.round(1).tolist())
kw = eval("dict(" + (sys.argv[1] if len(sys.argv) > 1 else "") + ")")
sf = SemanticFlow(GSFParams(**kw))
res = {m: [] for m in ["identity", "nn-coarse", "nn", "guidance", "gsf"]}
for i, j in itertools.permutations(range(4), 2):
    thr = pck_threshold("img", image_hw=ims[j].shape[:2])
    for m in res:
        if m == "identity": pred = kps[i]
        else: pred = sample_flow(sf(ims[i], ims[j], m).flow, kps[i])
        res[m].append(pck(pred, kps[j], thr, 0.1))
for m, v in res.items(): print(m, round(float(np.mean(v)), 3))
