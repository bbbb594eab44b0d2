"""Dataset layout readers on tiny fixtures in each benchmark's format."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from cvkit.errors import InputError
from cvkit.semantic_flow.data import read_homography_pairs, read_pf_pascal, read_pf_willow, read_spair
from cvkit.semantic_flow.evaluate import evaluate_records, identity_flow, record_threshold


def test_pf_willow_hpf_csv(tmp_path):
    base = tmp_path / "PF-WILLOW"
    (base / "car(G)").mkdir(parents=True)
    xs_a, ys_a = np.arange(10) * 3.0, np.arange(10) * 2.0
    row = ["PF-dataset/car(G)/a.png", "PF-dataset/car(G)/b.png", *xs_a, *ys_a, *(xs_a + 1), *(ys_a + 5)]
    (base / "test_pairs.csv").write_text("imageA,imageB," + ",".join(f"c{i}" for i in range(40)) + "\n"
                                         + ",".join(str(v) for v in row) + "\n")
    recs = read_pf_willow(tmp_path)
    assert len(recs) == 1 and recs[0].source == base / "car(G)" / "a.png"
    assert np.allclose(recs[0].src_kps[3], [9, 6]) and np.allclose(recs[0].trg_kps[3], [10, 11])
    assert recs[0].thres_kind == "kpbox" and record_threshold(recs[0], (100, 100)) == 27  # 10 keypoints' box


def test_pf_pascal_rocco_csv(tmp_path):
    (tmp_path / "JPEGImages").mkdir()
    (tmp_path / "test_pairs_pf_pascal.csv").write_text(
        "source_image,target_image,class,XA,YA,XB,YB\n"
        "PF-dataset-PASCAL/JPEGImages/s.jpg,PF-dataset-PASCAL/JPEGImages/t.jpg,7,1;2,3;4,5;6,7;8\n")
    (rec,) = read_pf_pascal(tmp_path)
    assert rec.category == "car" and rec.source.name == "s.jpg"
    assert np.allclose(rec.src_kps, [[1, 3], [2, 4]]) and np.allclose(rec.trg_kps, [[5, 7], [6, 8]])
    assert record_threshold(rec, (300, 500, 3)) == 500


def test_spair_json(tmp_path):
    base = tmp_path / "SPair-71k"
    (base / "Layout" / "large").mkdir(parents=True)
    (base / "PairAnnotation" / "test").mkdir(parents=True)
    (base / "Layout" / "large" / "test.txt").write_text("0-a-b:cat\n")
    ann = {"category": "cat", "src_imname": "a.jpg", "trg_imname": "b.jpg", "src_kps": [[1, 2], [3, 4]],
           "trg_kps": [[5, 6], [7, 8]], "trg_bndbox": [10, 20, 110, 60]}
    (base / "PairAnnotation" / "test" / "0-a-b:cat.json").write_text(json.dumps(ann))
    (rec,) = read_spair(tmp_path)
    assert rec.source == base / "JPEGImages" / "cat" / "a.jpg" and record_threshold(rec, (1, 1)) == 100


def test_homography_layout_and_identity_eval(tmp_path):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (64, 80, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "img1.png"), img)
    cv2.imwrite(str(tmp_path / "img2.png"), img)
    np.savetxt(tmp_path / "H1to2p", np.eye(3))
    (rec,) = read_homography_pairs(tmp_path, step=8)
    assert rec.source.name == "img1.png" and rec.target.name == "img2.png" and len(rec.src_kps) == 80
    res = evaluate_records([rec], {"identity": identity_flow}, (0.01,))
    assert res["pck"]["identity"]["0.01"] == 1.0


def test_missing_layout_is_an_input_error(tmp_path):
    for reader in (read_pf_pascal, read_pf_willow, read_spair, read_homography_pairs):
        with pytest.raises(InputError):
            reader(tmp_path)
