"""Standard dataset layouts for evaluation (and PF-PASCAL training pairs), read as `PairRecord`s.

- PF-PASCAL (HPF layout): ROOT[/PF-PASCAL]/{test,val,trn}_pairs.csv (source, target, class 1-20[, flip]),
  JPEGImages/, Annotations/<class>/<image>.mat ('kps', NaN rows dropped on either side, 'bbox'); or Rocco's
  test_pairs_pf_pascal.csv with ';'-separated XA, YA, XB, YB columns. PCK threshold: target image max side.
- PF-WILLOW: ROOT[/PF-WILLOW]/test_pairs.csv (HPF) or test_pairs_pf.csv (Rocco): imageA, imageB, 10 x then 10 y
  of A, 10 x then 10 y of B; image paths' first component is dropped (HPF). Threshold: target keypoint box.
- SPair-71k: ROOT[/SPair-71k]/Layout/large/{split}.txt, PairAnnotation/{split}/<pair>.json (src_kps, trg_kps,
  trg_bndbox, category, src_imname, trg_imname), JPEGImages/<category>/. Threshold: target object box.
- homography: a folder with images named <prefix>1.<ext>, <prefix>N.<ext> and H1toNp (Oxford text 3x3) or
  H1toNp.xml (OpenCV FileStorage, any matrix node); every source point of a 16 px grid whose image lies in the
  target. Threshold: target image max side.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError
from ..io.images import IMAGE_SUFFIXES
from .metrics import homography_grid

PASCAL_CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
                  "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train",
                  "tvmonitor")


@dataclass
class PairRecord:
    """One evaluation pair: images, keypoints (N,2) in original pixels, PCK threshold kind and its value."""

    source: Path
    target: Path
    src_kps: np.ndarray
    trg_kps: np.ndarray
    thres_kind: str
    category: str = ""
    bbox: tuple[float, float, float, float] | None = None


def _first(*cands: Path) -> Path | None:
    return next((c for c in cands if c.exists()), None)


def read_pf_pascal(root: Path, split: str = "test") -> list[PairRecord]:
    """PF-PASCAL pairs of `split` (HPF or Rocco CSV)."""
    root = Path(root)
    base = _first(root / "PF-PASCAL", root / "PF-dataset-PASCAL", root) or root
    rocco = _first(root / f"{split}_pairs_pf_pascal.csv", base / f"{split}_pairs_pf_pascal.csv")
    hpf = _first(base / f"{split}_pairs.csv", root / f"{split}_pairs.csv")
    img_dir = _first(base / "JPEGImages", root / "JPEGImages") or base
    if rocco is not None:
        out = []
        for row in _csv_rows(rocco):
            xa, ya, xb, yb = (np.array([float(v) for v in row[k].split(";")]) for k in ("XA", "YA", "XB", "YB"))
            cls = PASCAL_CLASSES[int(float(row["class"])) - 1] if row.get("class") else ""
            out.append(PairRecord(img_dir / Path(row["source_image"]).name, img_dir / Path(row["target_image"]).name,
                                  np.c_[xa, ya], np.c_[xb, yb], "img", cls))
        return out
    if hpf is None:
        raise InputError(root, f"no PF-PASCAL {split}_pairs.csv (HPF) or {split}_pairs_pf_pascal.csv (Rocco) found")
    from scipy.io import loadmat

    ann = base / "Annotations"
    out = []
    with open(hpf, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            src, trg, cls = Path(row[0]).name, Path(row[1]).name, PASCAL_CLASSES[int(float(row[2])) - 1]
            ks = loadmat(ann / cls / (Path(src).stem + ".mat"))["kps"].astype(float)
            kt = loadmat(ann / cls / (Path(trg).stem + ".mat"))["kps"].astype(float)
            ok = np.isfinite(ks).all(1) & np.isfinite(kt).all(1)
            out.append(PairRecord(img_dir / src, img_dir / trg, ks[ok], kt[ok], "img", cls))
    return out


def read_pf_willow(root: Path) -> list[PairRecord]:
    """PF-WILLOW test pairs (900)."""
    root = Path(root)
    base = _first(root / "PF-WILLOW", root / "PF-dataset", root) or root
    path = _first(base / "test_pairs.csv", root / "test_pairs.csv", base / "test_pairs_pf.csv",
                  root / "test_pairs_pf.csv")
    if path is None:
        raise InputError(root, "no PF-WILLOW test_pairs.csv / test_pairs_pf.csv found")
    out = []
    with open(path, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            vals = np.array([float(v) for v in row[2:42]])
            src_kps = vals[:20].reshape(2, 10).T
            trg_kps = vals[20:40].reshape(2, 10).T

            def resolve(name: str) -> Path:
                rel = Path(*Path(name).parts[1:]) if len(Path(name).parts) > 1 else Path(name)
                return _first(base / rel, root / name, base / name) or base / rel

            out.append(PairRecord(resolve(row[0]), resolve(row[1]), src_kps, trg_kps, "kpbox",
                                  Path(row[0]).parts[-2] if len(Path(row[0]).parts) > 1 else ""))
    return out


def read_spair(root: Path, split: str = "test") -> list[PairRecord]:
    """SPair-71k pairs of `split` (test: 12,234)."""
    root = Path(root)
    base = _first(root / "SPair-71k", root) or root
    layout = _first(base / "Layout" / "large" / f"{split}.txt", base / "Layout" / f"{split}.txt")
    ann_dir = base / "PairAnnotation" / split
    names = (layout.read_text().split() if layout is not None
             else sorted(p.stem for p in ann_dir.glob("*.json")) if ann_dir.is_dir() else [])
    if not names:
        raise InputError(root, f"no SPair-71k Layout/large/{split}.txt or PairAnnotation/{split}/*.json found")
    out = []
    for name in names:
        a = json.loads((ann_dir / f"{name}.json").read_text())
        cat = a["category"]
        img = base / "JPEGImages" / cat
        out.append(PairRecord(img / a["src_imname"], img / a["trg_imname"],
                              np.asarray(a["src_kps"], float).reshape(-1, 2),
                              np.asarray(a["trg_kps"], float).reshape(-1, 2),
                              "bbox", cat, tuple(float(v) for v in a["trg_bndbox"])))
    return out


def read_homography_matrix(path: Path) -> np.ndarray:
    """A 3x3 homography from an Oxford text file or an OpenCV FileStorage XML/YAML file."""
    path = Path(path)
    if path.suffix.lower() in (".xml", ".yml", ".yaml"):
        fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
        node = fs.root()
        for key in node.keys():
            m = fs.getNode(key).mat()
            if m is not None and m.shape == (3, 3):
                return m.astype(np.float64)
        raise InputError(path, "no 3x3 matrix in this file")
    try:
        m = np.loadtxt(path, dtype=np.float64)
    except ValueError as e:
        raise InputError(path, f"not a 3x3 homography ({e})") from e
    if m.shape != (3, 3):
        raise InputError(path, f"expected a 3x3 matrix, got {m.shape}")
    return m


def read_homography_pairs(root: Path, step: int = 16) -> list[PairRecord]:
    """Image pairs with a true homography H1toN (see module doc); dense grid keypoints in the overlap."""
    root = Path(root)
    images = [p for p in sorted(root.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
    out = []
    for hfile in sorted(root.iterdir()):
        m = re.fullmatch(r"H1to(\d+)p?(\.xml|\.yml|\.yaml|\.txt)?", hfile.name, re.IGNORECASE)
        if not m:
            continue
        n = m.group(1)
        by_index = {}
        for p in images:
            k = re.fullmatch(r"(.*?)(\d+)", p.stem)
            if k:
                by_index.setdefault(int(k.group(2)), []).append(p)
        src, tgt = by_index.get(1, []), by_index.get(int(n), [])
        if not src or not tgt:
            continue
        s, t = src[0], tgt[0]
        h = read_homography_matrix(hfile)
        shape_s = cv2.imread(str(s), cv2.IMREAD_UNCHANGED).shape[:2]
        shape_t = cv2.imread(str(t), cv2.IMREAD_UNCHANGED).shape[:2]
        ks, kt = homography_grid(h, shape_s, shape_t, step)
        out.append(PairRecord(s, t, ks, kt, "img", f"{s.stem}->{t.stem}"))
    if not out:
        raise InputError(root, "no homography pairs found (expected <prefix>1.<ext>, <prefix>N.<ext> and H1toNp)")
    return out


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


READERS = {"pf-pascal": read_pf_pascal, "pf-willow": read_pf_willow, "spair": read_spair,
           "homography": read_homography_pairs}
