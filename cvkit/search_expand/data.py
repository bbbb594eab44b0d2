"""Evaluation datasets: folder-per-class layouts, revisited Oxford/Paris (`<root>/jpg/*.jpg` +
`gnd_<name>.pkl`), PETS2009 S2L1 person crops (video + CVML XML), scikit-learn digits, and a folder-per-class
set generated from images bundled with scikit-image (synthetic photometric/geometric variants)."""

from __future__ import annotations

import pickle
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError
from ..io.atomic import atomic_path
from ..io.images import IMAGE_SUFFIXES, natural_key


@dataclass
class RetrievalSet:
    """Database images (or image arrays), queries, and per-query ground truth {ok, junk}.

    `db_images`/`query_images` hold BGR arrays or paths; `query_db_index[i]` is the query's own database
    entry (-1 if the query is not in the database); `gnd` may instead hold revisited easy/hard/junk lists.
    """

    name: str
    db_images: list
    query_images: list
    gnd: list[dict]
    query_db_index: np.ndarray
    revisited: bool = False
    meta: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------- folders
def read_folders(root: str | Path, max_queries: int = 1000) -> RetrievalSet:
    """`root/<class>/*.jpg`: every image is in the database; up to `max_queries` (evenly spread) are queries,
    relevant = same class, the query itself is junk."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(root, "dataset folder not found")
    paths, labels = [], []
    classes = sorted((d for d in root.iterdir() if d.is_dir()), key=natural_key)
    for c, d in enumerate(classes):
        files = sorted((p for p in d.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES), key=natural_key)
        paths += files
        labels += [c] * len(files)
    if len(classes) < 2 or not paths:
        raise InputError(root, "expected a folder per class with images inside (at least 2 classes)")
    y = np.asarray(labels)
    qi = np.unique(np.linspace(0, len(paths) - 1, min(max_queries, len(paths))).round().astype(int))
    gnd = [{"ok": np.setdiff1d(np.flatnonzero(y == y[i]), [i]), "junk": np.array([i])} for i in qi]
    return RetrievalSet(root.name, paths, [paths[i] for i in qi], gnd, qi, meta={"classes": len(classes)})


# ------------------------------------------------------------------------------------ revisited Ox/Par
def read_revisited(root: str | Path, name: str) -> RetrievalSet:
    """Revisited Oxford/Paris: `root/[name/]jpg/<im>.jpg` + `gnd_<name>.pkl`; queries cropped by their bbx."""
    root = Path(root)
    base = root / name if (root / name).is_dir() else root
    pkl = base / f"gnd_{name}.pkl"
    if not pkl.is_file():
        raise InputError(pkl, "ground-truth file not found (revisitop layout: <root>/<name>/gnd_<name>.pkl)")
    try:
        with open(pkl, "rb") as f:
            cfg = pickle.load(f)  # noqa: S301 - the user's own revisitop ground-truth file
        imlist, qimlist, gnd = cfg["imlist"], cfg["qimlist"], cfg["gnd"]
    except Exception as e:  # noqa: BLE001
        raise InputError(pkl, f"not a revisitop gnd file ({type(e).__name__})") from None
    jpg = base / "jpg"
    db = [jpg / f"{n}.jpg" for n in imlist]
    queries = []
    for n, g in zip(qimlist, gnd, strict=True):
        queries.append((jpg / f"{n}.jpg", tuple(float(v) for v in g["bbx"])))
    return RetrievalSet(name, db, queries, list(gnd), np.full(len(queries), -1), revisited=True)


# ------------------------------------------------------------------------------------------ PETS crops
def read_cvml(path: Path) -> list[tuple[int, int, float, float, float, float]]:
    """(frame, id, x, y, w, h) boxes of a PETS/CVML XML file (centre-based boxes converted to corners)."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as e:
        raise InputError(path, f"not readable XML ({e})") from None
    out = []
    for fr in root.iter("frame"):
        n = int(fr.get("number"))
        for obj in fr.iter("object"):
            b = obj.find("box")
            w, h = float(b.get("w")), float(b.get("h"))
            out.append((n, int(obj.get("id")), float(b.get("xc")) - w / 2, float(b.get("yc")) - h / 2, w, h))
    if not out:
        raise InputError(path, "no <frame>/<object>/<box> elements")
    return out


def pets_crops(video: Path, xml: Path, every: int = 5, min_wh: tuple[int, int] = (12, 30),
               min_inside: float = 0.7) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, float]:
    """Person crops of every `every`-th annotated frame: (crops, ids, frames, fps)."""
    boxes = read_cvml(xml)
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise InputError(video, "cannot open video")
    fps = cap.get(cv2.CAP_PROP_FPS) or 7.0
    by_frame: dict[int, list] = {}
    for b in boxes:
        if b[0] % every == 0:
            by_frame.setdefault(b[0], []).append(b)
    crops, ids, frames = [], [], []
    i = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        H, W = frame.shape[:2]
        for _, pid, x, y, w, h in by_frame.get(i, []):
            x0, y0, x1, y1 = max(0.0, x), max(0.0, y), min(float(W), x + w), min(float(H), y + h)
            if w < min_wh[0] or h < min_wh[1] or x1 <= x0 or y1 <= y0 or (x1 - x0) * (y1 - y0) < min_inside * w * h:
                continue
            crops.append(frame[int(round(y0)):int(round(y1)), int(round(x0)):int(round(x1))].copy())
            ids.append(pid)
            frames.append(i)
        i += 1
    cap.release()
    if not crops:
        raise InputError(video, "no crops (video and annotation do not match)")
    return crops, np.asarray(ids), np.asarray(frames), fps


def read_pets(root: str | Path, query_every: int = 4, junk_seconds: float = 5.0) -> RetrievalSet:
    """PETS2009 S2L1 person retrieval: all crops are the database, every `query_every`-th crop a query;
    relevant = same identity, junk = the query itself and same-identity crops within +-`junk_seconds`."""
    root = Path(root)
    crops, ids, frames, fps = pets_crops(root / "vtest.avi", root / "PETS2009-S2L1.xml")
    qi = np.arange(0, len(crops), query_every)
    gnd = []
    for i in qi:
        same = ids == ids[i]
        near = same & (np.abs(frames - frames[i]) <= junk_seconds * fps)
        gnd.append({"ok": np.flatnonzero(same & ~near), "junk": np.flatnonzero(near)})
    return RetrievalSet("pets2009-s2l1", crops, [crops[i] for i in qi], gnd, qi,
                        meta={"ids": int(len(set(ids))), "fps": fps})


# ---------------------------------------------------------------------------------------------- digits
def digits_set(query_every: int = 10, size: int = 64) -> RetrievalSet:
    """scikit-learn digits as images (8x8 upscaled to `size`, BGR): class = relevance."""
    from sklearn.datasets import load_digits

    d = load_digits()
    imgs = []
    for im in d.images:
        g = (255 - im * (255.0 / 16.0)).astype(np.uint8)  # dark ink on white paper
        g = cv2.resize(g, (size, size), interpolation=cv2.INTER_CUBIC)
        imgs.append(cv2.cvtColor(g, cv2.COLOR_GRAY2BGR))
    y = d.target
    qi = np.arange(0, len(imgs), query_every)
    gnd = [{"ok": np.setdiff1d(np.flatnonzero(y == y[i]), [i]), "junk": np.array([i])} for i in qi]
    return RetrievalSet("sklearn-digits", imgs, [imgs[i] for i in qi], gnd, qi, meta={"pixels": d.data})


# ----------------------------------------------------------------------- bundled-image folder-per-class
SKIMAGE_SOURCES = ("astronaut", "camera", "cat", "chelsea", "coffee", "coins", "eagle", "grass", "gravel",
                   "horse", "hubble_deep_field", "immunohistochemistry", "moon", "page", "rocket", "text",
                   "brick", "clock", "logo", "retina", "colorwheel", "lily", "skin")


def _bundled_images() -> list[tuple[str, np.ndarray]]:
    import skimage.data as sd

    out = []
    for name in SKIMAGE_SOURCES:
        try:
            im = np.asarray(getattr(sd, name)())
        except Exception:  # noqa: BLE001 - a missing optional image (pooch download) is skipped
            continue
        if im.dtype != np.uint8:
            f = im.astype(np.float64)
            im = (255 * (f - f.min()) / max(f.max() - f.min(), 1e-9)).astype(np.uint8)
        if im.ndim == 2:
            im = cv2.cvtColor(im, cv2.COLOR_GRAY2BGR)
        elif im.shape[2] == 4:
            im = cv2.cvtColor(im, cv2.COLOR_RGBA2BGR)
        else:
            im = cv2.cvtColor(im[..., :3], cv2.COLOR_RGB2BGR)
        out.append((name, im))
    return out


def variant(img: np.ndarray, rng: np.random.Generator, out_size: int = 160) -> np.ndarray:
    """One photometric/geometric variant: random crop (40-90 % side), rotation +-25 deg, perspective jitter,
    flip, brightness/contrast/gamma/colour shift, blur or noise, JPEG re-compression."""
    h, w = img.shape[:2]
    s = rng.uniform(0.4, 0.9)
    cw, ch = int(w * s), int(h * s)
    x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    src = np.float32([[x0, y0], [x0 + cw, y0], [x0 + cw, y0 + ch], [x0, y0 + ch]])
    src += rng.normal(0, 0.05 * min(cw, ch), src.shape).astype(np.float32)
    ang = np.deg2rad(rng.uniform(-25, 25))
    c = src.mean(0)
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]], np.float32)
    src = (src - c) @ rot.T + c
    dst = np.float32([[0, 0], [out_size, 0], [out_size, out_size], [0, out_size]])
    out = cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (out_size, out_size),
                              borderMode=cv2.BORDER_REFLECT)
    if rng.random() < 0.5:
        out = out[:, ::-1]
    f = out.astype(np.float32) / 255.0
    f = np.clip(f * rng.uniform(0.6, 1.4) + rng.uniform(-0.15, 0.15), 0, 1) ** rng.uniform(0.7, 1.4)
    f = np.clip(f * rng.uniform(0.85, 1.15, 3), 0, 1)
    out = (f * 255).astype(np.uint8)
    if rng.random() < 0.4:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 2.0))
    elif rng.random() < 0.5:
        out = np.clip(out + rng.normal(0, 8, out.shape), 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 95))])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def make_bundled_folders(out_dir: str | Path, per_class: int = 15, seed: int = 0) -> Path:
    """Write the folder-per-class set: one class per scikit-image bundled image, `per_class` variants each."""
    out_dir = Path(out_dir)
    rng = np.random.default_rng(seed)
    for name, img in _bundled_images():
        d = out_dir / name
        d.mkdir(parents=True, exist_ok=True)
        for j in range(per_class):
            with atomic_path(d / f"{name}_{j:03d}.jpg") as tmp:
                cv2.imwrite(str(tmp), variant(img, rng))
    return out_dir


DATASETS = ("roxford5k", "rparis6k", "folders", "pets2009", "digits", "bundled")


def load_dataset(name: str, root: str | Path | None, max_queries: int = 1000) -> RetrievalSet:
    """A retrieval set by name: revisited Oxford/Paris, a folder-per-class root, PETS2009 S2L1 (folder with
    vtest.avi + PETS2009-S2L1.xml), scikit-learn digits, or the generated scikit-image folder set."""
    if name in ("roxford5k", "rparis6k"):
        return read_revisited(_need(root, name), name)
    if name == "folders":
        return read_folders(_need(root, name), max_queries)
    if name == "pets2009":
        return read_pets(_need(root, name))
    if name == "digits":
        return digits_set()
    if name == "bundled":
        import tempfile

        tmp = Path(root) if root else Path(tempfile.mkdtemp(prefix="cvkit-bundled-"))
        if not any(tmp.glob("*/*.jpg")):
            make_bundled_folders(tmp)
        rs = read_folders(tmp, max_queries)
        rs.name = "bundled-skimage"
        return rs
    raise InputError(name, f"unknown dataset (one of {', '.join(DATASETS)})")


def _need(root: str | Path | None, name: str) -> Path:
    if root is None:
        raise InputError(name, "this dataset needs --root DIR")
    return Path(root)
