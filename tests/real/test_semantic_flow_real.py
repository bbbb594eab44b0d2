"""Real pairs: graffiti graf1 -> graf3 (true homography) and cross-identity faces (MTCNN landmarks)."""

from __future__ import annotations

import importlib.util
import itertools

import cv2
import numpy as np
import pytest
import torch

from cvkit.semantic_flow.data import read_homography_pairs
from cvkit.semantic_flow.evaluate import dis_flow, evaluate_records, farneback_flow
from cvkit.semantic_flow.metrics import pck, pck_threshold, sample_flow
from cvkit.semantic_flow.predict import SemanticFlow
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def sf() -> SemanticFlow:
    return SemanticFlow()


@pytest.mark.slow
def test_graffiti_pck(sf):
    recs = read_homography_pairs(shared_path("semantic-flow"))
    res = evaluate_records(recs, {"gsf": lambda a, b: sf(a, b).flow, "nn": lambda a, b: sf(a, b, "nn").flow,
                                  "dis": dis_flow, "farneback": farneback_flow}, (0.05, 0.1))["pck"]
    assert res["gsf"]["0.1"] >= 0.85
    assert res["gsf"]["0.05"] >= 0.85
    # NN argmax on the same features is itself strong on this pair (~0.83 at 0.1), so 1.5x is out of reach;
    # the default removes most of its errors instead
    assert 1 - res["gsf"]["0.1"] <= 0.5 * (1 - res["nn"]["0.1"])
    assert 1 - res["gsf"]["0.05"] <= 0.5 * (1 - res["nn"]["0.05"])
    assert res["gsf"]["0.1"] > res["dis"]["0.1"] + 0.2 and res["gsf"]["0.1"] > res["farneback"]["0.1"] + 0.2


@pytest.mark.slow
def test_faces_default_beats_nn_argmax(sf):
    if importlib.util.find_spec("facenet_pytorch") is None:  # not imported: its package __init__ needs torchvision
        pytest.skip("needs facenet-pytorch's MTCNN weights (pip install --no-deps facenet-pytorch==2.6.0)")
    from cvkit.semantic_flow.landmarks import MTCNN

    paths = sorted(shared_path("faces", "ganimation_sample", "imgs").glob("*.jpg"))
    ims = [cv2.imread(str(p)) for p in paths]
    det = MTCNN()
    kps = [det.landmarks(cv2.cvtColor(im, cv2.COLOR_BGR2RGB)) for im in ims]
    assert all(k is not None for k in kps)
    scores = {"identity": [], "nn": [], "gsf": []}
    with torch.inference_mode():
        for i, j in itertools.permutations(range(len(ims)), 2):
            thr = pck_threshold("img", image_hw=ims[j].shape[:2])
            scores["identity"].append(pck(kps[i], kps[j], thr, 0.1))
            res = sf.flows(ims[i], ims[j], ("nn", "gsf"))
            for m in ("nn", "gsf"):
                scores[m].append(pck(sample_flow(res[m].flow, kps[i]), kps[j], thr, 0.1))
    mean = {m: float(np.mean(v)) for m, v in scores.items()}
    assert mean["gsf"] > mean["nn"] + 0.2
    assert mean["gsf"] >= mean["identity"]
