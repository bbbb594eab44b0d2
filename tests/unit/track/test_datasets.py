"""Benchmark layout readers, result files and result-file evaluation on tiny generated layouts."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from cvkit.errors import ArgumentError, InputError
from cvkit.track import metrics as M
from cvkit.track.datasets import (
    Sequence,
    detect_sequence,
    list_sequences,
    read_result,
    read_vot_result,
    result_path,
    sequence_resolution,
)
from cvkit.track.evaluate import evaluate_results, format_boxes, run_vot_reset, write_result

BAG = Path(__file__).resolve().parents[3].parent / "shared/data/track/vot15_bag"
W, H = 16, 12


@pytest.fixture(scope="module")
def png_bytes(tmp_path_factory) -> bytes:
    """One tiny PNG written with cv2, copied wherever a layout needs frames."""
    p = tmp_path_factory.mktemp("png") / "f.png"
    img = np.zeros((H, W, 3), np.uint8)
    img[2:6, 3:9] = 255
    assert cv2.imwrite(str(p), img)
    return p.read_bytes()


def _frames(folder: Path, names: list[str], data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(data)


def _lines(path: Path, rows, sep: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(sep.join(str(v) for v in r) + "\n" for r in rows))


# ----------------------------------------------------------------------------------------------------------
# OTB


def test_otb_one_based_and_mixed_delimiters(tmp_path, png_bytes):
    seq = tmp_path / "Basketball"
    _frames(seq / "img", [f"{i:04d}.png" for i in range(1, 5)], png_bytes)
    (seq / "groundtruth_rect.txt").write_text("1,1,4,4\n2\t2\t4\t4\n3 3 4 4\n4,\t4,4,4\n")
    s = detect_sequence(seq)
    assert s.layout == "otb" and s.name == "Basketball" and len(s) == 4
    np.testing.assert_allclose(s.gt[:, :2], [[0, 0], [1, 1], [2, 2], [3, 3]])  # 1-based -> 0-based
    np.testing.assert_allclose(s.gt[:, 2:], 4)
    assert s.frames[0].name == "0001.png" and s.extras["one_based"] is True
    assert s.init_box == (0.0, 0.0, 4.0, 4.0)


def test_otb_frame_range_quirks(tmp_path, png_bytes):
    david = tmp_path / "David"
    _frames(david / "img", [f"{i:04d}.png" for i in range(1, 771)], png_bytes)
    _lines(david / "groundtruth_rect.txt", [[129, 80, 64, 78]] * 471)
    tiger = tmp_path / "Tiger1"
    _frames(tiger / "img", [f"{i:04d}.png" for i in range(1, 355)], png_bytes)
    _lines(tiger / "groundtruth_rect.txt", [[i, 1, 5, 5] for i in range(1, 355)], sep="\t")
    blur = tmp_path / "BlurCar1"
    _frames(blur / "img", [f"{i:04d}.png" for i in range(247, 261)], png_bytes)
    _lines(blur / "groundtruth_rect.txt", [[1, 1, 5, 5]] * 14)
    board = tmp_path / "Board"
    _frames(board / "img", [f"{i:05d}.png" for i in range(1, 13)], png_bytes)
    _lines(board / "groundtruth_rect.txt", [[1, 1, 5, 5]] * 12)
    seqs = {s.name: s for s in list_sequences(tmp_path, "otb")}
    assert set(seqs) == {"David", "Tiger1", "BlurCar1", "Board"}
    d = seqs["David"]
    assert len(d.frames) == 471 and d.frames[0].name == "0300.png" and d.frames[-1].name == "0770.png"
    t = seqs["Tiger1"]
    assert len(t.frames) == 349 and t.frames[0].name == "0006.png" and t.gt[0, 0] == 5.0  # initOmit 5
    assert seqs["BlurCar1"].frames[0].name == "0247.png" and len(seqs["BlurCar1"].frames) == 14
    assert seqs["Board"].frames[-1].name == "00012.png"


def test_otb_two_target_sequences(tmp_path, png_bytes):
    jog = tmp_path / "Jogging"
    _frames(jog / "img", [f"{i:04d}.png" for i in range(1, 4)], png_bytes)
    _lines(jog / "groundtruth_rect.1.txt", [[1, 1, 3, 3]] * 3)
    _lines(jog / "groundtruth_rect.2.txt", [[6, 6, 3, 3]] * 3)
    hum = tmp_path / "Human4"
    _frames(hum / "img", [f"{i:04d}.png" for i in range(1, 4)], png_bytes)
    (hum / "groundtruth_rect.1.txt").write_text("")
    _lines(hum / "groundtruth_rect.2.txt", [[2, 2, 3, 3]] * 3)
    names = [s.name for s in list_sequences(tmp_path, "otb")]
    assert names == ["Human4-2", "Jogging-1", "Jogging-2"]
    first = detect_sequence(jog)
    assert first.name == "Jogging-1" and first.gt[0, 0] == 0.0


def test_otb_json_index_variants(tmp_path, png_bytes):
    _frames(tmp_path / "Car4" / "img", ["0001.png", "0002.png"], png_bytes)
    pysot = {"Car4": {"video_dir": "Car4", "init_rect": [2, 3, 4, 5], "img_names": ["Car4/img/0001.png",
             "Car4/img/0002.png"], "gt_rect": [[2, 3, 4, 5], [3, 3, 4, 5]], "attr": ["SV"]}}
    (tmp_path / "OTB2015.json").write_text(json.dumps(pysot))
    siamdw = {"Car4": {"name": "Car4", "image_files": ["0001.png", "0002.png"], "init_rect": [2, 3, 4, 5],
              "gt_rect": [[2, 3, 4, 5], []]}}
    (tmp_path / "OTB2013.json").write_text(json.dumps(siamdw))
    a = list_sequences(tmp_path / "OTB2015.json", "otb")[0]
    assert a.frames[0] == tmp_path / "Car4/img/0001.png" and a.frames[0].is_file()
    np.testing.assert_allclose(a.gt, [[1, 2, 4, 5], [2, 2, 4, 5]])
    b = list_sequences(tmp_path, "otb", split="OTB2013")[0]
    assert b.frames[1] == tmp_path / "Car4/img/0002.png" and b.frames[1].is_file()
    assert np.isnan(b.gt[1]).all()  # empty row -> invalid
    with pytest.raises(InputError):
        list_sequences(tmp_path, "otb", split="OTB100")


# ----------------------------------------------------------------------------------------------------------
# GOT-10k, LaSOT, VOT


def _got10k_seq(folder: Path, png: bytes, n: int = 5, gt_rows: int | None = None) -> None:
    _frames(folder, [f"{i:08d}.png" for i in range(1, n + 1)], png)
    _lines(folder / "groundtruth.txt", [[1.5, 2, 6, 4]] * (n if gt_rows is None else gt_rows))
    (folder / "absence.label").write_text("\n".join(["0", "0", "1", "0", "0"][:n]) + "\n")
    (folder / "cover.label").write_text("\n".join(["8", "5", "0", "3", "8"][:n]) + "\n")
    (folder / "cut_by_image.label").write_text("0\n" * n)
    (folder / "meta_info.ini").write_text(
        "[METAINFO]\nurl: https://example.invalid\nobject_class: ball\nresolution: (16, 12)\n")


def test_got10k_layout(tmp_path, png_bytes):
    val = tmp_path / "val"
    for k in (1, 2):
        _got10k_seq(val / f"GOT-10k_Val_{k:06d}", png_bytes)
    (val / "list.txt").write_text("GOT-10k_Val_000002\nGOT-10k_Val_000001\n")
    seqs = list_sequences(tmp_path, "got10k", "val")
    assert [s.name for s in seqs] == ["GOT-10k_Val_000002", "GOT-10k_Val_000001"]  # list.txt order
    s = seqs[1]
    assert s.layout == "got10k" and len(s) == 5 and s.extras["resolution"] == (16, 12)
    np.testing.assert_array_equal(s.extras["cover"], [8, 5, 0, 3, 8])
    assert np.isnan(s.gt[2]).all() and s.gt[0, 0] == 1.5  # 0-based, absent frame NaN
    assert s.extras["meta"]["object_class"] == "ball"
    assert [x.name for x in list_sequences(val, "got10k")] == [x.name for x in seqs]
    assert detect_sequence(val / "GOT-10k_Val_000001").layout == "got10k"


def test_got10k_test_split_first_line_only(tmp_path, png_bytes):
    seq = tmp_path / "test" / "GOT-10k_Test_000001"
    _frames(seq, [f"{i:08d}.png" for i in range(1, 5)], png_bytes)
    _lines(seq / "groundtruth.txt", [[1, 2, 3, 4]])
    (seq / "meta_info.ini").write_text("[METAINFO]\nresolution: (16, 12)\n")
    s = list_sequences(tmp_path, "got10k", "test")[0]
    assert s.gt.shape == (4, 4) and s.init_box == (1.0, 2.0, 3.0, 4.0) and np.isnan(s.gt[1:]).all()


def _lasot_seq(folder: Path, png: bytes, n: int = 4) -> None:
    _frames(folder / "img", [f"{i:08d}.png" for i in range(1, n + 1)], png)
    _lines(folder / "groundtruth.txt", [[i, 1, 5, 5] for i in range(n)])
    (folder / "full_occlusion.txt").write_text(",".join(["0", "0", "1", "0"][:n]))
    (folder / "out_of_view.txt").write_text(",".join(["0", "0", "0", "1"][:n]))
    (folder / "nlp.txt").write_text("white airplane\n")


def test_lasot_layout_and_splits(tmp_path, png_bytes):
    for name in ("airplane-1", "airplane-2"):
        _lasot_seq(tmp_path / "airplane" / name, png_bytes)
    _lasot_seq(tmp_path / "bird" / "bird-3", png_bytes)
    (tmp_path / "testing_set.txt").write_text("airplane-1\nbird-3\n")
    assert [s.name for s in list_sequences(tmp_path, "lasot")] == ["airplane-1", "airplane-2", "bird-3"]
    test = list_sequences(tmp_path, "lasot", "test")
    assert [s.name for s in test] == ["airplane-1", "bird-3"]
    assert [s.name for s in list_sequences(tmp_path, "lasot", "train")] == ["airplane-2"]
    s = test[0]
    assert s.layout == "lasot" and s.extras["class"] == "airplane" and s.extras["nlp"] == "white airplane"
    np.testing.assert_array_equal(s.extras["absence"], [0, 0, 1, 1])
    assert np.isnan(s.gt[2:]).all() and s.gt[1, 0] == 1.0
    assert detect_sequence(tmp_path / "bird" / "bird-3").layout == "lasot"


def _poly_rows(n):
    return [[1 + i, 1, 9 + i, 2, 8 + i, 8, 0 + i, 7] for i in range(n)]


def test_vot_layouts(tmp_path, png_bytes):
    a = tmp_path / "ants1"
    _frames(a / "color", [f"{i:08d}.png" for i in range(1, 4)], png_bytes)
    _lines(a / "groundtruth.txt", _poly_rows(3))
    (a / "occlusion.tag").write_text("0\n1\n")  # short tag files are padded
    b = tmp_path / "bag"
    _frames(b, [f"{i:08d}.png" for i in range(1, 4)], png_bytes)
    _lines(b / "groundtruth.txt", [[1, 2, 3, 4]] * 3)
    (tmp_path / "list.txt").write_text("bag\nants1\n")
    seqs = list_sequences(tmp_path, "vot")
    assert [s.name for s in seqs] == ["bag", "ants1"]
    ants = seqs[1]
    assert ants.layout == "vot" and ants.polygons.shape == (3, 8) and ants.frames[0].parent.name == "color"
    np.testing.assert_allclose(ants.gt[0], [0, 1, 9, 7])  # min/max box of the polygon
    np.testing.assert_array_equal(ants.extras["tags"]["occlusion"], [0, 1, 0])
    assert seqs[0].polygons is None and seqs[0].gt[0, 2] == 3
    assert sequence_resolution(ants) == (W, H)


def test_detection_and_errors(tmp_path, png_bytes):
    plain = tmp_path / "plain"
    _frames(plain, ["a.png"], png_bytes)
    assert detect_sequence(plain) is None
    assert detect_sequence(tmp_path / "missing") is None
    generic = tmp_path / "generic"
    _frames(generic / "img", ["1.png", "2.png"], png_bytes)
    _lines(generic / "groundtruth.txt", [[0, 0, 2, 2]] * 2)
    assert detect_sequence(generic).layout == "folder"
    assert [s.name for s in list_sequences(tmp_path, "folder")] == ["generic"]
    bad = tmp_path / "bad"
    _frames(bad / "color", ["1.png"], png_bytes)
    (bad / "groundtruth.txt").write_text("1,2,three,4\n")
    with pytest.raises(InputError, match="groundtruth.txt"):
        detect_sequence(bad)
    noimg = tmp_path / "Noimg"
    (noimg / "img").mkdir(parents=True)
    _lines(noimg / "groundtruth_rect.txt", [[1, 1, 2, 2]])
    with pytest.raises(InputError, match="no image files"):
        detect_sequence(noimg)
    with pytest.raises(ArgumentError):
        list_sequences(tmp_path, "mot17")
    with pytest.raises(InputError):
        list_sequences(tmp_path / "nope", "otb")


# ----------------------------------------------------------------------------------------------------------
# result files and evaluation


def test_result_paths_and_readers(tmp_path):
    assert result_path("otb", tmp_path, "t", "Car4") == tmp_path / "t/Car4.txt"
    assert result_path("lasot", tmp_path, "t", "cat-1") == tmp_path / "t/cat-1.txt"
    assert result_path("got10k", tmp_path, "t", "S", 2) == tmp_path / "t/S/S_002.txt"
    assert result_path("vot", tmp_path, "t", "bag") == tmp_path / "t/baseline/bag/bag_001.txt"
    p = tmp_path / "r.txt"
    p.write_text("1\n1,2,3,4\n2\n0\n1,1,5,1,5,4,1,4\n")
    boxes = read_result(p)
    assert np.isnan(boxes[0]).all() and np.isnan(boxes[2:4]).all()
    np.testing.assert_allclose(boxes[4], [1, 1, 4, 3])
    codes, polys = read_vot_result(p)
    np.testing.assert_array_equal(codes, [1, -1, 2, 0, -1])
    np.testing.assert_allclose(polys[1], [1, 2, 4, 2, 4, 6, 1, 6])
    p.write_text("1,2,3\n")
    with pytest.raises(InputError):
        read_vot_result(p)


def test_evaluate_otb_roundtrip(tmp_path, png_bytes):
    data, res = tmp_path / "otb", tmp_path / "res"
    seq = data / "Car4"
    _frames(seq / "img", [f"{i:04d}.png" for i in range(1, 5)], png_bytes)
    _lines(seq / "groundtruth_rect.txt", [[3, 3, 6, 4]] * 4)
    s = list_sequences(data, "otb")[0]
    perfect = write_result("otb", res, "perfect", s.name, s.gt)
    assert perfect.read_text().startswith("3.000,3.000,")  # written back in the GT's 1-based convention
    half = s.gt.copy()
    half[1:, 2] = 3  # IoU 0.5 for frames 1..3
    write_result("otb", res, "half", s.name, half)
    out = evaluate_results("otb", data, res)
    assert set(out) == {"half", "perfect"}
    assert out["perfect"]["auc"] == pytest.approx(20 / 21) and out["perfect"]["p20"] == 1.0
    assert out["half"]["mean_iou"] == pytest.approx((1 + 3 * 0.5) / 4)
    assert out["half"]["sr50"] == pytest.approx(0.25)
    excl = evaluate_results("otb", data, res, trackers=["half"], include_first=False)["half"]
    assert excl["mean_iou"] == pytest.approx(0.5)
    assert len(out["half"]["success_curve"]) == 21 and out["half"]["missing"] == []
    json.dumps(out)  # JSON-ready
    only = evaluate_results("otb", data, res / "half")  # one tracker's own folder
    assert list(only) == ["half"]
    with pytest.raises(ArgumentError):
        evaluate_results("otb", data, res, bogus=1)


def test_folder_dataset_runs_and_scores_mixed_layouts(tmp_path, png_bytes, monkeypatch):
    """`--dataset folder`: a UAV123/OTB (1-based) and a VOT (0-based) sequence under one root, run and scored."""
    from cvkit.track import evaluate as E
    from cvkit.track import registry
    from cvkit.track.base import Tracker

    data = tmp_path / "mixed"
    uav = data / "uav_boat"
    _frames(uav / "img", [f"{i:06d}.png" for i in range(1, 6)], png_bytes)
    _lines(uav / "groundtruth_rect.txt", [[3 + i, 3, 6, 4] for i in range(5)])  # 1-based
    vot = data / "vot_bag"
    _frames(vot / "imgs", [f"{i:08d}.png" for i in range(1, 5)], png_bytes)
    _lines(vot / "groundtruth.txt", [[1, 2, 7, 2, 7, 6, 1, 6]] * 4)
    seqs = {s.name: s for s in list_sequences(data, "folder")}
    gts = {n: s.gt for n, s in seqs.items()}

    class Oracle(Tracker):
        """Returns the next GT box of whichever sequence it was started on."""

        def initialize(self, frame, box):
            self.gt = next(g for g in gts.values() if np.allclose(g[0], box))
            self.i = 0

        def track(self, frame):
            self.i += 1
            return tuple(self.gt[self.i]), 1.0

    monkeypatch.setattr(registry, "build_tracker", lambda model, device="cpu": Oracle())
    E.run_benchmark("folder", data, tmp_path / "res", ["oracle"])
    assert (tmp_path / "res/oracle/uav_boat.txt").read_text().startswith("3.000,3.000,")  # GT's own 1-based
    out = evaluate_results("folder", data, tmp_path / "res")["oracle"]
    assert out["n_sequences"] == 2
    for name in ("uav_boat", "vot_bag"):
        assert out["per_sequence"][name]["mean_iou"] == pytest.approx(1.0)


def test_evaluate_got10k_frame_weighted(tmp_path, png_bytes):
    root, res = tmp_path / "got", tmp_path / "res"
    _got10k_seq(root / "val" / "A", png_bytes)  # cover 8,5,0,3,8 -> frames 1,3,4 scored
    _frames(root / "val" / "B", [f"{i:08d}.png" for i in range(1, 3)], png_bytes)
    _lines(root / "val" / "B" / "groundtruth.txt", [[0, 0, 4, 4]] * 2)
    (root / "val" / "B" / "meta_info.ini").write_text("[METAINFO]\nresolution: (16, 12)\n")
    (root / "val" / "list.txt").write_text("A\nB\n")
    a_gt = np.tile([1.5, 2, 6, 4], (5, 1))
    write_result("got10k", res, "trk", "A", a_gt, times=[0.1] * 5, repetition=1)
    miss = a_gt.copy()
    miss[1:] = [10, 8, 2, 2]
    write_result("got10k", res, "trk", "A", miss, times=[0.2] * 5, repetition=2)
    b = np.array([[0, 0, 4, 4], [-4, 0, 8, 4]], dtype=float)  # clipped -> (0,0,8,4): IoU 0.5
    write_result("got10k", res, "trk", "B", b, times=[0.05, 0.05])
    tfile = res / "trk/A/A_time.txt"
    assert tfile.read_text().splitlines()[0] == "0.10000000,0.20000000"  # one column per repetition
    r = evaluate_results("got10k", root, res, split="val")["trk"]
    ious = np.array([1, 1, 1, 0, 0, 0, 0.5])  # A run 1, A run 2, B: 7 frames, frame-weighted
    assert r["n_frames"] == 7 and r["ao"] == pytest.approx(ious.mean())
    assert r["sr50"] == pytest.approx(3 / 7) and r["sr75"] == pytest.approx(3 / 7)
    assert r["fps"] == pytest.approx(np.mean(1 / np.array([0.1] * 5 + [0.2] * 5 + [0.05] * 2)))
    assert r["per_sequence"]["A"]["runs"] == 2 and len(r["success_curve"]) == 101
    json.dumps(r)


def test_evaluate_vot_and_reset_protocol(tmp_path, png_bytes):
    root, res = tmp_path / "VOT2018", tmp_path / "res"
    seq = root / "s"
    n = 12
    _frames(seq / "color", [f"{i:08d}.png" for i in range(1, n + 1)], png_bytes)
    gt_boxes = np.tile([2.0, 2, 6, 6], (n, 1))
    _lines(seq / "groundtruth.txt", M.box_to_polygon(gt_boxes).tolist())
    (root / "list.txt").write_text("s\n")
    s = list_sequences(root, "vot")[0]
    started = []

    def update(i):
        return (2, 2, 6, 3) if i != 3 else (12, 9, 2, 2)  # IoU 0.5, one miss at frame 3

    entries = run_vot_reset(s.polygons, lambda i, box: started.append(i), update, bound=(W, H))
    assert started == [0, 8]
    assert [e for e in entries if isinstance(e, int)] == [1, 2, 0, 0, 0, 0, 1]
    assert entries[0] == 1 and entries[3] == 2 and entries[8] == 1
    np.testing.assert_allclose(entries[1], [2, 2, 6, 3])
    write_result("vot", res, "trk", "s", entries)
    write_result("vot", res, "trk", "s", entries, repetition=2)
    r = evaluate_results("vot", root, res, burnin=1)["trk"]
    assert r["failures"] == pytest.approx(1.0)
    assert r["robustness"] == pytest.approx(100 / n)
    assert r["accuracy"] == pytest.approx(0.5, abs=1e-3)
    assert r["eao_range"] == [100, 356] and r["n_frames"] == n  # year 2018 from the root name
    json.dumps(r)
    perfect = [1] + [p for p in s.polygons[1:]]
    write_result("vot", res, "gt", "s", perfect)
    g = evaluate_results("vot", root, res, trackers=["gt"], eao_range=(2, 5))["gt"]
    assert g["accuracy"] == pytest.approx(1.0) and g["failures"] == 0 and g["eao"] == pytest.approx(1.0)


def test_format_boxes_one_based():
    assert format_boxes(np.array([[0, 1, 2, 3]]), one_based=True) == "1.000,2.000,2.000,3.000\n"


@pytest.mark.skipif(not BAG.is_dir(), reason=f"real data not available: {BAG}")
def test_real_vot15_bag(tmp_path):
    s = detect_sequence(BAG)
    assert isinstance(s, Sequence) and s.layout == "vot" and s.name == "vot15_bag"
    assert len(s.frames) == 196 and s.frames[0].name == "00000001.jpg" and s.frames[0].parent.name == "imgs"
    assert s.polygons.shape == (196, 8) and s.gt.shape == (196, 4)
    np.testing.assert_allclose(s.gt[0], [291.827, 124.711, 442.173 - 291.827, 264.289 - 124.711], atol=1e-6)
    assert sequence_resolution(s) == (480, 360)
    # the min/max boxes of the rotated GT overlap it well but not perfectly
    ious = M.polygon_iou(M.box_to_polygon(s.gt), s.polygons, (480, 360))
    assert 0.5 < ious.mean() < 0.95
    # a static tracker through the reset protocol on the real sequence: failures recorded, files readable
    state = {}
    entries = run_vot_reset(s.polygons, lambda i, box: state.update(box=box), lambda i: state["box"],
                            bound=(480, 360))
    write_result("vot", tmp_path / "res", "static", s.name, entries)
    r = evaluate_results("vot", BAG.parent, tmp_path / "res", sequences=[s], year=2016)["static"]
    assert r["failures"] == sum(1 for e in entries if isinstance(e, int) and e == 2) > 0
    assert 0 < r["accuracy"] <= 1 and 0 <= r["eao"] <= 1 and r["n_frames"] == 196
