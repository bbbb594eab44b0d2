"""End-to-end `cvkit track` through the real app (in-process), on small generated clips."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from cvkit.io.boxes import read_box_file
from tests.cli.helpers import cvkit
from tests.conftest import make_moving_square_clip


def mean_iou(pred: np.ndarray, gt: np.ndarray) -> float:
    from cvkit.track.metrics import box_iou

    return float(np.mean(box_iou(pred, gt)))


def test_video_to_csv_and_annotated_video(square_video, tmp_path):
    video, truth = square_video
    out_mp4, out_csv = tmp_path / "out" / "tracked.mp4", tmp_path / "out" / "boxes.csv"
    r = cvkit("track", str(video), "--init-box", "20,40,24,24", "-o", str(out_mp4), "--boxes", str(out_csv))
    assert r.returncode == 0, r.stderr
    rows = out_csv.read_text().splitlines()
    assert rows[0] == "frame,x,y,w,h,score,lost,ms" and len(rows) == 1 + len(truth)
    pred = np.array([[float(v) for v in row.split(",")[1:5]] for row in rows[1:]])
    assert mean_iou(pred, np.array(truth, dtype=float)) > 0.6
    cap = cv2.VideoCapture(str(out_mp4))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == len(truth)
    assert sorted(p.name for p in out_mp4.parent.iterdir()) == ["boxes.csv", "tracked.mp4"]  # no temp files


def test_image_folder_json_lines_and_stdout_boxes(square_folder):
    folder, truth = square_folder
    r = cvkit("track", str(folder), "--init-box", "20,40,24,24", "--json", "--quiet")
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in r.stdout.splitlines()]
    frames = [rec for rec in records if "frame" in rec]
    assert [rec["frame"] for rec in frames] == list(range(len(truth)))
    assert frames[0]["box"] == [20, 40, 24, 24] and {"score", "lost", "ms"} <= set(frames[1])
    r = cvkit("track", str(folder), "--init-box", "21,41,24,24", "--one-based", "--quiet")
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and len(lines) == len(truth) and lines[0] == "20.00,40.00,24.00,24.00"


def test_benchmark_sequence_uses_ground_truth_and_scores(tmp_path):
    seq = tmp_path / "seq"
    truth = make_moving_square_clip(seq / "imgs")
    (seq / "groundtruth.txt").write_text("\n".join(",".join(str(v) for v in b) for b in truth) + "\n")
    r = cvkit("track", str(seq), "--json", "--quiet")
    assert r.returncode == 0, r.stderr
    summary = [json.loads(line) for line in r.stdout.splitlines() if "summary" in line][-1]["summary"]
    assert summary["frames"] == len(truth) and summary["auc"] > 0.5


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["missing.mp4", "--init-box", "1,1,5,5"], 3),
        (["corrupt.mp4", "--init-box", "1,1,5,5"], 3),
        (["clip.avi", "--init-box", "500,500,20,20"], 4),
        (["clip.avi", "--init-box", "20,40,0,24"], 4),
        (["clip.avi", "--init-box", "20,40"], 4),
        (["clip.avi", "--init-box", "20,40,24,24", "--model", "no-such-model"], 5),
        (["clip.avi", "--init-box", "20,40,24,24", "--model", "weights/none.safetensors"], 5),
        (["clip.avi", "--init-box", "20,40,24,24", "--model", "sesiamfc"], 5),
    ],
)
def test_errors_exit_codes_and_leave_no_output(tmp_path, args, code):
    make_moving_square_clip(tmp_path / "clip.avi")
    (tmp_path / "corrupt.mp4").write_bytes(b"\x00\x01not a video" * 100)
    r = cvkit("track", *args, "-o", "out/tracked.mp4", "--boxes", "out/boxes.txt", cwd=tmp_path)
    assert r.returncode == code, r.stderr
    assert "error" in r.stderr and len(r.stderr.strip().splitlines()) <= 2
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_output_never_overwrites_input(square_video):
    video, _ = square_video
    r = cvkit("track", str(video), "--init-box", "20,40,24,24", "-o", str(video))
    assert r.returncode == 4 and video.stat().st_size > 1000


def test_batch_mirrors_tree_reports_failures_and_skips_existing(tmp_path):
    src = tmp_path / "videos"
    make_moving_square_clip(src / "a.avi")
    make_moving_square_clip(src / "sub" / "b.avi")
    make_moving_square_clip(src / "c.avi")
    (src / "a.avi.init.txt").write_text("20,40,24,24\n")
    (src / "sub" / "b.init.txt").write_text("20 40 24 24\n")  # c.avi has no init box -> listed failure
    out = tmp_path / "res"
    r = cvkit("track", str(src), "-o", str(out), "--video", "--quiet")
    assert r.returncode == 6, r.stderr
    assert "c" in r.stderr
    assert read_box_file(out / "a.txt").shape == (12, 4) and (out / "sub" / "b.txt").is_file()
    assert (out / "sub" / "b.mp4").is_file() and not (out / "c.txt").exists()
    before = (out / "a.txt").stat().st_mtime_ns
    (src / "c.init.txt").write_text("20,40,24,24\n")
    r = cvkit("track", str(src), "-o", str(out), "--skip-existing")
    assert r.returncode == 0, r.stderr
    assert (out / "a.txt").stat().st_mtime_ns == before and (out / "c.txt").is_file()


def test_models_and_checks():
    r = cvkit("models", "--json")
    names = {json.loads(line)["name"] for line in r.stdout.splitlines()}
    assert r.returncode == 0 and {"siam-lite", "cv-csrt", "cv-kcf", "cv-mil"} <= names
    r = cvkit("checks", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert all(json.loads(line)["ok"] for line in r.stdout.splitlines())


def test_train_help_has_no_experiment_only_options():
    r = cvkit("train", "track", "--help")
    assert r.returncode == 0
    assert not any(opt in r.stdout for opt in ("--scale-label", "--scale-wide", "--layout", "xperimental"))


def test_lite_option_problems_are_named() -> None:
    from cvkit.track.siamfc.train import lite_option_problem

    assert lite_option_problem("sesiamfc", 0.2)[0] == "--scale-label/--scale-wide"
    assert "lite recipe" in lite_option_problem("sesiamfc", layout="s4")[1]
    assert "unknown layout" in lite_option_problem("sesiamfc-lite", layout="s99")[1]
    assert lite_option_problem("sesiamfc-lite", layout="s4") is None


def test_help_shows_examples():
    r = cvkit("track", "--help")
    assert r.returncode == 0 and "cvkit track video.mp4 --init-box" in r.stdout


def test_evaluate_runs_model_on_otb_layout_and_scores(tmp_path):
    root = tmp_path / "OTB"
    for name in ("SquareA", "SquareB"):
        truth = make_moving_square_clip(root / name / "img")
        (root / name / "groundtruth_rect.txt").write_text(
            "\n".join(f"{x + 1}\t{y + 1}\t{w}\t{h}" for x, y, w, h in truth) + "\n")  # OTB: 1-based, tabs
    out = tmp_path / "results"
    r = cvkit("evaluate", "track", "--dataset", "otb", "--root", str(root), "--model", "siam-lite",
              "--out", str(out), "--json", "--quiet")
    assert r.returncode == 0, r.stderr
    scores = json.loads(r.stdout.splitlines()[0])
    assert scores["tracker"] == "siam-lite" and scores["n_sequences"] == 2 and scores["auc"] > 0.5
    first = (out / "siam-lite" / "SquareA.txt").read_text().splitlines()[0]
    assert first == "21.000,41.000,24.000,24.000"  # OTB results are written in the GT's 1-based convention
    r2 = cvkit("evaluate", "track", "--dataset", "otb", "--root", str(root), "--results", str(out), "--json",
               "--quiet")
    assert json.loads(r2.stdout.splitlines()[0])["auc"] == scores["auc"]


@pytest.mark.slow
def test_default_marks_absent_frames_lost_and_finds_the_target_again(tmp_path):
    """VOT-LT-style clip from synthetic occlusion: the target vanishes for 20 % of the clip, then comes back."""
    from cvkit.track.metrics import box_iou
    from cvkit.track.synthetic import AbsenceClip

    clip = AbsenceClip(seed=7, n_frames=60, absent=(0.4, 0.6))
    folder = tmp_path / "clip"
    folder.mkdir()
    for t in range(clip.n_frames):
        cv2.imwrite(str(folder / f"{t:04d}.png"), clip.render(t))
    gt = clip.boxes
    box = ",".join(f"{v:g}" for v in gt[0])
    r = cvkit("track", str(folder), "--init-box", box, "--boxes", str(tmp_path / "b.csv"), "--quiet")
    assert r.returncode == 0, r.stderr
    rows = [line.split(",") for line in (tmp_path / "b.csv").read_text().splitlines()[1:]]
    lost = np.array([row[6].strip().lower() in ("1", "true") for row in rows])
    pred = np.array([[float(v) for v in row[1:5]] for row in rows])
    a0, a1 = clip.absent_range
    present = np.array([clip.target_present(t) for t in range(clip.n_frames)])
    assert lost[a0:a1].all()  # every absent frame is flagged
    assert lost[present].mean() <= 0.1  # and few present ones
    after = np.arange(a1 + 3, clip.n_frames)  # a few frames to re-detect
    assert np.mean(box_iou(pred[after], gt[after]) > 0.5) >= 0.8


def test_evaluate_skip_existing_can_be_switched_off(tmp_path):
    """Kept result files are reused by default; --no-skip-existing runs the sequence again."""
    root = tmp_path / "OTB"
    truth = make_moving_square_clip(root / "Sq" / "img")
    (root / "Sq" / "groundtruth_rect.txt").write_text("\n".join(f"{x + 1},{y + 1},{w},{h}" for x, y, w, h in truth))
    out = tmp_path / "results"
    args = ["evaluate", "track", "--dataset", "otb", "--root", str(root), "--model", "cv-kcf", "--out", str(out),
            "--quiet"]
    result = out / "cv-kcf" / "Sq.txt"
    assert cvkit(*args).returncode == 0
    result.write_text("1,1,1,1\n" * len(truth))  # a stale result: kept by default, replaced when asked
    assert cvkit(*args).returncode == 0 and result.read_text() == "1,1,1,1\n" * len(truth)
    assert cvkit(*args, "--no-skip-existing").returncode == 0
    assert result.read_text().splitlines()[0] == "21.000,41.000,24.000,24.000"


def test_device_reaches_the_tracker(square_folder, monkeypatch):
    """--device is resolved once and handed to the model builder (not a dead option)."""
    import torch

    import cvkit.track.registry as registry
    from tests.robustness.harness import invoke

    seen = []
    real = registry.build_tracker
    monkeypatch.setattr(registry, "build_tracker", lambda m, d: seen.append(d) or real(m, d))
    folder, _ = square_folder
    r = invoke(["track", str(folder), "--init-box", "20,40,24,24", "--model", "cv-kcf", "--device", "cpu", "-q"])
    assert r.code == 0, r.stderr
    assert seen == [torch.device("cpu")]
    r = invoke(["track", str(folder), "--init-box", "20,40,24,24", "--device", "tpu"])
    assert r.code == 4 and "tpu" in r.stderr


def test_batch_rejects_single_input_boxes_option(tmp_path):
    make_moving_square_clip(tmp_path / "videos" / "a.avi")
    r = cvkit("track", str(tmp_path / "videos"), "-o", str(tmp_path / "out"), "--boxes", str(tmp_path / "b.txt"))
    assert r.returncode == 4 and "--boxes" in r.stderr
