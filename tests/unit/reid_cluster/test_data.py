"""Crop layouts, boxes files, crop extraction from video, output files (round trips and error paths)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from cvkit.errors import InputError
from cvkit.reid_cluster.data import (
    Box,
    detect_layout,
    extract_crops,
    list_crops,
    load_crops,
    parse_name,
    read_boxes,
    synthetic_pedestrians,
    write_crop_folder,
)
from cvkit.reid_cluster.outputs import (
    ranking_records,
    read_clusters_csv,
    read_ranking_jsonl,
    write_clusters_csv,
    write_contact_sheet,
    write_metrics_json,
    write_ranking_jsonl,
)


def test_parse_market_duke_and_plain_names(tmp_path):
    m = parse_name(tmp_path / "0002_c1s1_000451_03.jpg")
    assert (m.pid, m.camera, m.frame) == (2, 1, 451)
    assert parse_name(tmp_path / "-1_c3s2_012345_01.jpg").pid == -1
    d = parse_name(tmp_path / "0005_c2_f0046985.jpg")
    assert (d.pid, d.camera, d.frame) == (5, 2, 46985)
    p = parse_name(tmp_path / "person.png")
    assert p.pid is None and p.camera == 0 and p.frame == -1


def test_list_crops_layouts_and_errors(tmp_path):
    with pytest.raises(InputError, match="no crop image files"):
        list_crops(tmp_path)
    with pytest.raises(InputError, match="no such file or folder"):
        list_crops(tmp_path / "missing")
    for split in ("query", "bounding_box_test"):
        (tmp_path / split).mkdir()
    assert detect_layout(tmp_path) == "market"
    assert detect_layout(tmp_path / "query") == "folder"
    sub = tmp_path / "cam" / "a"
    sub.mkdir(parents=True)
    img = np.full((20, 10, 3), 128, np.uint8)
    for name in ("0001_c1_f10.jpg", "0001_c1_f2.jpg"):
        cv2.imwrite(str(sub / name), img)
    crops = list_crops(tmp_path / "cam")
    assert [c.frame for c in crops] == [2, 10]  # natural order
    cv2.imwrite(str(sub / ".0001_c1_f3.jpg"), img)  # hidden: skipped
    assert [c.frame for c in list_crops(tmp_path / "cam")] == [2, 10]
    assert [c.frame for c in list_crops(str(tmp_path / "cam" / "*" / "*_f1*.jpg"))] == [10]  # a glob pattern
    with pytest.raises(InputError, match="pattern matches no crop image files"):
        list_crops(str(tmp_path / "cam" / "*.png"))


def test_unreadable_crop_is_an_input_error(tmp_path):
    (tmp_path / "0001_c1_f1.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(InputError, match="0001_c1_f1.jpg"):
        load_crops([tmp_path / "0001_c1_f1.jpg"], (128, 64))


def test_read_boxes_formats(tmp_path):
    xml = tmp_path / "gt.xml"
    xml.write_text('<dataset><frame number="3"><objectlist><object id="7"><box h="40" w="20" xc="50" yc="60"/>'
                   "</object></objectlist></frame></dataset>")
    assert read_boxes(xml) == [Box(3, 7, 40.0, 40.0, 20.0, 40.0)]
    mot = tmp_path / "gt.txt"
    mot.write_text("1,2,10,20,30,40,1,-1,-1\n2,2,11,20,30,40,1,-1,-1\n")
    assert read_boxes(mot)[0] == Box(0, 2, 10, 20, 30, 40)  # MOT frames are 1-based
    csvf = tmp_path / "b.csv"
    csvf.write_text("frame,id,x,y,w,h\n4,1,1,2,3,4\n")
    assert read_boxes(csvf) == [Box(4, 1, 1, 2, 3, 4)]
    (tmp_path / "bad.xml").write_text("<dataset><frame")
    with pytest.raises(InputError, match="not valid XML"):
        read_boxes(tmp_path / "bad.xml")
    (tmp_path / "bad.txt").write_text("1,2,x,4,5,6\n")
    with pytest.raises(InputError, match="line 1"):
        read_boxes(tmp_path / "bad.txt")
    (tmp_path / "b.json").write_text("{}")
    with pytest.raises(InputError, match="unknown boxes format"):
        read_boxes(tmp_path / "b.json")
    with pytest.raises(InputError, match="not found"):
        read_boxes(tmp_path / "missing.xml")


def test_extract_crops_from_video_and_mismatch(square_video, tmp_path):
    video, boxes = square_video  # 12 frames 160x120, a 24x24 square moving right
    gt = tmp_path / "gt.csv"
    gt.write_text("frame,id,x,y,w,h\n" + "".join(f"{i},3,{b[0]},{b[1] - 20},{b[2]},{b[3] + 20}\n"
                                                   for i, b in enumerate(boxes)))
    crops = extract_crops(video, gt, tmp_path / "crops", every=2, min_size=(12, 30))
    assert [c.frame for c in crops] == [0, 2, 4, 6, 8, 10]
    assert crops[0].path.name == "0003_c1_f00000.jpg"
    assert cv2.imread(str(crops[0].path)).shape[:2] == (44, 24)
    far = tmp_path / "far.csv"
    far.write_text("frame,id,x,y,w,h\n0,1,5000,5000,30,60\n1,1,5000,5000,30,60\n")
    with pytest.raises(InputError, match="does not match the video"):
        extract_crops(video, far, tmp_path / "c2")
    late = tmp_path / "late.csv"
    late.write_text("frame,id,x,y,w,h\n500,1,10,10,30,60\n")
    with pytest.raises(InputError, match="has 12 frames"):
        extract_crops(video, late, tmp_path / "c3")


def test_synthetic_pedestrians_shapes_and_files(tmp_path):
    images, ids, cams = synthetic_pedestrians(3, 4, (64, 32), n_cameras=2, seed=1)
    assert images.shape == (12, 64, 32, 3) and images.dtype == np.uint8
    assert ids.tolist() == [0] * 4 + [1] * 4 + [2] * 4 and set(cams.tolist()) <= {0, 1}
    again, _, _ = synthetic_pedestrians(3, 4, (64, 32), n_cameras=2, seed=1)
    assert np.array_equal(images, again)
    paths = write_crop_folder(images, ids, cams, tmp_path)
    crops = list_crops(tmp_path)
    assert len(crops) == 12 and {c.pid for c in crops} == {1, 2, 3} and paths[0].name.startswith("0001_c")


def test_output_files_round_trip(tmp_path):
    files = ["a.jpg", "b.jpg", "c.jpg"]
    labels = np.array([0, -1, 0])
    status = np.array(["kept", "ambiguous", "kept"])
    krjd = np.array([0.1, np.nan, 0.25], np.float32)
    write_clusters_csv(tmp_path / "clusters.csv", files, labels, status, krjd, np.array([0, 1, 0]))
    rows = read_clusters_csv(tmp_path / "clusters.csv")
    assert [r["cluster"] for r in rows] == [0, -1, 0] and rows[1]["krjd"] is None
    assert rows[2]["krjd"] == pytest.approx(0.25) and rows[1]["status"] == "ambiguous"
    dist = np.array([[0.0, 0.5, 0.2], [0.5, 0.0, 0.9], [0.2, 0.9, 0.0]])
    recs = ranking_records(files, dist, top=1)
    assert recs[0] == {"query": "a.jpg", "results": [{"file": "c.jpg", "dist": 0.2, "rank": 1}]}
    write_ranking_jsonl(tmp_path / "ranking.jsonl", recs)
    assert read_ranking_jsonl(tmp_path / "ranking.jsonl") == recs
    write_metrics_json(tmp_path / "metrics.json", {"mAP": np.float32(0.5), "x": float("nan"), "n": np.int64(3)})
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"mAP": 0.5, "x": None, "n": 3}
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="not a clusters.csv"):
        read_clusters_csv(tmp_path / "bad.csv")


def test_contact_sheet_rows(tmp_path):
    paths = []
    for i in range(4):
        p = tmp_path / f"{i}.jpg"
        cv2.imwrite(str(p), np.full((40, 20, 3), 60 * i, np.uint8))
        paths.append(p)
    write_contact_sheet(tmp_path / "index.html", paths, np.array([1, 1, 0, -1]))
    page = (tmp_path / "index.html").read_text()
    assert page.count("<tr>") == 3 and "cluster 1" in page and "dropped" in page
    assert page.index("cluster 1") < page.index("cluster 0")  # largest cluster first
    assert page.count("data:image/jpeg;base64,") == 4
