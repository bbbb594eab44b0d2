"""End-to-end `cvkit semantic-flow` / `evaluate semantic-flow` through the CLI on small generated pairs."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from cvkit.semantic_flow.flo import read_flow
from cvkit.semantic_flow.metrics import homography_points
from tests.cli.helpers import cvkit

H = np.array([[0.8, 0.1, 20.0], [-0.05, 0.85, 15.0], [0.0, 0.0, 1.0]])


def cvkit_inprocess(*args: str) -> tuple[int, str]:
    """Run the app in this process (fast error paths): (exit code, stdout + stderr)."""
    r = cvkit(*args)
    return r.returncode, r.stdout + r.stderr


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[Path, Path]:
    """A natural image (scikit-image's chelsea, 240x300) and its homography warp at another size (200x260)."""
    from skimage import data

    d = tmp_path_factory.mktemp("pair")
    src = cv2.cvtColor(cv2.resize(data.chelsea(), (300, 240)), cv2.COLOR_RGB2BGR)
    tgt = cv2.warpPerspective(src, H, (260, 200))
    cv2.imwrite(str(d / "src.png"), src)
    cv2.imwrite(str(d / "tgt.png"), tgt)
    return d / "src.png", d / "tgt.png"


@pytest.mark.slow
def test_flow_outputs_and_keypoints(pair, tmp_path):
    src, tgt = pair
    kps = tmp_path / "kps.csv"
    pts = np.array([[100.0, 80.0], [150.0, 120.0], [200.0, 100.0]])
    kps.write_text("x,y\n" + "\n".join(f"{x},{y}" for x, y in pts) + "\n")
    r = cvkit("semantic-flow", str(src), str(tgt), "-o", str(tmp_path / "f.flo"), "--warp", str(tmp_path / "w.png"),
              "--viz", str(tmp_path / "v.png"), "--matches", str(tmp_path / "m.csv"), "--keypoints", str(kps),
              "--size", "256", "--threads", "1", "--json")
    assert r.returncode == 0, r.stderr
    flow = read_flow(tmp_path / "f.flo")
    assert flow.shape == (240, 300, 2)
    assert cv2.imread(str(tmp_path / "w.png")).shape[:2] == (200, 260)
    assert cv2.imread(str(tmp_path / "v.png")) is not None
    assert (tmp_path / "m.csv").read_text().startswith("x_source,y_source,x_target,y_target,kept")
    summary = json.loads(r.stdout.splitlines()[0])
    moved = np.array(summary["keypoints"])[:, 2:]
    err = np.linalg.norm(moved - homography_points(H, pts), axis=1)
    assert np.median(err) < 0.1 * 260


@pytest.mark.slow
def test_npy_output_and_nn_model(pair, tmp_path):
    src, tgt = pair
    r = cvkit("semantic-flow", str(src), str(tgt), "-o", str(tmp_path / "f.npy"), "--model", "nn", "--size", "128",
              "--threads", "1", "-q")
    assert r.returncode == 0, r.stderr
    assert np.load(tmp_path / "f.npy").shape == (240, 300, 2)


def test_bad_inputs_exit_codes_and_no_partial_output(pair, tmp_path):
    src, tgt = pair
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    out = tmp_path / "out"
    out.mkdir()
    code, err = cvkit_inprocess("semantic-flow", str(bad), str(tgt), "-o", str(out / "f.flo"))
    assert code == 3 and "bad.png" in err
    kps = tmp_path / "k.csv"
    kps.write_text("x,y\n10,10\n5000,10\n")
    code, err = cvkit_inprocess("semantic-flow", str(src), str(tgt), "-o", str(out / "f.flo"),
                                "--keypoints", str(kps))
    assert code == 3 and "outside" in err
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"source,target\n{src},{tgt}\n{src}\n")
    code, err = cvkit_inprocess("semantic-flow", "--pairs", str(pairs), "-o", str(out))
    assert code == 3 and "line 3" in err
    code, _ = cvkit_inprocess("semantic-flow", str(src), str(tgt), "-o", str(out / "f.txt"))
    assert code == 4
    code, _ = cvkit_inprocess("semantic-flow", str(src), str(tgt), "-o", str(src))
    assert code == 4
    assert list(out.iterdir()) == []


@pytest.mark.slow
def test_pairs_batch(pair, tmp_path):
    src, tgt = pair
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"source,target\n{src},{tgt}\n{tgt},{src}\n")
    r = cvkit("semantic-flow", "--pairs", str(pairs), "-o", str(tmp_path / "flows"), "--size", "128",
              "--threads", "1", "--json")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 2
    assert read_flow(tmp_path / "flows" / "src__tgt.flo").shape == (240, 300, 2)
    assert read_flow(tmp_path / "flows" / "tgt__src.flo").shape == (200, 260, 2)


@pytest.mark.slow
def test_evaluate_homography_layout(pair, tmp_path):
    src, tgt = pair
    d = tmp_path / "h"
    d.mkdir()
    (d / "img1.png").write_bytes(src.read_bytes())
    (d / "img2.png").write_bytes(tgt.read_bytes())
    np.savetxt(d / "H1to2p", H)
    r = cvkit("evaluate", "semantic-flow", "--dataset", "homography", "--root", str(d), "--methods",
              "gsf,identity", "--size", "256", "--threads", "1", "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["pck"]["gsf"]["0.1"] > res["pck"]["identity"]["0.1"]


def test_help_lists_examples():
    code, text = cvkit_inprocess("semantic-flow", "--help")
    assert code == 0 and "cvkit semantic-flow graf1.png" in text


@pytest.mark.slow
def test_train_then_use_learned_model(pair, tmp_path):
    src, tgt = pair
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    (imgs / "a.png").write_bytes(src.read_bytes())
    code, text = cvkit_inprocess("train", "semantic-flow", "--image-size", "64", "--width", "4",
                                 "--stage1-steps", "1", "--stage2-steps", "1", "--batch", "2", "--root", str(imgs),
                                 "-o", str(tmp_path / "m"), "--threads", "1")
    assert code == 0, text
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    assert card["config"]["image_size"] == 64 and card["task"] == "semantic-flow"
    code, text = cvkit_inprocess("semantic-flow", str(src), str(tgt), "-o", str(tmp_path / "f.flo"),
                                 "--model", str(tmp_path / "m"), "--threads", "1")
    assert code == 0, text
    assert read_flow(tmp_path / "f.flo").shape == (240, 300, 2)
    (tmp_path / "m" / "weights.safetensors").write_bytes(b"garbage")
    code, text = cvkit_inprocess("semantic-flow", str(src), str(tgt), "-o", str(tmp_path / "g.flo"),
                                 "--model", str(tmp_path / "m"))
    assert code == 5 and not (tmp_path / "g.flo").exists()
