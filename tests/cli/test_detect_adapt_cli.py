"""End-to-end `cvkit train|evaluate detect-adapt` and `cvkit detect-adapt` on a tiny model and generated images."""

from __future__ import annotations

import contextlib
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from cvkit.detect_adapt.synthetic import CLASSES, sample

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def cvkit(*args) -> Result:
    """Run `cvkit ARGS` in this process (the app's own error -> exit code mapping), capturing both streams."""
    from cvkit_cli import main as m
    from cvkit_cli._options import run_guarded

    if "detect-adapt" not in {c.name for c in m.app.registered_commands}:
        from cvkit_cli import detect_adapt

        detect_adapt.register(m.app, m.train_app, m.evaluate_app)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_guarded(lambda: m.app([str(a) for a in args], standalone_mode=False))
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("da")
    imgs = d / "imgs"
    (imgs / "sub").mkdir(parents=True)
    for i in range(3):
        s = sample("target-test", i)
        p = imgs / ("sub" if i == 2 else "") / f"f{i}.png"
        cv2.imwrite(str(p), (s.image[:, :, ::-1] * 255).astype(np.uint8))
        obj = "".join(f"<object><name>{CLASSES[c]}</name><bndbox><xmin>{int(b[0]) + 1}</xmin><ymin>{int(b[1]) + 1}"
                      f"</ymin><xmax>{int(b[2])}</xmax><ymax>{int(b[3])}</ymax></bndbox></object>\n"
                      for b, c in zip(s.boxes, s.labels, strict=True))
        p.with_suffix(".xml").write_text(f"<annotation>\n{obj}</annotation>\n")
    r = cvkit("train", "detect-adapt", "--data", f"folder:{imgs}", "--target", imgs, "--backbone", "tiny",
              "--classes", ",".join(CLASSES), "--min-size", 96, "--source-steps", 1, "--steps", 1, "--batch", 1,
              "--method", "mcar", "-o", d / "model", "--quiet")
    assert r.returncode == 0, r.stderr
    card = json.loads((d / "model" / "card.json").read_text())
    assert (d / "model" / "source-only" / "card.json").exists() and card["training"]["init"].endswith("source-only")
    return d


def test_batch_detect_writes_voc_overlays_and_json_lines(work):
    r = cvkit("detect-adapt", work / "imgs", "-o", work / "dets", "--format", "voc", "--model", work / "model",
              "--score-thr", 0, "--overlay", work / "ov", "--json", "--classes", "car,truck", "--quiet")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(lines) == 3 and all(d["label"] in ("car", "truck") for x in lines for d in x["detections"])
    for p in ("f0", "f1", "sub/f2"):
        ET.parse(work / "dets" / f"{p}.xml")
        assert cv2.imread(str(work / "ov" / f"{p}.png")) is not None


def test_single_image_coco_json_reparses(work):
    out = work / "one.json"
    r = cvkit("detect-adapt", work / "imgs" / "f0.png", "-o", out, "--model", work / "model", "--score-thr", 0,
              "--quiet")
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    assert doc["images"][0]["width"] == 128 and [c["name"] for c in doc["categories"]] == list(CLASSES)


def test_evaluate_folder_dataset(work):
    r = cvkit("evaluate", "detect-adapt", "--dataset", "folder", "--root", work / "imgs", "--model", work / "model",
              "--json", "--quiet")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["images"] == 3 and 0.0 <= rep["map"] <= 1.0 and 0.0 <= rep["coco_map"] <= 1.0


def test_bad_inputs_exit_3(work, tmp_path):
    bad = tmp_path / "src"
    bad.mkdir()
    cv2.imwrite(str(bad / "a.png"), np.zeros((32, 32, 3), np.uint8))
    (bad / "a.xml").write_text("<annotation>\n<object><name>car</name>\n<bndbox><xmin>1</xmin></annotation>\n")
    r = cvkit("train", "detect-adapt", "--source", f"folder:{bad}", "--backbone", "tiny", "--classes", "car",
              "--steps", 1, "-o", tmp_path / "m")
    assert r.returncode == 3 and "a.xml:" in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = cvkit("train", "detect-adapt", "--target", empty, "--steps", 1, "-o", tmp_path / "m2")
    assert r.returncode == 3 and "empty" in r.stderr
    r = cvkit("detect-adapt", work / "imgs", "-o", work / "d2", "--model", work / "model", "--classes", "dog")
    assert r.returncode == 4
