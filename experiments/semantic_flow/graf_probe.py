import sys
import time

import cv2
import numpy as np
import torch

torch.set_num_threads(1)
from cvkit.semantic_flow.metrics import homography_grid, pck, sample_flow
from cvkit.semantic_flow.predict import GSFParams, SemanticFlow

d = "../shared/data/semantic-flow/"
a = cv2.imread(d + "graf1.png"); b = cv2.imread(d + "graf3.png")
fs = cv2.FileStorage(d + "H1to3p.xml", cv2.FILE_STORAGE_READ); H = fs.getNode("H13").mat()
src, gt = homography_grid(H, a.shape[:2], b.shape[:2], step=16)
thr = max(b.shape[:2])
kw = eval("dict(" + (sys.argv[1] if len(sys.argv) > 1 else "") + ")")
sf = SemanticFlow(GSFParams(**kw))
for m in ["nn-coarse", "nn", "guidance", "gsf"]:
    t = time.time(); r = sf(a, b, m); dt = time.time() - t
    p = sample_flow(r.flow, src)
    print(m, len(src), f"{pck(p, gt, thr, .05):.3f} {pck(p, gt, thr, .1):.3f}", f"{dt:.2f}s", r.extras)
    print("   epe", np.median(np.linalg.norm(p - gt, axis=1)).round(2), "pck.01/.02", pck(p, gt, thr, .01), pck(p, gt, thr, .02))
