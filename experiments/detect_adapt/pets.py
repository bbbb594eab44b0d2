"""PETS2009 S2L1 persons (real): VOC AP@0.5 (all-point) of OpenCV's HOG people detector and of a detect-adapt model
(before / after unsupervised MCAR adaptation on the video's frames; boxes used for scoring only).
Usage: python experiments/detect_adapt/pets.py MODEL_DIR [ADAPT_STEPS] [EVERY] -> JSON on stdout."""

import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from cvkit.detect_adapt.adapt import AdaptConfig
from cvkit.detect_adapt.cvml import hog_people, read_cvml, read_frames
from cvkit.detect_adapt.metrics import voc_map
from cvkit.detect_adapt.registry import load_predictor
from cvkit.detect_adapt.train import train

torch.set_num_threads(1)
DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "pets2009"
model_dir, steps = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
every = int(sys.argv[3]) if len(sys.argv) > 3 else 20
gt_all = read_cvml(DATA / "PETS2009-S2L1.xml")
idx = list(range(0, 795, every))
frames = read_frames(DATA / "vtest.avi", idx)
gts = [{"boxes": gt_all.get(i, np.zeros((0, 4))), "labels": np.zeros(len(gt_all.get(i, [])), np.int64)} for i in idx]


def score_model(path: str) -> float:
    pred = load_predictor(path, torch.device("cpu"))
    person = pred.class_names.index("person")
    dets = []
    for f in frames:
        d = pred.detect([torch.from_numpy(f.astype(np.float32) / 255).permute(2, 0, 1)], 0.01)[0]
        keep = d["labels"] == person
        dets.append({"boxes": d["boxes"][keep].numpy(), "scores": d["scores"][keep].numpy(),
                     "labels": np.zeros(int(keep.sum()), np.int64)})
    return voc_map(gts, dets, 1)["map"]


out = {"frames": len(frames), "every": every}
t = time.time()
out["hog_ap50"] = voc_map(gts, [hog_people(f) for f in frames], 1)["map"]
out["hog_seconds"] = round(time.time() - t, 1)
out["model_before_ap50"] = score_model(model_dir)
if steps:
    with tempfile.TemporaryDirectory() as tmp:
        tdir = Path(tmp) / "frames"
        tdir.mkdir()
        for k, f in zip(idx, frames, strict=True):
            cv2.imwrite(str(tdir / f"{k:04d}.png"), f[:, :, ::-1])
        card = json.loads((Path(model_dir) / "card.json").read_text())
        from cvkit.detect_adapt.detector import DetectorConfig

        cfg = DetectorConfig.from_dict(card["config"]["detector"])
        train(Path(tmp) / "adapted", source="synthetic", target=str(tdir),
              acfg=AdaptConfig(method="mcar", head_channels=card["config"]["adapt"]["head_channels"]), cfg=cfg,
              steps=steps, init=model_dir, seed=2, quiet=True)
        out["model_after_ap50"] = score_model(str(Path(tmp) / "adapted"))
        out["adapt_steps"] = steps
print(json.dumps(out))
