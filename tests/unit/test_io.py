"""Box parsing, box files, result formats and atomic writes."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from cvkit.errors import ArgumentError, InputError
from cvkit.io.atomic import atomic_path, check_not_input
from cvkit.io.boxes import (
    FrameResult,
    format_results,
    parse_box,
    polygon_to_area_preserving,
    polygon_to_minmax,
    read_box_file,
    write_results,
)


def test_parse_box_and_one_based():
    assert parse_box("10,20,30,40") == (10, 20, 30, 40)
    assert parse_box("10 20 30 40", one_based=True) == (9, 19, 30, 40)
    for bad in ("1,2,3", "a,b,c,d", "1,2,3,nan"):
        with pytest.raises(ArgumentError):
            parse_box(bad)


def test_polygon_boxes():
    square = [0, 0, 10, 0, 10, 10, 0, 10]
    assert np.allclose(polygon_to_minmax(square), [0, 0, 10, 10])
    # a 45-degree rotated square of side sqrt(2)*5: area 50, bbox 10x10 -> area-preserving side sqrt(50)+1
    diamond = [5, 0, 10, 5, 5, 10, 0, 5]
    b = polygon_to_area_preserving(diamond)
    assert np.isclose(b[2], np.sqrt(50) + 1) and np.isclose(b[0] + (b[2] - 1) / 2, 5)


def test_read_box_file_mixed_delimiters(tmp_path):
    f = tmp_path / "gt.txt"
    f.write_text("1,2,3,4\n5\t6\t7\t8\n\n0,0,10,0,10,10,0,10\n")
    boxes = read_box_file(f)
    assert boxes.shape == (3, 4)
    assert np.allclose(boxes[2], [0, 0, 10, 10])
    assert np.allclose(read_box_file(f, one_based=True)[0], [0, 1, 3, 4])
    (tmp_path / "bad.txt").write_text("1,2,x,4\n")
    with pytest.raises(InputError, match="line 1"):
        read_box_file(tmp_path / "bad.txt")


def test_result_formats_round_trip(tmp_path):
    rs = [FrameResult(0, (1, 2, 3, 4), 1.0, False, 5.0), FrameResult(1, (2, 3, 4, 5), 0.1, True, 6.0)]
    txt = format_results(rs, "txt").splitlines()
    assert txt == ["1.00,2.00,3.00,4.00", "2.00,3.00,4.00,5.00"]
    csv = format_results(rs, "csv").splitlines()
    assert csv[0] == "frame,x,y,w,h,score,lost,ms" and csv[2].split(",")[6] == "1"
    js = [json.loads(line) for line in format_results(rs, "jsonl").splitlines()]
    assert js[1] == {"frame": 1, "box": [2, 3, 4, 5], "score": 0.1, "lost": True, "ms": 6.0}
    write_results(tmp_path / "b.txt", rs)
    assert np.allclose(read_box_file(tmp_path / "b.txt"), [[1, 2, 3, 4], [2, 3, 4, 5]])


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    old = os.umask(0o022)
    try:
        with atomic_path(target) as tmp:
            tmp.write_text("done")
    finally:
        os.umask(old)
    assert target.read_text() == "done" and len(list(tmp_path.iterdir())) == 1
    assert target.stat().st_mode & 0o777 == 0o644  # normal permissions, not mkstemp's 0600


def test_output_may_not_be_an_input(tmp_path):
    f = tmp_path / "video.mp4"
    f.write_bytes(b"x")
    with pytest.raises(ArgumentError):
        check_not_input(tmp_path / "." / "video.mp4", [f])
