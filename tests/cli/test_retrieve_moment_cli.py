"""End-to-end `cvkit retrieve-moment` through the CLI on small generated videos."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.cli.helpers import cvkit

ROOT = Path(__file__).resolve().parents[2]


def write_video(path: Path, seconds: float, fps: float = 10.0) -> Path:
    """A small clip: a red disc moving right over grey."""
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (96, 64))
    for i in range(int(seconds * fps)):
        f = np.full((64, 96, 3), 110, np.uint8)
        cv2.circle(f, (10 + i % 80, 32), 8, (40, 40, 220), -1)
        w.write(f)
    w.release()
    return path


def test_prior_model_outputs(tmp_path):
    v = write_video(tmp_path / "a.avi", 12)
    r = cvkit("retrieve-moment", str(v), "a red ball rolls", "--model", "prior", "--top", "3",
              "-o", str(tmp_path / "m.jsonl"), "--srt", str(tmp_path / "m.srt"), "--cache", str(tmp_path / "c"))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("1\t")
    rec = json.loads((tmp_path / "m.jsonl").read_text())
    assert rec["query"] == "a red ball rolls" and rec["duration"] == pytest.approx(12, abs=0.2)
    starts = [m["start"] for m in rec["moments"]]
    assert all(0 <= m["start"] < m["end"] <= rec["duration"] + 1e-6 for m in rec["moments"]) and len(starts) == 3
    assert (tmp_path / "m.srt").read_text().startswith("1\n00:00:")


@pytest.mark.parametrize("case", ["empty-query", "zero-length", "corrupt", "too-short", "missing"])
def test_bad_inputs_exit_codes_and_no_partial_output(tmp_path, case):
    v = write_video(tmp_path / "a.avi", 12)
    query = "a person opens the door"
    if case == "empty-query":
        query = "   "
    elif case == "zero-length":
        v = tmp_path / "z.mp4"
        v.write_bytes(b"")
    elif case == "corrupt":
        v = tmp_path / "c.mp4"
        v.write_bytes(np.random.default_rng(0).bytes(5000))
    elif case == "too-short":
        v = write_video(tmp_path / "s.avi", 0.5)
    elif case == "missing":
        v = tmp_path / "nope.mp4"
    out = tmp_path / "out"
    r = cvkit("retrieve-moment", str(v), query, "--model", "prior", "-o", str(out / "m.jsonl"),
              "--srt", str(out / "m.srt"))
    assert r.returncode == (4 if case == "empty-query" else 3), r.stderr
    assert "error" in r.stderr
    if case != "empty-query":
        assert v.name in r.stderr
    assert not out.exists() or not any(out.iterdir())


def test_folder_ranks_across_videos_and_reports_failures(tmp_path):
    d = tmp_path / "videos"
    d.mkdir()
    write_video(d / "a.avi", 12)
    write_video(d / "b.avi", 20)
    (d / "broken.mp4").write_bytes(b"")
    q = tmp_path / "q.txt"
    q.write_text("a red ball\n# comment\n\na disc moves right\n")
    r = cvkit("retrieve-moment", str(d), "--queries", str(q), "--model", "prior", "--json", "--top", "4")
    assert r.returncode == 6 and "broken.mp4" in r.stderr
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["query"] for x in recs] == ["a red ball", "a disc moves right"]
    assert recs[0]["videos"] == 2 and len(recs[0]["moments"]) == 4
    assert {m["video"] for m in recs[0]["moments"]} <= {str(d / "a.avi"), str(d / "b.avi")}
    scores = [m["score"] for m in recs[0]["moments"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.slow
def test_default_model_overlay_clip_and_cache(tmp_path):
    v = write_video(tmp_path / "a.avi", 10)
    args = ["retrieve-moment", str(v), "a red ball", "-o", str(tmp_path / "m.jsonl"), "--threads", "1"]
    r = cvkit(*args, "--overlay", str(tmp_path / "ov.avi"), "--clip-out", str(tmp_path / "top.avi"))
    assert r.returncode == 0, r.stderr
    assert list((tmp_path / ".cvkit-features").glob("*.npz"))
    top = json.loads((tmp_path / "m.jsonl").read_text())["moments"][0]
    cap = cv2.VideoCapture(str(tmp_path / "top.avi"))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    assert abs(n - (top["end"] - top["start"]) * 10) <= 2
    cap = cv2.VideoCapture(str(tmp_path / "ov.avi"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 100
    r2 = cvkit(*args)
    assert r2.returncode == 0 and "cached features" in r2.stderr


def test_evaluate_charades_layout_with_baselines_and_prior_fit(tmp_path):
    root = tmp_path / "charades"
    (root / "videos").mkdir(parents=True)
    write_video(root / "videos" / "AAAAA.avi", 12)
    write_video(root / "videos" / "BBBBB.avi", 16)
    (root / "charades_sta_test.txt").write_text("AAAAA 0.0 4.0##a red ball moves.\nBBBBB 2.0 9.0##a red disc.\n"
                                                "CCCCC 1.0 2.0##missing video.\n")
    (root / "Charades_v1_test.csv").write_text("id,length\nAAAAA,12.0\nBBBBB,16.0\n")
    r = cvkit("evaluate", "retrieve-moment", "--dataset", "charades-sta", "--root", str(root), "--model", "prior",
              "--json")
    assert r.returncode == 0, r.stderr
    tables = json.loads(r.stdout)
    assert set(tables) == {"model", "prior", "random"}
    assert tables["model"] == pytest.approx(tables["prior"], abs=0.01)   # --model prior: the same ranking
    assert set(tables["random"]) == {f"R@{n},IoU={m}" for n in (1, 5) for m in (0.3, 0.5, 0.7)} | {"mIoU"}
    assert "1 of 3 queries skipped" in r.stderr
    out = tmp_path / "prior.json"
    r = cvkit("train", "retrieve-moment", "--prior-from", str(root / "charades_sta_test.txt"), "--durations",
              str(root / "Charades_v1_test.csv"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    r = cvkit("retrieve-moment", str(root / "videos" / "AAAAA.avi"), "a ball", "--model", "prior", "--prior",
              str(out), "--json", "--top", "1")
    assert r.returncode == 0 and json.loads(r.stdout)["moments"][0]["start"] < 3


@pytest.mark.slow
def test_train_paper_model_on_charades_layout_features(tmp_path):
    rng = np.random.default_rng(0)
    feats = tmp_path / "features"
    feats.mkdir()
    lines = []
    for i in range(4):
        np.save(feats / f"V{i}.npy", rng.normal(size=(20, 8)).astype(np.float32))
        lines.append(f"V{i} 1.0 5.0##a person does thing {i}.")
    ann = tmp_path / "charades_sta_train.txt"
    ann.write_text("\n".join(lines) + "\n")
    out = tmp_path / "vlanet"
    r = cvkit("train", "retrieve-moment", "--ann", str(ann), "--features", str(feats), "--video-dim", "8",
              "--hidden", "16", "--windows", "3,4", "--epochs", "2", "-o", str(out), "--threads", "1")
    assert r.returncode == 0, r.stderr
    card = json.loads((out / "card.json").read_text())
    assert card["config"]["video_dim"] == 8 and card["training"]["epochs"] == 2
    # evaluating on the same layout through the precomputed features reads the trained weights
    (tmp_path / "charades_sta_test.txt").write_text("\n".join(lines) + "\n")
    r = cvkit("evaluate", "retrieve-moment", "--dataset", "charades-sta", "--root", str(tmp_path), "--model",
              str(out / "weights.safetensors"), "--json")
    assert r.returncode == 0, r.stderr
    assert set(json.loads(r.stdout)) == {"model", "prior", "random"}
