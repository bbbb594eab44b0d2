"""Point-cloud readers/writers: round trips of every format and the error paths (InputError, exit 3)."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from cvkit.errors import InputError
from cvkit.io.pointcloud import (
    read_label,
    read_pcd_fields,
    read_ply_fields,
    read_points,
    write_label,
    write_pcd,
    write_ply,
)


@pytest.fixture
def cloud() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.normal(0, 10, (50, 4)).astype(np.float32)


def test_kitti_bin_round_trip(tmp_path, cloud):
    p = tmp_path / "scan.bin"
    cloud.tofile(p)
    assert np.array_equal(read_points(p), cloud)


def test_bin_size_not_multiple_of_16_is_input_error(tmp_path, cloud):
    p = tmp_path / "bad.bin"
    p.write_bytes(cloud.tobytes()[:-3])
    with pytest.raises(InputError, match="not a multiple of 16") as e:
        read_points(p)
    assert e.value.exit_code == 3 and "bad.bin" in str(e.value)


def test_label_round_trip_and_count_check(tmp_path):
    lab = np.array([10, 40 | (3 << 16), 0, 81], dtype=np.uint32)
    p = tmp_path / "x.label"
    write_label(p, lab)
    assert p.stat().st_size == 16
    back = read_label(p, 4)
    assert back.dtype == np.uint32 and np.array_equal(back, lab)
    with pytest.raises(InputError, match="has 4 labels but the scan has 5"):
        read_label(p, 5)


def test_ply_and_pcd_writers_round_trip(tmp_path, cloud):
    colors = np.tile(np.array([[1, 2, 3]], dtype=np.uint8), (len(cloud), 1))
    labels = np.arange(len(cloud), dtype=np.uint32)
    write_ply(tmp_path / "a.ply", cloud, colors, labels)
    write_pcd(tmp_path / "a.pcd", cloud, colors, labels)
    for p in (tmp_path / "a.ply", tmp_path / "a.pcd"):
        assert np.allclose(read_points(p), cloud)
    assert np.array_equal(read_ply_fields(tmp_path / "a.ply")["label"], labels)
    assert np.array_equal(read_pcd_fields(tmp_path / "a.pcd")["label"], labels)
    assert read_ply_fields(tmp_path / "a.ply")["red"][0] == 1


def test_ascii_formats(tmp_path):
    (tmp_path / "a.pcd").write_text(
        "# comment\nVERSION 0.7\nFIELDS x y z intensity\nSIZE 4 4 4 4\nTYPE F F F F\nCOUNT 1 1 1 1\n"
        "WIDTH 2\nHEIGHT 1\nPOINTS 2\nDATA ascii\n1 2 3 0.5\n4 5 6 0.25\n")
    assert np.allclose(read_points(tmp_path / "a.pcd"), [[1, 2, 3, 0.5], [4, 5, 6, 0.25]])
    (tmp_path / "a.ply").write_text(
        "ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\nproperty float z\n"
        "property float scalar_intensity\nelement face 0\nproperty list uchar int vertex_indices\nend_header\n"
        "1 2 3 7\n4 5 6 8\n")
    assert np.allclose(read_points(tmp_path / "a.ply"), [[1, 2, 3, 7], [4, 5, 6, 8]])


def _lzf_literals(data: bytes) -> bytes:
    out = bytearray()
    for i in range(0, len(data), 32):
        chunk = data[i:i + 32]
        out.append(len(chunk) - 1)
        out += chunk
    return bytes(out)


def test_binary_compressed_pcd(tmp_path, cloud):
    n = len(cloud)
    body = b"".join(np.ascontiguousarray(cloud[:, i]).tobytes() for i in range(3))  # column-major x, y, z
    comp = _lzf_literals(body)
    header = (f"VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH {n}\nHEIGHT 1\n"
              f"POINTS {n}\nDATA binary_compressed\n").encode()
    (tmp_path / "c.pcd").write_bytes(header + struct.pack("<II", len(comp), len(body)) + comp)
    pts = read_points(tmp_path / "c.pcd")
    assert np.array_equal(pts[:, :3], cloud[:, :3]) and (pts[:, 3] == 0).all()


def test_lzf_back_reference(tmp_path):
    # literal "ab" then a back reference copying 4 bytes from offset 2 -> "ababab" (x = 3 floats? use u1 field)
    comp = bytes([1]) + b"ab" + bytes([(2 << 5) | 0, 1])  # len code 2 -> 4 bytes, offset 1+1 = 2
    header = b"VERSION 0.7\nFIELDS x y z\nSIZE 1 1 1\nTYPE U U U\nCOUNT 1 1 1\nWIDTH 2\nHEIGHT 1\nPOINTS 2\n" \
             b"DATA binary_compressed\n"
    (tmp_path / "r.pcd").write_bytes(header + struct.pack("<II", len(comp), 6) + comp)
    f = read_pcd_fields(tmp_path / "r.pcd")
    assert f["x"].tolist() == [97, 98] and f["y"].tolist() == [97, 98] and f["z"].tolist() == [97, 98]


def test_numpy_inputs(tmp_path, cloud):
    np.save(tmp_path / "a.npy", cloud[:, :3])
    np.savez(tmp_path / "b.npz", points=cloud)
    assert np.allclose(read_points(tmp_path / "a.npy")[:, :3], cloud[:, :3])
    assert np.allclose(read_points(tmp_path / "b.npz"), cloud)
    np.save(tmp_path / "bad.npy", np.zeros((4, 2)))
    with pytest.raises(InputError, match="expected an"):
        read_points(tmp_path / "bad.npy")


@pytest.mark.parametrize("name,content,msg", [
    ("x.ply", b"not a ply", "magic"),
    ("x.pcd", b"VERSION 0.7\nFIELDS x y z\n", "truncated"),
    ("x.txt", b"1 2 3", "unsupported"),
    ("e.bin", b"", "no points"),
])
def test_bad_files(tmp_path, name, content, msg):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(InputError, match=msg):
        read_points(p)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_points(tmp_path / "nope.bin")
