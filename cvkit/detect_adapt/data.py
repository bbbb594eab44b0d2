"""Dataset readers: Pascal VOC (Annotations/*.xml + JPEGImages/), COCO (instances JSON + image folder) and a plain
folder (images with same-stem VOC .xml beside them). A malformed annotation raises InputError naming the file and
the line; a box with an unknown class is skipped (other datasets carry other classes)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import InputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")


def read_image(path: str | Path) -> torch.Tensor:
    """RGB (3, H, W) float tensor in [0, 1]; InputError when the file is not a readable image."""
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise InputError(path, "not a readable image")
    rgb = np.ascontiguousarray(bgr[:, :, ::-1]).astype(np.float32) / 255.0
    return torch.from_numpy(rgb).permute(2, 0, 1)


@dataclass
class Annotated:
    """One image path with its ground truth (boxes x1 y1 x2 y2 in pixels, class indices, difficult flags)."""

    path: Path
    boxes: np.ndarray
    labels: np.ndarray
    difficult: np.ndarray

    def load(self):
        """A training sample (image tensor + boxes + labels; difficult boxes left out of training)."""
        from .train import Sample

        keep = ~self.difficult
        return Sample(read_image(self.path), torch.from_numpy(self.boxes[keep]), torch.from_numpy(self.labels[keep]))

    def ground_truth(self) -> dict:
        """The ground truth as the metrics take it."""
        return {"boxes": self.boxes, "labels": self.labels, "difficult": self.difficult}


def _xml_line(text: str, needle: str) -> int:
    i = text.find(needle)
    return text.count("\n", 0, i) + 1 if i >= 0 else 1


def read_voc_xml(path: Path, class_names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes, labels, difficult flags of a VOC XML; InputError 'FILE:LINE: problem' when malformed."""
    text = path.read_text(errors="replace")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise InputError(f"{path}:{e.position[0]}", f"malformed XML ({e})") from None
    boxes, labels, diff = [], [], []
    for k, obj in enumerate(root.iter("object")):
        name = (obj.findtext("name") or "").strip()
        bb = obj.find("bndbox")
        line = _xml_line(text, f"<name>{name}</name>") if name else 1
        if bb is None:
            raise InputError(f"{path}:{line}", f"object {k} ({name or 'unnamed'}) has no <bndbox>")
        try:
            x1, y1, x2, y2 = (float(bb.findtext(t)) for t in ("xmin", "ymin", "xmax", "ymax"))
        except (TypeError, ValueError):
            line = _xml_line(text[text.find(f"<name>{name}</name>"):], "<bndbox>") + line - 1
            raise InputError(f"{path}:{line}", f"object {k} ({name}): <bndbox> needs numeric xmin, ymin, xmax, "
                             "ymax") from None
        if not (x2 > x1 and y2 > y1):
            raise InputError(f"{path}:{line}", f"object {k} ({name}): empty box {x1},{y1},{x2},{y2}")
        if name not in class_names:
            continue
        boxes.append([x1 - 1, y1 - 1, x2, y2])  # VOC pixels are 1-based, inclusive
        labels.append(class_names.index(name))
        diff.append((obj.findtext("difficult") or "0").strip() == "1")
    return (np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(labels, np.int64),
            np.asarray(diff, bool))


def _find_image(folder: Path, stem: str) -> Path | None:
    for s in IMAGE_SUFFIXES:
        p = folder / f"{stem}{s}"
        if p.exists():
            return p
    return None


def load_voc(root: str | Path, class_names: tuple[str, ...], split: str | None = None) -> list[Annotated]:
    """A VOC layout (root/Annotations, root/JPEGImages, optional ImageSets/Main/<split>.txt), or root/VOC20xx."""
    root = Path(root)
    if not (root / "Annotations").is_dir():
        subs = sorted(p for p in root.glob("VOC*") if (p / "Annotations").is_dir())
        if not subs:
            raise InputError(root, "not a VOC folder (no Annotations/)")
        return [a for sub in subs for a in load_voc(sub, class_names, split)]
    ids = None
    if split:
        lst = root / "ImageSets" / "Main" / f"{split}.txt"
        if not lst.exists():
            raise InputError(lst, "split list not found")
        ids = [ln.split()[0] for ln in lst.read_text().splitlines() if ln.strip()]
    xmls = [root / "Annotations" / f"{i}.xml" for i in ids] if ids else sorted((root / "Annotations").glob("*.xml"))
    out = []
    for x in xmls:
        if not x.exists():
            raise InputError(x, "annotation listed in the split is missing")
        img = _find_image(root / "JPEGImages", x.stem)
        if img is None:
            raise InputError(x, f"no image {x.stem}.* in {root / 'JPEGImages'}")
        out.append(Annotated(img, *read_voc_xml(x, class_names)))
    return out


def load_folder(root: str | Path, class_names: tuple[str, ...]) -> list[Annotated]:
    """Images with same-stem VOC XML annotations beside them (images without XML count as having no objects)."""
    root = Path(root)
    imgs = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not imgs:
        raise InputError(root, "folder holds no images")
    out = []
    for p in imgs:
        x = p.with_suffix(".xml")
        ann = read_voc_xml(x, class_names) if x.exists() else (np.zeros((0, 4), np.float32),
                                                                np.zeros(0, np.int64), np.zeros(0, bool))
        out.append(Annotated(p, *ann))
    return out


def load_coco(path: str | Path, class_names: tuple[str, ...], images: str | Path | None = None) -> list[Annotated]:
    """COCO instances JSON (boxes x, y, w, h) -> Annotated; iscrowd boxes become 'difficult' (ignored)."""
    path = Path(path)
    if path.is_dir():
        cands = sorted((path / "annotations").glob("instances_*.json"))
        if not cands:
            raise InputError(path, "no annotations/instances_*.json")
        images = images or path
        path = cands[0]
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise InputError(f"{path}:{e.lineno}", f"malformed JSON ({e.msg})") from None
    if not isinstance(data, dict) or "images" not in data or "annotations" not in data:
        raise InputError(path, "not a COCO instances file (needs 'images' and 'annotations')")
    cats = {c["id"]: c["name"] for c in data.get("categories", [])}
    folder = Path(images) if images else path.parent
    per: dict = {im["id"]: ([], [], []) for im in data["images"]}
    for k, a in enumerate(data["annotations"]):
        try:
            x, y, w, h = (float(v) for v in a["bbox"])
            iid = a["image_id"]
            name = cats.get(a["category_id"], str(a["category_id"]))
        except (KeyError, TypeError, ValueError):
            raise InputError(path, f"annotation {k} needs bbox [x, y, w, h], image_id and category_id") from None
        if name not in class_names or iid not in per:
            continue
        per[iid][0].append([x, y, x + w, y + h])
        per[iid][1].append(class_names.index(name))
        per[iid][2].append(bool(a.get("iscrowd", 0)))
    out = []
    for im in data["images"]:
        p = folder / im["file_name"]
        if not p.exists() and (folder / "images" / im["file_name"]).exists():
            p = folder / "images" / im["file_name"]
        b, lab, d = per[im["id"]]
        out.append(Annotated(p, np.asarray(b, np.float32).reshape(-1, 4), np.asarray(lab, np.int64),
                             np.asarray(d, bool)))
    return out


def load_dataset(spec: str, class_names: tuple[str, ...], root: str | Path | None = None) -> list[Annotated]:
    """`voc:DIR`, `coco:FILE|DIR`, `folder:DIR` (or layout + root) -> annotated images."""
    kind, _, where = spec.partition(":")
    where = where or (str(root) if root else "")
    if kind == "voc":
        return load_voc(where, class_names)
    if kind == "coco":
        return load_coco(where, class_names)
    if kind == "folder":
        return load_folder(where, class_names)
    from ..errors import ArgumentError

    raise ArgumentError(f"unknown dataset {spec!r}: use voc:DIR, coco:FILE or folder:DIR")
