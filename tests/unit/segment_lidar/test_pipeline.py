"""Simulator, classical pipeline, training recipe and asset loading on tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest

from cvkit.errors import ModelError
from cvkit.segment_lidar.classical import classical_segment, ground_height
from cvkit.segment_lidar.metrics import IoUEvaluator, report
from cvkit.segment_lidar.registry import build_segmenter

pytest.importorskip("open3d", reason="open3d (ray casting) is needed for the simulator")


@pytest.fixture(scope="module")
def sim_scan():
    from cvkit.segment_lidar.simulate import simulate_scans

    return simulate_scans(3, 1)[0]


def test_simulated_scan_looks_like_an_hdl64_street(sim_scan):
    pts, lab = sim_scan.points, sim_scan.labels
    assert 60_000 < len(pts) < 140_000 and pts.dtype == np.float32 and len(lab) == len(pts)
    counts = np.bincount(lab, minlength=20)
    assert counts[9] > 0.2 * len(pts)  # road
    assert counts[[13, 15, 17]].sum() > 0.1 * len(pts)  # building / vegetation / terrain
    assert counts[0] == 0
    # the ground is 1.73 m below the sensor
    assert np.median(pts[lab == 9, 2]) == pytest.approx(-1.73, abs=0.15)


def test_classical_pipeline_on_a_simulated_scan(sim_scan):
    pred = classical_segment(sim_scan.points)
    ev = IoUEvaluator()
    ev.add(pred, sim_scan.labels)
    rep = report(ev)
    assert rep["coarse_iou"]["ground"] > 0.85
    h = ground_height(sim_scan.points[:, :3].astype(float))
    assert np.median(np.abs(h[sim_scan.labels == 9])) < 0.1


@pytest.mark.slow
def test_train_two_steps_save_and_reload(tmp_path):
    from cvkit.segment_lidar.train import TrainConfig, save_trained, train

    model, summary = train(TrainConfig(steps=2, batch=1, width=128))
    path = save_trained(model, summary, tmp_path / "m", "t", "cvkit train segment-lidar --steps 2", "synthetic", 0)
    seg = build_segmenter(str(path))
    assert seg.sensor.width == 128 and seg.use_remission
    pts = np.random.default_rng(0).normal(0, 10, (500, 4)).astype(np.float32)
    out = seg.segment(pts)
    assert out.labels.shape == (500,) and out.labels.min() >= 1
    # a card naming another architecture does not load
    import json

    card = json.loads((tmp_path / "m" / "card.json").read_text())
    card["config"]["stem"] = 16
    card.pop("sha256")
    (tmp_path / "m" / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="shape mismatch"):
        build_segmenter(str(path))


def test_train_on_a_semantickitti_layout(tmp_path):
    from cvkit.io.pointcloud import write_label
    from cvkit.segment_lidar.data import find_semantickitti, load_scan
    from cvkit.segment_lidar.train import TrainConfig, train

    rng = np.random.default_rng(0)
    for seq in ("00", "08"):
        d = tmp_path / "sequences" / seq
        (d / "velodyne").mkdir(parents=True)
        (d / "labels").mkdir()
        pts = rng.normal(0, 10, (800, 4)).astype(np.float32)
        pts.tofile(d / "velodyne" / "000000.bin")
        write_label(d / "labels" / "000000.label", np.where(pts[:, 2] < 0, 40, 50).astype(np.uint32))
    items = find_semantickitti(tmp_path)
    assert [it.sequence for it in items] == ["00", "08"]
    _, lab = load_scan(items[0])
    assert set(np.unique(lab)) == {9, 13}
    model, summary = train(TrainConfig(data=f"semantickitti:{tmp_path}", arch="ssgv3-tiny", steps=2, batch=1,
                                       width=64))
    assert summary["optimizer"] == "sgd" and summary["lr"] == 0.01 and summary["config"]["use_remission"]
    with pytest.raises(ValueError):
        train(TrainConfig(data="nope", steps=1))


def test_threshold_sweep_runs_on_simulated_scans_only():
    from dataclasses import fields

    from cvkit.segment_lidar.classical import ClassicalParams
    from cvkit.segment_lidar.tune import GRID, SimBench, sweep

    # every swept default is one of the sweep's candidates (the values come from the sweep's experiment script)
    defaults = ClassicalParams()
    assert set(GRID) <= {f.name for f in fields(ClassicalParams)}
    assert all(getattr(defaults, k) in v for k, v in GRID.items())
    grid = {"planar_var": (0.02, 0.06), "planar_nz": (0.2, 0.3)}
    bench = SimBench(5, 2)
    best, score = sweep(bench, grid, full=("planar_var",), max_rounds=2)
    assert 0.0 < score <= 1.0 and best.planar_var in grid["planar_var"] and best.planar_nz in grid["planar_nz"]
    assert score == pytest.approx(bench.score(best))
    assert sweep(bench, grid, full=("planar_var",), max_rounds=2) == (best, score)


def test_simulated_remission_follows_the_material_priors(sim_scan):
    from cvkit.segment_lidar.simulate import MATERIALS

    rem, lab = sim_scan.points[:, 3], sim_scan.labels
    assert rem.min() >= 0.0 and rem.max() <= 1.0 and rem.std() > 0.05
    # near-infrared: foliage is bright, asphalt dark (per-material reflectance ranges in simulate.py)
    assert np.median(rem[lab == 15]) > 2 * np.median(rem[lab == 9])
    assert all(0.0 <= m.albedo[0] < m.albedo[1] <= 1.0 for m in MATERIALS)


def test_hedge_is_a_rough_closed_surface():
    from cvkit.segment_lidar.simulate import rough_box

    rng = np.random.default_rng(0)
    v, t = rough_box(rng, 0.0, 0.0, 0.0, 10.0, 1.0, 2.0, fine=0.05, coarse=0.0)
    assert t.max() < len(v) and v[:, 0].min() < -4.9 and v[:, 0].max() > 4.9
    side = v[(np.abs(v[:, 1]) > 0.3) & (v[:, 2] > 0.2) & (v[:, 2] < 1.8)]
    dev = np.abs(np.abs(side[:, 1]) - 0.5)
    assert 0.02 < dev.mean() < 0.08  # leaf-clump roughness around the hedge's envelope


def test_bright_planar_voxels_count_as_foliage_when_the_rule_is_on():
    from dataclasses import replace

    from cvkit.segment_lidar.classical import ClassicalParams, classical_segment

    rng = np.random.default_rng(0)
    gx, gy = np.meshgrid(np.arange(-20, 20, 0.2), np.arange(-20, 20, 0.2))
    ground = np.c_[gx.ravel(), gy.ravel(), np.full(gx.size, -1.73), np.full(gx.size, 0.1)]
    wx, wz = np.meshgrid(np.arange(-6, 6, 0.1), np.arange(-1.5, 3.0, 0.1))
    wall = np.c_[wx.ravel(), np.full(wx.size, 8.0) + rng.normal(0, 0.01, wx.size), wz.ravel(),
                 np.full(wx.size, 0.7)]
    pts = np.r_[ground, wall].astype(np.float32)
    is_wall = np.r_[np.zeros(len(ground), bool), np.ones(len(wall), bool)]
    off = classical_segment(pts, ClassicalParams())
    on = classical_segment(pts, replace(ClassicalParams(), veg_remission=0.5))
    assert (off[is_wall] == 13).mean() > 0.9  # a flat vertical wall is building
    assert (on[is_wall] == 15).mean() > 0.9  # ... unless it is bright in the near infrared


def test_facade_segments_find_a_wall_seen_from_above():
    from cvkit.segment_lidar.classical import facade_segments

    rng = np.random.default_rng(1)
    x = rng.uniform(-6, 6, 3000)
    xy = np.c_[x, 8.0 + rng.normal(0, 0.02, x.size)]
    h = rng.uniform(0.2, 4.0, x.size)
    clutter = rng.uniform(-10, 10, (300, 2))  # scattered points make no facade
    segs = facade_segments(np.r_[xy, clutter], np.r_[h, rng.uniform(0, 2, 300)])
    assert len(segs) == 1
    cx, cy, ux, uy, t0, t1, top = segs[0]
    assert abs(uy) < 0.01 and cy == pytest.approx(8.0, abs=0.05)
    assert t1 - t0 == pytest.approx(12.0, abs=0.2) and top == pytest.approx(3.8, abs=0.1)


def test_facade_rule_labels_a_wall_behind_a_bush_as_building():
    from dataclasses import replace

    from cvkit.segment_lidar.classical import ClassicalParams, classical_segment

    rng = np.random.default_rng(0)
    gx, gy = np.meshgrid(np.arange(-20, 20, 0.2), np.arange(-20, 20, 0.2))
    ground = np.c_[gx.ravel(), gy.ravel(), np.full(gx.size, -1.73)]
    wx, wz = np.meshgrid(np.arange(-6, 6, 0.1), np.arange(-1.2, 3.0, 0.1))
    keep = ~((np.abs(wx) < 2) & (wz > 0) & (wz < 1.5))  # a window band cut out of the wall
    wall = np.c_[wx[keep], np.full(keep.sum(), 8.0) + rng.normal(0, 0.01, keep.sum()), wz[keep]]
    n = 1200  # the recess behind it: frames, blinds, glass returns; rough, not flat in a 0.5 m cell
    recess = np.c_[rng.uniform(-2, 2, n), 8.2 + rng.normal(0, 0.1, n), rng.uniform(0, 1.5, n)]
    m = 30000  # a dense bush touching the wall: one component, mostly not planar
    bush = np.c_[rng.uniform(-6, 6, m), rng.uniform(6.2, 7.9, m), rng.uniform(-1.6, 0.3, m)]
    pts = np.r_[ground, wall, recess, bush].astype(np.float32)
    part = np.repeat(np.arange(4), [len(ground), len(wall), n, m])
    on = classical_segment(pts, ClassicalParams())
    off = classical_segment(pts, replace(ClassicalParams(), facade_min_length=float("inf")))
    assert (off[part == 2] == 13).mean() < 0.5  # without the rule the rough recess is foliage
    assert (on[part == 1] == 13).mean() > 0.95 and (on[part == 2] == 13).mean() > 0.95
    assert (on[(part == 3) & (pts[:, 1] < 7.4)] == 13).mean() < 0.05  # the bush away from the wall is not
