"""Point-cloud files: read KITTI `.bin`, `.pcd`, `.ply`, `.npy/.npz`; write SemanticKITTI `.label`, `.ply`, `.pcd`.

Readers return an (N, 4) float32 array x, y, z, intensity (0 when the file has none), in file order, so per-point
outputs line up with the input. PCD (ascii / binary / binary_compressed) and PLY (ascii / binary little/big endian)
are parsed here in numpy: open3d drops extra fields such as `label` and `intensity`, which a labelled cloud needs.
Every problem is an InputError (exit 3) naming the file.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from ..errors import InputError
from .atomic import atomic_path

POINT_SUFFIXES = (".bin", ".pcd", ".ply", ".npy", ".npz")
_INTENSITY_NAMES = ("intensity", "remission", "reflectance", "scalar_intensity", "i", "scalar_Intensity")


def read_points(path: str | Path, bin_fields: int = 4) -> np.ndarray:
    """Read a point cloud as (N, 4) float32 x, y, z, intensity; non-finite points are kept (callers mask them)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    suffix = path.suffix.lower()
    if suffix == ".bin":
        pts = read_kitti_bin(path, bin_fields)
    elif suffix == ".pcd":
        pts = read_pcd(path)
    elif suffix == ".ply":
        pts = read_ply(path)
    elif suffix in (".npy", ".npz"):
        pts = _read_numpy(path)
    else:
        raise InputError(path, f"unsupported point-cloud format {suffix!r} (use {', '.join(POINT_SUFFIXES)})")
    if pts.shape[0] == 0:
        raise InputError(path, "contains no points")
    return pts


def read_kitti_bin(path: Path, fields: int = 4) -> np.ndarray:
    """KITTI velodyne `.bin`: float32 records of `fields` values (x, y, z, remission[, ...])."""
    size = path.stat().st_size
    rec = 4 * fields
    if size % rec:
        raise InputError(path, f"size {size} bytes is not a multiple of {rec} (float32 x,y,z,remission records); "
                               "not a KITTI .bin scan")
    raw = np.fromfile(path, dtype="<f4").reshape(-1, fields)
    out = np.zeros((raw.shape[0], 4), dtype=np.float32)
    out[:, :3] = raw[:, :3]
    if fields >= 4:
        out[:, 3] = raw[:, 3]
    return out


def _read_numpy(path: Path) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
        if isinstance(arr, np.lib.npyio.NpzFile):
            key = "points" if "points" in arr.files else arr.files[0]
            arr = arr[key]
    except Exception as e:  # noqa: BLE001 - any numpy parse failure is a bad input file
        raise InputError(path, f"cannot read numpy array ({e})") from None
    if arr.dtype.kind not in "biuf":
        raise InputError(path, f"expected a numeric array of x, y, z[, intensity], got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] < 3:
        raise InputError(path, f"expected an (N, 3+) array of x, y, z[, intensity], got shape {arr.shape}")
    out = np.zeros((arr.shape[0], 4), dtype=np.float32)
    out[:, : min(4, arr.shape[1])] = arr[:, :4]
    return out


def _ascii_numbers(path: Path, tokens: list[str], kind: str) -> np.ndarray:
    """The body values of an ascii PCD/PLY as float64 (InputError naming the file when one is not a number)."""
    try:
        return np.asarray(tokens, dtype=np.float64)
    except ValueError:
        bad = next(t for t in tokens if not _is_number(t))
        raise InputError(path, f"{kind} ascii body holds {bad[:20]!r}, not a number") from None


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _columns_to_points(path: Path, cols: dict[str, np.ndarray]) -> np.ndarray:
    if not all(k in cols for k in "xyz"):
        raise InputError(path, f"no x, y, z fields (found {', '.join(cols) or 'none'})")
    n = len(cols["x"])
    out = np.zeros((n, 4), dtype=np.float32)
    for i, k in enumerate("xyz"):
        out[:, i] = cols[k]
    for name in _INTENSITY_NAMES:
        if name in cols:
            out[:, 3] = cols[name]
            break
    return out


# ---------------------------------------------------------------- PCD
_PCD_TYPES = {("F", 4): "f4", ("F", 8): "f8", ("U", 1): "u1", ("U", 2): "u2", ("U", 4): "u4", ("U", 8): "u8",
              ("I", 1): "i1", ("I", 2): "i2", ("I", 4): "i4", ("I", 8): "i8"}


def read_pcd(path: Path) -> np.ndarray:
    """PCL `.pcd` (ascii, binary, binary_compressed) -> (N, 4)."""
    return _columns_to_points(path, read_pcd_fields(path))


def read_pcd_fields(path: Path) -> dict[str, np.ndarray]:
    """All scalar fields of a `.pcd` file by name (count > 1 fields keep their first element)."""
    data = path.read_bytes()
    header: dict[str, list[str]] = {}
    pos = 0
    while True:
        end = data.find(b"\n", pos)
        if end < 0:
            raise InputError(path, "truncated PCD header (no DATA line)")
        line = data[pos:end].decode("ascii", "replace").strip()
        pos = end + 1
        if not line or line.startswith("#"):
            continue
        key, *vals = line.split()
        header[key.upper()] = vals
        if key.upper() == "DATA":
            break
    try:
        names = header["FIELDS"]
        sizes = [int(s) for s in header["SIZE"]]
        types = header["TYPE"]
        counts = [int(c) for c in header.get("COUNT", ["1"] * len(names))]
        n = int(header.get("POINTS", [0])[0]) or int(header["WIDTH"][0]) * int(header.get("HEIGHT", ["1"])[0])
        mode = header["DATA"][0].lower()
        dtypes = [_PCD_TYPES[(t.upper(), s)] for t, s in zip(types, sizes, strict=True)]
    except (KeyError, ValueError, IndexError) as e:
        raise InputError(path, f"invalid PCD header ({type(e).__name__}: {e})") from None
    if n < 0:
        raise InputError(path, f"invalid PCD header (POINTS {n} is negative)")
    cols: dict[str, np.ndarray] = {}
    if mode == "ascii":
        text = data[pos:].decode("ascii", "replace").split()
        width = sum(counts)
        if len(text) < n * width:
            raise InputError(path, f"PCD ascii body has {len(text)} values, header promises {n * width}")
        vals = _ascii_numbers(path, text[: n * width], "PCD").reshape(n, width)
        c = 0
        for name, cnt in zip(names, counts, strict=True):
            cols[name] = vals[:, c]
            c += cnt
    elif mode == "binary":
        uniq = [nm if nm != "_" else f"_{i}" for i, nm in enumerate(names)]
        dt = np.dtype([(nm, "<" + d, (cnt,)) if cnt > 1 else (nm, "<" + d)
                       for nm, d, cnt in zip(uniq, dtypes, counts, strict=True)])
        if len(data) - pos < n * dt.itemsize:
            raise InputError(path, f"PCD binary body is {len(data) - pos} bytes, header promises {n * dt.itemsize}")
        rec = np.frombuffer(data, dtype=dt, count=n, offset=pos)
        for nm, cnt in zip(uniq, counts, strict=True):
            cols[nm] = rec[nm][:, 0] if cnt > 1 else rec[nm]
    elif mode == "binary_compressed":
        if len(data) - pos < 8:
            raise InputError(path, "truncated binary_compressed PCD body")
        csize, usize = struct.unpack("<II", data[pos:pos + 8])
        expected = n * sum(np.dtype(d).itemsize * c for d, c in zip(dtypes, counts, strict=True))
        if usize != expected:  # checked before decompressing: a corrupt header must not allocate gigabytes
            raise InputError(path, f"binary_compressed PCD body declares {usize} bytes, the header's {n} points "
                                   f"need {expected}")
        if csize > len(data) - pos - 8:
            raise InputError(path, f"truncated binary_compressed PCD body ({len(data) - pos - 8} of {csize} bytes)")
        raw = _lzf_decompress(data[pos + 8:pos + 8 + csize], usize, path)
        off = 0
        for nm, d, cnt in zip(names, dtypes, counts, strict=True):
            col = np.frombuffer(raw, dtype="<" + d, count=n * cnt, offset=off).reshape(n, cnt)
            cols[nm] = col[:, 0]
            off += n * cnt * np.dtype(d).itemsize
    else:
        raise InputError(path, f"unsupported PCD DATA mode {mode!r}")
    return {k: np.asarray(v) for k, v in cols.items() if not k.startswith("_")}


def _lzf_decompress(src: bytes, out_len: int, path: Path) -> bytes:
    """LZF decompression (PCL's binary_compressed body)."""
    out = bytearray(out_len)
    i = o = 0
    n = len(src)
    try:
        while i < n:
            ctrl = src[i]
            i += 1
            if ctrl < 32:
                length = ctrl + 1
                out[o:o + length] = src[i:i + length]
                i += length
                o += length
            else:
                length = ctrl >> 5
                ref = o - ((ctrl & 0x1F) << 8) - 1
                if length == 7:
                    length += src[i]
                    i += 1
                ref -= src[i]
                i += 1
                length += 2
                if ref < 0:
                    raise ValueError("back reference before start")
                for _ in range(length):
                    out[o] = out[ref]
                    o += 1
                    ref += 1
    except (IndexError, ValueError) as e:
        raise InputError(path, f"corrupt binary_compressed PCD body ({e})") from None
    if o != out_len:
        raise InputError(path, f"binary_compressed PCD body decompressed to {o} bytes, expected {out_len}")
    return bytes(out)


# ---------------------------------------------------------------- PLY
_PLY_TYPES = {"char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "i2", "int16": "i2",
              "ushort": "u2", "uint16": "u2", "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
              "float": "f4", "float32": "f4", "double": "f8", "float64": "f8"}


def read_ply(path: Path) -> np.ndarray:
    """`.ply` vertices (ascii / binary) -> (N, 4); intensity from `intensity`/`scalar_intensity`/... when present."""
    return _columns_to_points(path, read_ply_fields(path))


def read_ply_fields(path: Path) -> dict[str, np.ndarray]:
    """The vertex element's scalar properties of a `.ply` file, by name (vertex must be the first element)."""
    data = path.read_bytes()
    if not data.startswith(b"ply"):
        raise InputError(path, "not a PLY file (missing 'ply' magic)")
    end = data.find(b"end_header")
    if end < 0:
        raise InputError(path, "truncated PLY header (no end_header)")
    body = data.find(b"\n", end) + 1
    lines = data[:end].decode("ascii", "replace").splitlines()
    fmt = None
    n = None
    props: list[tuple[str, str]] = []
    in_vertex = False
    seen_element = False
    for line in lines:
        tok = line.split()
        if not tok:
            continue
        if tok[0] == "format":
            fmt = tok[1]
        elif tok[0] == "element":
            if tok[1] == "vertex":
                if seen_element:
                    raise InputError(path, "PLY vertex element must come first")
                try:
                    n, in_vertex = int(tok[2]), True
                except (IndexError, ValueError):
                    raise InputError(path, f"invalid PLY header line {line.strip()!r} (vertex count)") from None
                if n < 0:
                    raise InputError(path, f"invalid PLY header (vertex count {n} is negative)")
            else:
                in_vertex = False
            seen_element = True
        elif tok[0] == "property" and in_vertex:
            if tok[1] == "list":
                raise InputError(path, "list properties on vertices are not supported")
            if tok[1] not in _PLY_TYPES:
                raise InputError(path, f"unknown PLY property type {tok[1]!r}")
            props.append((tok[2], _PLY_TYPES[tok[1]]))
    if n is None or fmt is None:
        raise InputError(path, "PLY header has no vertex element or format line")
    if fmt == "ascii":
        text = data[body:].decode("ascii", "replace").split()
        if len(text) < n * len(props):
            raise InputError(path, f"PLY ascii body has {len(text)} values, header promises {n * len(props)}")
        vals = _ascii_numbers(path, text[: n * len(props)], "PLY").reshape(n, len(props))
        return {name: vals[:, i] for i, (name, _) in enumerate(props)}
    order = {"binary_little_endian": "<", "binary_big_endian": ">"}.get(fmt)
    if order is None:
        raise InputError(path, f"unknown PLY format {fmt!r}")
    dt = np.dtype([(name, order + t) for name, t in props])
    if len(data) - body < n * dt.itemsize:
        raise InputError(path, f"PLY body is {len(data) - body} bytes, header promises {n * dt.itemsize}")
    rec = np.frombuffer(data, dtype=dt, count=n, offset=body)
    return {name: rec[name] for name, _ in props}


# ---------------------------------------------------------------- writers
def read_label(path: str | Path, n_points: int | None = None) -> np.ndarray:
    """SemanticKITTI `.label` (uint32 per point); checks the count against the scan when given."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    size = path.stat().st_size
    if size % 4:
        raise InputError(path, f"size {size} bytes is not a multiple of 4 (uint32 per point)")
    lab = np.fromfile(path, dtype="<u4")
    if n_points is not None and lab.size != n_points:
        raise InputError(path, f"has {lab.size} labels but the scan has {n_points} points")
    return lab


def write_label(path: str | Path, raw_labels: np.ndarray) -> None:
    """Write a SemanticKITTI `.label`: uint32 little-endian per point, atomically."""
    lab = np.ascontiguousarray(raw_labels, dtype="<u4")
    with atomic_path(path) as tmp:
        lab.tofile(tmp)


def write_ply(path: str | Path, points: np.ndarray, colors: np.ndarray, labels: np.ndarray) -> None:
    """Binary PLY with x, y, z, intensity, red, green, blue and `label` (uint32 raw id) per vertex."""
    n = points.shape[0]
    dt = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("intensity", "<f4"), ("red", "u1"),
                   ("green", "u1"), ("blue", "u1"), ("label", "<u4")])
    rec = np.empty(n, dtype=dt)
    for i, k in enumerate(("x", "y", "z", "intensity")):
        rec[k] = points[:, i]
    rec["red"], rec["green"], rec["blue"] = colors[:, 0], colors[:, 1], colors[:, 2]
    rec["label"] = labels
    header = ("ply\nformat binary_little_endian 1.0\ncomment cvkit segment-lidar\n"
              f"element vertex {n}\nproperty float x\nproperty float y\nproperty float z\nproperty float intensity\n"
              "property uchar red\nproperty uchar green\nproperty uchar blue\nproperty uint label\nend_header\n")
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(header.encode("ascii"))
        f.write(rec.tobytes())


def write_pcd(path: str | Path, points: np.ndarray, colors: np.ndarray, labels: np.ndarray) -> None:
    """Binary PCD with x y z intensity rgb (PCL packed float) label per point."""
    n = points.shape[0]
    dt = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("intensity", "<f4"), ("rgb", "<u4"),
                   ("label", "<u4")])
    rec = np.empty(n, dtype=dt)
    for i, k in enumerate(("x", "y", "z", "intensity")):
        rec[k] = points[:, i]
    c = colors.astype(np.uint32)
    rec["rgb"] = (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]
    rec["label"] = labels
    header = ("# .PCD v0.7 - cvkit segment-lidar\nVERSION 0.7\nFIELDS x y z intensity rgb label\n"
              "SIZE 4 4 4 4 4 4\nTYPE F F F F F U\nCOUNT 1 1 1 1 1 1\n"
              f"WIDTH {n}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n}\nDATA binary\n")
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(header.encode("ascii"))
        f.write(rec.tobytes())
