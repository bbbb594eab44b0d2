"""Synthetic tracking clips (exact boxes, determinism) and SiamFC training pairs (geometry, labels, layouts)."""

from __future__ import annotations

import re
from dataclasses import replace as replace_cfg
from pathlib import Path

import cv2
import numpy as np
import pytest

from cvkit.track.pairs import (
    PairConfig,
    PairSampler,
    make_pair,
    parse_data,
    scale_label_value,
    search_log_scale,
    siamfc_label,
)
from cvkit.track.synthetic import HELDOUT_SEED_BASE, canonical_kind, make_clip, make_demo_clip, synthetic_clip

PLAIN_SPRITES = dict(n_distractors=(0, 0), n_occluders=(0, 0), brightness=0.0, bias=0.0, blur_prob=0.0,
                     noise_sigma=(0.0, 0.0))


def _bbox(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1], dtype=np.float64)


@pytest.mark.parametrize("kind", ["digits-t", "digits-s", "sprites"])
def test_make_clip_shapes_and_determinism(kind: str) -> None:
    frames, boxes = make_clip(kind, 3, 6, (200, 150))
    assert len(frames) == 6 and boxes.shape == (6, 4)
    assert all(f.shape == (150, 200, 3) and f.dtype == np.uint8 for f in frames)
    frames2, boxes2 = make_clip(kind, 3, 6, (200, 150))
    assert np.array_equal(boxes, boxes2)
    assert all(np.array_equal(a, b) for a, b in zip(frames, frames2, strict=True))
    frames3, boxes3 = make_clip(kind, 4, 6, (200, 150))
    assert not np.array_equal(boxes, boxes3)
    # boxes inside the frame, positive size
    assert np.all(boxes[:, :2] >= 0) and np.all(boxes[:, 2:] >= 1)
    assert np.all(boxes[:, 0] + boxes[:, 2] <= 200) and np.all(boxes[:, 1] + boxes[:, 3] <= 150)


def test_rendering_frame_t_alone_matches_whole_clip() -> None:
    clip = synthetic_clip("sprites", 11, 20)
    frames = clip.frames()
    again = synthetic_clip("sprites", 11, 20)
    assert np.array_equal(again.render(13), frames[13])
    assert np.array_equal(again.box(13), clip.boxes[13])


@pytest.mark.parametrize("seed", [0, 1, 2, 5])
def test_sprite_box_is_exactly_the_pasted_pixels(seed: int) -> None:
    """With no distractors/occluders/photometry, the pixels that differ from the background are the box."""
    clip = synthetic_clip("sprites", seed, 30, (320, 240), **PLAIN_SPRITES)
    W, H = clip.size
    for t in (0, 7, 29):
        frame = clip.render(t)
        ox = int(round(clip.bg_pad + clip.pan[t, 0]))
        oy = int(round(clip.bg_pad + clip.pan[t, 1]))
        bg = clip.background[oy : oy + H, ox : ox + W]
        changed = (frame != bg).any(-1)
        assert np.array_equal(_bbox(changed), clip.box(t))
        assert np.array_equal(_bbox(clip.target_mask(t)), clip.box(t))
        assert changed[~clip.target_mask(t)].sum() == 0


def test_sprite_mask_bbox_equals_box_with_clutter() -> None:
    clip = synthetic_clip("sprites", 21, 40, n_distractors=(3, 3), n_occluders=(2, 2))
    assert len(clip.distractors) == 3 and len(clip.occluders) == 2
    for t in range(0, 40, 5):
        assert np.array_equal(_bbox(clip.target_mask(t)), clip.box(t))
    assert np.all((clip.visible >= 0) & (clip.visible <= 1))


@pytest.mark.parametrize("kind", ["digits-t", "digits-s"])
def test_digit_box_is_the_target_ink(kind: str) -> None:
    """One digit on black: ink above the threshold lies inside the box and touches all four sides."""
    clip = synthetic_clip(kind, 8, 32, n_digits=1)
    for t in range(0, 32, 4):
        g = clip.render(t)[..., 0]
        x, y, w, h = clip.box(t).astype(int)
        strong = g >= 77  # rendered intensity > 0.302 (above the 0.3 ink threshold after rounding)
        inside = np.zeros_like(strong)
        inside[y : y + h, x : x + w] = True
        assert not (strong & ~inside).any()
        weak = g >= 76
        bx = _bbox(weak)
        assert bx[0] <= x and bx[1] <= y and bx[0] + bx[2] >= x + w and bx[1] + bx[3] >= y + h
        assert np.array_equal(_bbox(clip.target_mask(t)), clip.box(t))


def test_digits_scale_per_frame_factor() -> None:
    s = synthetic_clip("digits-s", 2, 32)
    ratio = s.sides[1:] / s.sides[:-1]
    assert np.all((ratio >= 0.95 - 1e-9) & (ratio <= 1.05 + 1e-9))
    assert np.any(np.abs(ratio - 1) > 0.005)
    t = synthetic_clip("digits-t", 2, 32)
    assert np.allclose(t.sides, t.sides[0])


def test_kind_names_and_data_specs() -> None:
    assert canonical_kind("digits") == "digits-s"
    with pytest.raises(ValueError):
        canonical_kind("mnist-3d")
    assert parse_data("synthetic") == [("digits-s", "", 0.5), ("sprites", "", 0.5)]
    assert parse_data("synthetic:digits-t") == [("digits-t", "", 1.0)]
    assert parse_data("got10k:/x/y") == [("got10k", "/x/y", 1.0)]
    with pytest.raises(ValueError):
        parse_data("got10k")


def test_label_centred_on_offset_and_balanced() -> None:
    label, weight = siamfc_label((0.0, 0.0), 9, 16, 16)
    assert label[4, 4] == 1 and label.sum() == 5  # centre + 4 neighbours at exactly 1 cell
    assert np.isclose(weight[label > 0].sum(), 0.5) and np.isclose(weight[label == 0].sum(), 0.5)
    label, _ = siamfc_label((32.0, -16.0), 9, 16, 16)
    ys, xs = np.nonzero(label)
    assert (3, 6) in set(zip(ys.tolist(), xs.tolist(), strict=True))
    assert np.allclose([xs.mean(), ys.mean()], [6, 3])
    label, _ = siamfc_label((4.0, 4.0), 17, 8, 16)  # stride 8 (paper net): radius = 2 cells
    ys, xs = np.nonzero(label)
    assert np.allclose([xs.mean(), ys.mean()], [8.5, 8.5]) and label.sum() == 12


def test_pair_geometry_puts_the_target_where_the_label_says() -> None:
    """A bright square: its centroid in the search crop is the crop centre plus the pair's offset."""
    frame = np.full((300, 400, 3), 40, np.uint8)
    box = (180.0, 100.0, 40.0, 30.0)
    frame[100:130, 180:220] = 250
    rng = np.random.default_rng(0)
    cfg = PairConfig(scale_jitter=0.0, brightness=0.0)
    for _ in range(5):
        p = make_pair(frame, box, frame, box, rng, cfg)
        ys, xs = np.nonzero(p.x[..., 0] > 145)
        assert abs(xs.mean() - (127 + p.offset[0])) < 1.0 and abs(ys.mean() - (127 + p.offset[1])) < 1.0
        zy, zx = np.nonzero(p.z[..., 0] > 145)
        assert abs(zx.mean() - 63) < 1.0 and abs(zy.mean() - 63) < 1.0
        # template: 40x30 box with context -> s_z = sqrt(75*65) -> the square spans 40*127/s_z px
        assert abs((zx.max() - zx.min() + 1) - 40 * 127 / np.sqrt(75 * 65)) <= 2
        ly, lx = np.nonzero(p.label)
        assert np.hypot(lx.mean() - (4 + p.offset[0] / 16), ly.mean() - (4 + p.offset[1] / 16)) < 0.75


def test_scale_label_lowers_positives_with_the_scale_error() -> None:
    """Scale-aware label: soft positives exp(-e^2/2s^2), same weights; off (s=0) = the binary SiamFC label."""
    assert scale_label_value(0.0, 0.1) == 1.0 and scale_label_value(0.3, 0.0) == 1.0
    assert np.isclose(scale_label_value(0.1, 0.1), np.exp(-0.5)) and scale_label_value(-0.1, 0.1) == \
        scale_label_value(0.1, 0.1)
    assert scale_label_value(0.05, 0.1) > scale_label_value(0.1, 0.1) > scale_label_value(0.2, 0.1)
    hard, w1 = siamfc_label((0.0, 0.0), 9, 16, 16)
    soft, w2 = siamfc_label((0.0, 0.0), 9, 16, 16, peak=0.25)
    assert np.array_equal(w1, w2) and np.allclose(soft, 0.25 * hard)
    frame = np.full((300, 400, 3), 40, np.uint8)
    frame[100:130, 180:220] = 250
    box = (180.0, 100.0, 40.0, 30.0)
    cfg = PairConfig(scale_jitter=0.0, brightness=0.0, scale_label=0.1, scale_wide_frac=1.0, scale_wide=(0.2, 0.2))
    p = make_pair(frame, box, frame, box, np.random.default_rng(0), cfg)
    assert np.isclose(p.label.max(), np.exp(-0.5 * (np.log(1.2) / 0.1) ** 2), rtol=1e-5)
    assert set(np.unique(p.label).tolist()) <= {0.0, float(p.label.max())}
    p = make_pair(frame, box, frame, box, np.random.default_rng(0), replace_cfg(cfg, scale_wide_frac=0.0))
    assert p.label.max() == 1.0  # no scale error: full positives


def test_search_log_scale_wide_share_and_default_stream() -> None:
    """scale_wide_frac=0 draws exactly as before (one uniform); a wide share lands in +-[log 1.05, log 1.25]."""
    a, b = np.random.default_rng(1), np.random.default_rng(1)
    assert search_log_scale(a, PairConfig()) == b.uniform(-np.log1p(0.05), np.log1p(0.05))
    rng = np.random.default_rng(2)
    v = np.array([search_log_scale(rng, PairConfig(scale_wide_frac=1.0)) for _ in range(200)])
    assert (np.abs(v) >= np.log1p(0.05) - 1e-12).all() and (np.abs(v) <= np.log1p(0.25) + 1e-12).all()
    assert (v > 0).any() and (v < 0).any()


def test_pair_sampler_deterministic_and_shapes() -> None:
    a = PairSampler("synthetic", seed=3).batch(4)
    b = PairSampler("synthetic", seed=3).batch(4)
    assert a["z"].shape == (4, 127, 127, 3) and a["x"].shape == (4, 255, 255, 3)
    assert a["label"].shape == (4, 9, 9) and a["weight"].shape == (4, 9, 9)
    for k in ("z", "x", "label", "weight"):
        assert (a[k] == b[k]).all()
    assert a["sources"] == b["sources"]
    c = PairSampler("synthetic", seed=4).batch(4)
    assert not (a["x"] == c["x"]).all()
    for src in a["sources"]:
        seed = int(re.search(r"#(\d+):", src).group(1))
        assert seed < HELDOUT_SEED_BASE


def _write_got10k(root: Path, n: int = 8) -> tuple[Path, np.ndarray]:
    """A tiny GOT-10k train split: one sequence rendered from a synthetic clip, two unusable frames."""
    seq = root / "train" / "GOT-10k_Train_000001"
    seq.mkdir(parents=True)
    (root / "train" / "list.txt").write_text("GOT-10k_Train_000001\n")
    frames, boxes = make_clip("sprites", 5, n, (160, 120))
    for i, f in enumerate(frames):
        cv2.imwrite(str(seq / f"{i + 1:08d}.jpg"), f)
    (seq / "groundtruth.txt").write_text("".join(f"{x:g},{y:g},{w:g},{h:g}\n" for x, y, w, h in boxes))
    absence = [0] * n
    absence[2] = 1
    cover = [8] * n
    cover[5] = 0
    (seq / "absence.label").write_text("\n".join(map(str, absence)) + "\n")
    (seq / "cover.label").write_text("\n".join(map(str, cover)) + "\n")
    (seq / "cut_by_image.label").write_text("\n".join(["0"] * n) + "\n")
    (seq / "meta_info.ini").write_text("[METAINFO]\nresolution: (160, 120)\n")
    return root, boxes


def test_pairs_from_got10k_layout_skip_absent_and_covered(tmp_path: Path) -> None:
    root, _ = _write_got10k(tmp_path / "got10k")
    sampler = PairSampler(f"got10k:{root}", seed=0, config=PairConfig(max_gap=3))
    used = set()
    for _ in range(40):
        p = sampler.sample()
        i, j = map(int, re.search(r":(\d+)->(\d+)$", p.source).groups())
        assert abs(i - j) <= 3
        used |= {i, j}
        assert p.z.shape == (127, 127, 3) and p.x.shape == (255, 255, 3) and p.label.sum() >= 1
    assert used.isdisjoint({2, 5}) and len(used) >= 4


def test_demo_clip_written_and_deterministic(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    boxes = make_demo_clip(path, n_frames=12)
    assert path.is_file() and boxes.shape == (12, 4)
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    assert n == 12
    assert np.array_equal(make_demo_clip(tmp_path / "again.mp4", n_frames=12), boxes)


def test_absence_clip_hides_the_target_and_its_box():
    from cvkit.track.synthetic import AbsenceClip

    clip = AbsenceClip(seed=3, n_frames=20, absent=(0.4, 0.6))
    a0, a1 = clip.absent_range
    assert (a0, a1) == (8, 12)
    assert np.isnan(clip.box(a0)).all() and np.isfinite(clip.box(a1)).all() and clip.visible_fraction(a0) == 0.0
    assert not clip.target_mask(a0).any() and clip.target_mask(a0 - 1).any()
    # where the target was a frame earlier, the absent frame shows background instead
    x, y, w, h = (int(v) for v in clip.box(a0 - 1))
    before, during = clip.render(a0 - 1).astype(int), clip.render(a0).astype(int)
    assert np.abs(before[y:y + h, x:x + w] - during[y:y + h, x:x + w]).mean() > 5
