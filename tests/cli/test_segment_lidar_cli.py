"""End-to-end `cvkit segment-lidar` / `evaluate segment-lidar` through the CLI on small generated scans."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cvkit.io.pointcloud import read_label, read_ply_fields, write_label
from cvkit.segment_lidar.labels import LEARNING_MAP_INV
from tests.cli.helpers import cvkit


def street_scan(seed: int = 0) -> np.ndarray:
    """A small street: ground plane at -1.73 m, a car-sized box and a wall (x, y, z, remission)."""
    rng = np.random.default_rng(seed)
    g = np.c_[rng.uniform(-30, 30, (6000, 2)), np.full(6000, -1.73) + rng.normal(0, 0.02, 6000)]
    g = g[np.hypot(g[:, 0], g[:, 1]) > 3]
    car = np.c_[rng.uniform(8, 12.2, 800), rng.uniform(2, 3.8, 800), rng.uniform(-1.45, -0.3, 800)]
    wall = np.c_[rng.uniform(-20, 20, 2000), np.full(2000, -15.0), rng.uniform(-1.7, 3, 2000)]
    pts = np.concatenate([g, car, wall])
    return np.c_[pts, rng.uniform(0, 1, len(pts))].astype(np.float32)


@pytest.fixture
def scan_bin(tmp_path) -> Path:
    p = tmp_path / "scan.bin"
    street_scan().tofile(p)
    return p


def test_bin_to_label_with_json(scan_bin, tmp_path):
    out = tmp_path / "out" / "scan.label"
    r = cvkit("segment-lidar", str(scan_bin), "-o", str(out), "--model", "classical", "--json")
    assert r.returncode == 0, r.stderr
    n = scan_bin.stat().st_size // 16
    lab = read_label(out, n)
    assert lab.dtype == np.uint32 and len(lab) == n
    assert set(np.unique(lab)) <= set(LEARNING_MAP_INV)
    rec = json.loads(r.stdout.splitlines()[0])
    assert rec["points"] == n and sum(rec["histogram"].values()) == n
    # the ground plane is road, the box a car (raw ids 40 and 10)
    assert (lab[:100] == 40).mean() > 0.9
    assert rec["histogram"].get("car", 0) > 400


@pytest.mark.slow
def test_pcd_and_ply_outputs_and_inputs(scan_bin, tmp_path):
    ply = tmp_path / "a.ply"
    r = cvkit("segment-lidar", str(scan_bin), "-o", str(ply), "--model", "classical", "-q")
    assert r.returncode == 0, r.stderr
    fields = read_ply_fields(ply)
    assert len(fields["label"]) == scan_bin.stat().st_size // 16 and "red" in fields
    # the coloured .ply is itself a valid input, and so is a .npy
    r = cvkit("segment-lidar", str(ply), "-o", str(tmp_path / "b.pcd"), "--model", "classical", "-q")
    assert r.returncode == 0, r.stderr
    np.save(tmp_path / "c.npy", street_scan()[:, :3])
    r = cvkit("segment-lidar", str(tmp_path / "c.npy"), "-o", str(tmp_path / "c.label"), "--model", "classical",
              "-q")
    assert r.returncode == 0 and (tmp_path / "c.label").stat().st_size == 4 * len(street_scan())


def test_bad_bin_exits_3_without_output(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\0" * 30)
    out = tmp_path / "bad.label"
    r = cvkit("segment-lidar", str(bad), "-o", str(out), "--model", "classical")
    assert r.returncode == 3
    assert "bad.bin" in r.stderr and "multiple of 16" in r.stderr
    assert not out.exists() and not list(tmp_path.glob(".bad*"))


@pytest.mark.slow
def test_batch_semantickitti_layout_with_a_bad_file(tmp_path):
    seq = tmp_path / "sequences" / "00"
    (seq / "velodyne").mkdir(parents=True)
    (seq / "labels").mkdir()
    for i in range(2):
        pts = street_scan(i)
        pts.tofile(seq / "velodyne" / f"{i:06d}.bin")
    (seq / "velodyne" / "000002.bin").write_bytes(b"\0" * 20)
    out = tmp_path / "preds"
    r = cvkit("segment-lidar", str(tmp_path), "-o", str(out), "--model", "classical", "-q")
    assert r.returncode == 6, r.stderr
    assert "000002.bin" in r.stderr
    for i in range(2):
        p = out / "sequences" / "00" / "predictions" / f"{i:06d}.label"
        assert p.stat().st_size == 4 * len(street_scan(i))
    r = cvkit("segment-lidar", str(seq / "velodyne"), "-o", str(out / "v"), "--model", "classical",
              "--skip-existing", "-q")
    assert r.returncode == 6  # the bad file still fails; the good ones are written once


def test_evaluate_predictions(tmp_path):
    seq = tmp_path / "sequences" / "00"
    (seq / "velodyne").mkdir(parents=True)
    (seq / "labels").mkdir()
    pts = street_scan()
    pts.tofile(seq / "velodyne" / "000000.bin")
    gt = np.where(np.arange(len(pts)) % 2 == 0, 40, 10).astype(np.uint32)
    write_label(seq / "labels" / "000000.label", gt)
    pred_dir = tmp_path / "preds" / "sequences" / "00" / "predictions"
    pred = gt.copy()
    pred[:100] = 50  # 100 road points (even indices -> 50 road, 50 car) predicted as building
    write_label(pred_dir / "000000.label", pred)
    r = cvkit("evaluate", "segment-lidar", "--root", str(tmp_path), "--pred", str(tmp_path / "preds"), "--json",
              "-q")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    n_road = int((gt == 40).sum())
    n_car = len(gt) - n_road
    assert rep["iou"]["road"] == pytest.approx((n_road - 50) / n_road)
    assert rep["iou"]["car"] == pytest.approx((n_car - 50) / n_car)
    assert rep["iou"]["building"] == 0.0


def test_errors_for_models_and_arguments(scan_bin, tmp_path):
    r = cvkit("segment-lidar", str(scan_bin), "-o", str(tmp_path / "x.label"), "--model", "ssgv3-21")
    assert r.returncode == 5 and "cvkit train segment-lidar" in r.stderr
    r = cvkit("segment-lidar", str(scan_bin), "-o", str(tmp_path / "x.txt"), "--model", "classical")
    assert r.returncode == 4
    r = cvkit("segment-lidar", str(scan_bin), "-o", str(tmp_path / "x.label"), "--fov-up", "-40")
    assert r.returncode == 4
    r = cvkit("segment-lidar", str(scan_bin), "-o", str(scan_bin), "--model", "classical")
    assert r.returncode == 4  # never overwrite an input


def test_help_shows_examples():
    r = cvkit("segment-lidar", "--help")
    assert r.returncode == 0 and "cvkit segment-lidar 000000.bin -o 000000.label" in r.stdout
