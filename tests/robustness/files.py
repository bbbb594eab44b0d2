"""Generators of tiny good and bad input files for the robustness corpus (nothing binary is committed).

Every function takes the target path and writes one file (or folder). Good files are as small as the commands
accept; bad ones are empty, truncated, mislabelled (another format under the suffix), hold NaN/inf or degenerate
geometry, or declare huge sizes in their headers.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

Writer = Callable[[Path], None]


def _parent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# ------------------------------------------------------------------------------------------------ generic bad files
def empty(path: Path) -> None:
    """A zero-byte file."""
    _parent(path).write_bytes(b"")


def text(content: str) -> Writer:
    """A file holding `content` (mislabelled: text under a binary suffix, or a malformed text format)."""
    def write(path: Path) -> None:
        _parent(path).write_text(content, encoding="utf-8")
    return write


def raw(content: bytes) -> Writer:
    """A file holding these bytes."""
    def write(path: Path) -> None:
        _parent(path).write_bytes(content)
    return write


def truncated(writer: Writer, keep: float = 0.5) -> Writer:
    """What `writer` writes, cut to its first `keep` fraction of bytes (an interrupted copy)."""
    def write(path: Path) -> None:
        writer(path)
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])
    return write


def folder(**members: Writer) -> Writer:
    """A folder with these members (names may contain '/'; '__' in a keyword becomes '/', '_dot_' a '.')."""
    def write(path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        for name, w in members.items():
            w(path / name.replace("__", "/").replace("_dot_", "."))
    return write


def tree(members: dict[str, Writer]) -> Writer:
    """A folder with members given by relative path (any characters)."""
    def write(path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        for name, w in members.items():
            w(path / name)
    return write


def empty_folder(path: Path) -> None:
    """An empty folder."""
    path.mkdir(parents=True, exist_ok=True)


# ------------------------------------------------------------------------------------------------ images
def _texture(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.integers(40, 220, (h, w, 3), dtype=np.uint8), (0, 0), 2)
    return img


def image(h: int = 48, w: int = 64, seed: int = 0, ext: str | None = None) -> Writer:
    """A small textured image (format from the suffix, or `ext` to mislabel it)."""
    def write(path: Path) -> None:
        ok, buf = cv2.imencode(ext or path.suffix, _texture(h, w, seed))
        assert ok
        _parent(path).write_bytes(buf.tobytes())
    return write


def png_huge_header(path: Path) -> None:
    """A PNG whose IHDR declares 200000 x 200000 pixels (decoding it would need 120 GB)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 200000, 200000, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 64)
    _parent(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def frames(n: int = 4, h: int = 48, w: int = 64, ext: str = ".jpg", bad: dict[int, Writer] | None = None) -> Writer:
    """An image-folder clip (0001.jpg ...) of a square moving right; `bad` replaces some frames."""
    def write(path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        for i, f in enumerate(_square_frames(n, h, w)):
            target = path / f"{i + 1:04d}{ext}"
            if bad and i in bad:
                bad[i](target)
            else:
                cv2.imwrite(str(target), f)
    return write


def _square_frames(n: int, h: int, w: int) -> list[np.ndarray]:
    bg = _texture(h, w, 1)
    patch = _texture(12, 12, 2)
    out = []
    for i in range(n):
        f = bg.copy()
        x = min(4 + 2 * i, max(0, w - 12))
        y = min(10, max(0, h - 12))
        f[y:y + 12, x:x + 12] = patch[: min(12, h - y), : min(12, w - x)]
        out.append(f)
    return out


# ------------------------------------------------------------------------------------------------ videos
def video(n: int = 4, h: int = 48, w: int = 64, fourcc: str | None = None) -> Writer:
    """A tiny video of a square moving right (.avi MJPG, .mp4 mp4v)."""
    def write(path: Path) -> None:
        code = fourcc or ("mp4v" if path.suffix.lower() == ".mp4" else "MJPG")
        known = path.suffix.lower() in (".mp4", ".avi", ".mkv", ".mov")
        target = path if known else path.with_name(path.name + ".avi")  # OpenCV picks the container by suffix
        vw = cv2.VideoWriter(str(_parent(target)), cv2.VideoWriter_fourcc(*code), 10, (w, h))
        for f in _square_frames(n, h, w):
            vw.write(f)
        vw.release()
        if target != path:
            target.rename(path)
        assert path.stat().st_size > 0
    return write


# ------------------------------------------------------------------------------------------------ point clouds
def scan_points(n: int = 1500, seed: int = 0) -> np.ndarray:
    """A ground plane with a box on it: x, y, z, remission (float32)."""
    rng = np.random.default_rng(seed)
    g = np.c_[rng.uniform(-20, 20, (n, 2)), np.full(n, -1.73)]
    m = n // 6
    box = np.c_[rng.uniform(6, 10, m), rng.uniform(2, 4, m), rng.uniform(-1.4, -0.3, m)]
    pts = np.concatenate([g, box])
    return np.c_[pts, rng.uniform(0, 1, len(pts))].astype(np.float32)


def bin_scan(points: np.ndarray | None = None) -> Writer:
    """A KITTI .bin scan (float32 x, y, z, remission)."""
    def write(path: Path) -> None:
        p = scan_points() if points is None else np.asarray(points, np.float32)
        p.tofile(_parent(path))
    return write


def nan_points(n: int = 50) -> np.ndarray:
    """All-NaN points."""
    return np.full((n, 4), np.nan, np.float32)


def inf_points(n: int = 50) -> np.ndarray:
    """Points at +-inf."""
    p = np.full((n, 4), np.inf, np.float32)
    p[::2] *= -1
    return p


def one_point() -> np.ndarray:
    """A single finite point."""
    return np.array([[5.0, 1.0, -1.0, 0.5]], np.float32)


def same_point(n: int = 40) -> np.ndarray:
    """Many copies of one point (degenerate: zero extent)."""
    return np.tile(np.array([[3.0, 2.0, -1.0, 0.2]], np.float32), (n, 1))


def half_nan() -> np.ndarray:
    """A good scan with every other point NaN."""
    p = scan_points(800)
    p[::2, :3] = np.nan
    return p


def far_points(n: int = 60) -> np.ndarray:
    """Finite but absurd coordinates (1e30 m)."""
    rng = np.random.default_rng(0)
    return np.c_[rng.uniform(-1e30, 1e30, (n, 3)), np.zeros(n)].astype(np.float32)


def npy(arr: np.ndarray) -> Writer:
    """A .npy array."""
    def write(path: Path) -> None:
        with open(_parent(path), "wb") as f:
            np.save(f, arr, allow_pickle=True)
    return write


def npz(**arrays: np.ndarray) -> Writer:
    """A .npz archive."""
    def write(path: Path) -> None:
        with open(_parent(path), "wb") as f:
            np.savez(f, **arrays)
    return write


def pcd(points: np.ndarray | None = None, mode: str = "binary", declared: int | None = None,
        header_extra: str = "", fields: str = "x y z intensity") -> Writer:
    """A PCD file; `declared` overrides the POINTS/WIDTH count in the header."""
    def write(path: Path) -> None:
        p = scan_points(400) if points is None else points
        n = len(p) if declared is None else declared
        head = (f"# .PCD v0.7\nVERSION 0.7\nFIELDS {fields}\nSIZE 4 4 4 4\nTYPE F F F F\nCOUNT 1 1 1 1\n"
                f"WIDTH {n}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n}\n{header_extra}DATA {mode}\n")
        if mode == "ascii":
            body = "\n".join(" ".join(f"{v:.4f}" for v in row) for row in p).encode() + b"\n"
        else:
            body = np.ascontiguousarray(p, "<f4").tobytes()
        _parent(path).write_bytes(head.encode() + body)
    return write


def ply(points: np.ndarray | None = None, fmt: str = "binary_little_endian", declared: str | None = None,
        props: str = "property float x\nproperty float y\nproperty float z\nproperty float intensity\n") -> Writer:
    """A PLY file; `declared` overrides the vertex count text in the header."""
    def write(path: Path) -> None:
        p = scan_points(400) if points is None else points
        n = str(len(p)) if declared is None else declared
        head = f"ply\nformat {fmt} 1.0\nelement vertex {n}\n{props}end_header\n"
        if fmt == "ascii":
            body = "\n".join(" ".join(f"{v:.4f}" for v in row) for row in p).encode() + b"\n"
        else:
            body = np.ascontiguousarray(p, "<f4").tobytes()
        _parent(path).write_bytes(head.encode() + body)
    return write


def kitti_root(scans: dict[str, Writer], labels: dict[str, Writer] | None = None, seq: str = "08") -> Writer:
    """A SemanticKITTI root: sequences/SEQ/velodyne/NAME.bin (+ labels/NAME.label)."""
    def write(path: Path) -> None:
        for name, w in scans.items():
            w(path / "sequences" / seq / "velodyne" / name)
        for name, w in (labels or {}).items():
            w(path / "sequences" / seq / "labels" / name)
    return write


def labels(n: int, value: int = 40) -> Writer:
    """A SemanticKITTI .label file of `n` points, all class `value` (40 = road)."""
    def write(path: Path) -> None:
        np.full(n, value, "<u4").tofile(_parent(path))
    return write


# ------------------------------------------------------------------------------------------------ tables
def table_image(h: int = 120, w: int = 240, rows: int = 3, cols: int = 3) -> np.ndarray:
    """A ruled table (black lines on white) with a short dark bar in each cell as 'text'."""
    img = np.full((h, w, 3), 255, np.uint8)
    for r in range(rows + 1):
        y = 5 + r * (h - 10) // rows
        cv2.line(img, (5, y), (w - 5, y), (0, 0, 0), 1)
    for c in range(cols + 1):
        x = 5 + c * (w - 10) // cols
        cv2.line(img, (x, 5), (x, h - 5), (0, 0, 0), 1)
    for r in range(rows):
        for c in range(cols):
            x = 5 + c * (w - 10) // cols + 10
            y = 5 + r * (h - 10) // rows + (h - 10) // rows // 2
            cv2.putText(img, f"{r}{c}", (x, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    return img


def table_png(ext: str | None = None) -> Writer:
    """A small ruled-table image (suffix decides the format unless `ext` mislabels it)."""
    def write(path: Path) -> None:
        ok, buf = cv2.imencode(ext or path.suffix, table_image())
        assert ok
        _parent(path).write_bytes(buf.tobytes())
    return write


def pdf_bytes(pages: int = 1, encrypt: bool = False) -> bytes:
    """A minimal valid PDF (one ruled 2x2 table with text per page), with a correct xref table."""
    objs: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    font_id = 3 + 2 * pages
    for i in range(pages):
        content = (b"0 G 1 w 100 600 m 300 600 l S 100 650 m 300 650 l S 100 700 m 300 700 l S "
                   b"100 600 m 100 700 l S 200 600 m 200 700 l S 300 600 m 300 700 l S "
                   b"BT /F1 12 Tf 110 675 Td (Name) Tj 100 0 Td (Value) Tj -100 -50 Td (alpha) Tj "
                   b"100 0 Td (42) Tj ET")
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
                    f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode())
        objs.append(b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    trailer = f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R"
    if encrypt:  # a Standard security handler the reader cannot open without a password
        trailer += " /Encrypt << /Filter /Standard /V 1 /R 2 /O <00> /U <00> /P -4 >> /ID [<00> <00>]"
    out += f"{trailer} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def pdf(pages: int = 1, encrypt: bool = False) -> Writer:
    """A minimal PDF file."""
    return raw(pdf_bytes(pages, encrypt))


def reg_xml(page: int = 1, box: tuple[int, int, int, int] = (100, 600, 300, 700)) -> Writer:
    """An ICDAR-2013 -reg.xml with one table region."""
    x1, y1, x2, y2 = box
    return text(f'<?xml version="1.0" encoding="UTF-8"?>\n<document filename="t.pdf"><table id="1">'
                f'<region id="1" page="{page}"><bounding-box x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"/>'
                f"</region></table></document>\n")


def str_xml() -> Writer:
    """An ICDAR-2013 -str.xml for the minimal PDF's 2x2 table."""
    cells = "".join(
        f'<cell id="{i}" start-row="{r}" start-col="{c}"><bounding-box x1="{100 + 100 * c}" y1="{650 - 50 * r}" '
        f'x2="{200 + 100 * c}" y2="{700 - 50 * r}"/><content>{t}</content></cell>'
        for i, (r, c, t) in enumerate([(0, 0, "Name"), (0, 1, "Value"), (1, 0, "alpha"), (1, 1, "42")]))
    return text(f'<?xml version="1.0" encoding="UTF-8"?>\n<document filename="t.pdf"><table id="1">'
                f'<region id="1" page="1">{cells}</region></table></document>\n')


# ------------------------------------------------------------------------------------------------ re-id
def crops(n_ids: int = 3, per_id: int = 3, bad: dict[str, Writer] | None = None) -> Writer:
    """A folder of person crops named PPPP_cC_fFFFFF.jpg (identities in the names), plus `bad` members."""
    def write(path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        for pid in range(1, n_ids + 1):
            for j in range(per_id):
                img = _texture(64, 32, 10 * pid)
                img = np.clip(img.astype(int) + 6 * j, 0, 255).astype(np.uint8)
                cv2.imwrite(str(path / f"{pid:04d}_c{1 + j % 2}_f{j * 10:05d}.jpg"), img)
        for name, w in (bad or {}).items():
            w(path / name)
    return write


def cvml_xml(frames_: int = 4, box: tuple[float, float, float, float] = (30, 24, 16, 40)) -> Writer:
    """A PETS/CVML XML with one person per frame (centre-based boxes)."""
    xc, yc, w, h = box
    body = "".join(f'<frame number="{i}"><objectlist><object id="1"><box h="{h}" w="{w}" xc="{xc}" yc="{yc}"/>'
                   "</object></objectlist></frame>" for i in range(frames_))
    return text(f'<?xml version="1.0"?>\n<dataset name="t">{body}</dataset>\n')


def mot_gt(rows: list[str]) -> Writer:
    """A MOT gt.txt / csv boxes file from lines."""
    return text("\n".join(rows) + "\n")


def market_root(bad: dict[str, Writer] | None = None) -> Writer:
    """A tiny Market-1501 layout: query + bounding_box_test (+ bounding_box_train)."""
    def write(path: Path) -> None:
        for split in ("query", "bounding_box_test", "bounding_box_train"):
            d = path / split
            d.mkdir(parents=True, exist_ok=True)
            for pid in (1, 2):
                for cam in (1, 2):
                    img = _texture(64, 32, 10 * pid + cam)
                    cv2.imwrite(str(d / f"{pid:04d}_c{cam}s1_{cam * 100:06d}_00.jpg"), img)
        for name, w in (bad or {}).items():
            w(path / name)
    return write
