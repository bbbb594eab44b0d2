"""Run one image: detect, then write its detections as COCO JSON or Pascal VOC XML (atomically) and an optional
overlay image; returns the JSON Lines record."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io.atomic import atomic_path, write_text_atomic
from ..io.batch import Inputs, Item, mirrored
from .data import read_image

FORMATS = {"coco": ".json", "voc": ".xml"}


def detections_record(det: dict, class_names: tuple[str, ...], keep: set[int] | None = None) -> list[dict]:
    """[{box: [x1, y1, x2, y2], label, score}] sorted by score (only classes in `keep` when given)."""
    out = []
    for b, lab, s in zip(det["boxes"].tolist(), det["labels"].tolist(), det["scores"].tolist(), strict=True):
        if keep is None or lab in keep:
            out.append({"box": [round(v, 2) for v in b], "label": class_names[lab], "score": round(s, 4)})
    return sorted(out, key=lambda d: -d["score"])


def coco_json(dets: list[dict], class_names: tuple[str, ...], file_name: str, size: tuple[int, int]) -> str:
    """A COCO results file for one image (images, categories, annotations with bbox x, y, w, h and score)."""
    cats = [{"id": i + 1, "name": n} for i, n in enumerate(class_names)]
    anns = [{"id": k + 1, "image_id": 1, "category_id": class_names.index(d["label"]) + 1,
             "bbox": [d["box"][0], d["box"][1], round(d["box"][2] - d["box"][0], 2),
                      round(d["box"][3] - d["box"][1], 2)],
             "area": round((d["box"][2] - d["box"][0]) * (d["box"][3] - d["box"][1]), 2), "score": d["score"],
             "iscrowd": 0} for k, d in enumerate(dets)]
    return json.dumps({"images": [{"id": 1, "file_name": file_name, "height": size[0], "width": size[1]}],
                       "categories": cats, "annotations": anns}, indent=1)


def voc_xml(dets: list[dict], file_name: str, size: tuple[int, int]) -> str:
    """A Pascal VOC annotation (1-based inclusive pixel boxes) with the score as an extra element."""
    root = ET.Element("annotation")
    ET.SubElement(root, "filename").text = file_name
    sz = ET.SubElement(root, "size")
    for tag, v in (("width", size[1]), ("height", size[0]), ("depth", 3)):
        ET.SubElement(sz, tag).text = str(v)
    for d in dets:
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = d["label"]
        ET.SubElement(obj, "score").text = f"{d['score']:.4f}"
        ET.SubElement(obj, "difficult").text = "0"
        bb = ET.SubElement(obj, "bndbox")
        x1, y1, x2, y2 = d["box"]
        for tag, v in (("xmin", x1 + 1), ("ymin", y1 + 1), ("xmax", x2), ("ymax", y2)):
            ET.SubElement(bb, tag).text = str(int(round(v)))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def draw_overlay(image: np.ndarray, dets: list[dict], class_names: tuple[str, ...]) -> np.ndarray:
    """BGR uint8 copy of the image with boxes, class names and scores drawn."""
    import cv2

    out = image.copy()
    rng = np.random.default_rng(7)
    colours = [tuple(int(c) for c in rng.integers(60, 255, 3)) for _ in class_names]
    for d in dets:
        x1, y1, x2, y2 = (int(round(v)) for v in d["box"])
        col = colours[class_names.index(d["label"])]
        cv2.rectangle(out, (x1, y1), (x2, y2), col, 2)
        cv2.putText(out, f"{d['label']} {d['score']:.2f}", (x1, max(y1 - 3, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                    col, 1, cv2.LINE_AA)
    return out


def detect_one(predictor, path: Path, out: Path | None, fmt: str, overlay: Path | None, score_thr: float,
               keep: set[int] | None) -> dict:
    """Detect objects in one image file and write the requested outputs; the record for JSON Lines."""
    img = read_image(path)
    det = predictor.detect([img], score_thr)[0]
    dets = detections_record(det, predictor.class_names, keep)
    size = (int(img.shape[1]), int(img.shape[2]))
    if out is not None:
        text = coco_json(dets, predictor.class_names, path.name, size) if fmt == "coco" else \
            voc_xml(dets, path.name, size)
        write_text_atomic(out, text)
    if overlay is not None:
        import cv2

        bgr = (img.permute(1, 2, 0).numpy()[:, :, ::-1] * 255).round().astype(np.uint8)
        with atomic_path(overlay) as tmp:
            if not cv2.imwrite(str(tmp), draw_overlay(bgr, dets, predictor.class_names)):
                raise OSError(f"cannot write {overlay}")
    return {"detections": dets, "count": len(dets), "size": list(size)}


def class_filter(class_names: tuple[str, ...], classes: str | None) -> set[int] | None:
    """`--classes a,b` -> the indices to keep (None: all); ArgumentError names unknown classes."""
    from ..errors import ArgumentError

    if not classes:
        return None
    wanted = [c.strip() for c in classes.split(",") if c.strip()]
    unknown = [c for c in wanted if c not in class_names]
    if unknown:
        raise ArgumentError(f"--classes: unknown {', '.join(unknown)} (model classes: {', '.join(class_names)})")
    return {class_names.index(c) for c in wanted}


@dataclass(frozen=True)
class Destinations:
    """Where each input's detections (-o) and overlay (--overlay) go: as given for one image, mirrored under
    the folders for a batch. `check()` refuses a file name where a batch needs a folder."""

    output: Path | None
    overlay: Path | None
    fmt: str
    batch: bool

    def check(self) -> None:
        """ArgumentError (exit 4) when a batch is given a file instead of a folder."""
        from ..errors import ArgumentError

        if self.fmt not in FORMATS:
            raise ArgumentError(f"--format {self.fmt!r}: use coco or voc")
        if self.batch and self.output is not None and self.output.suffix.lower() in (".json", ".xml"):
            raise ArgumentError(f"{self.output}: a folder of images needs an output folder")
        if self.batch and self.overlay is not None and self.overlay.suffix:
            raise ArgumentError(f"{self.overlay}: a folder of images needs an overlay folder")

    def detections(self, item: Item) -> Path | None:
        """The COCO/VOC file of `item`, or None without -o."""
        if self.output is None:
            return None
        return mirrored(item, self.output, FORMATS[self.fmt]) if self.batch else self.output

    def picture(self, item: Item) -> Path | None:
        """The overlay PNG of `item`, or None without --overlay."""
        if self.overlay is None:
            return None
        return mirrored(item, self.overlay, ".png") if self.batch or not self.overlay.suffix else self.overlay

    def paths(self, item: Item) -> list[Path]:
        """Every file written for `item` (checked before any work; --skip-existing looks at them)."""
        return [p for p in (self.detections(item), self.picture(item)) if p is not None]


@dataclass(frozen=True)
class DetectJob:
    """`cvkit detect-adapt` over its inputs: the predictor, where each image's outputs go, and the filters."""

    predictor: object
    to: Destinations
    score_thr: float
    keep: set[int] | None

    def work(self, item: Item) -> dict:
        """Detect in one image and write its outputs; the JSON Lines record."""
        return detect_one(self.predictor, item.path, self.to.detections(item), self.to.fmt, self.to.picture(item),
                          self.score_thr, self.keep)

    @staticmethod
    def describe(item: Item, record: dict) -> str:
        """The console line of one image."""
        return f"{item.path}: {record['count']} detections ({record['seconds']:.2f} s)"


def plan_detection(input: Path, output: Path | None, overlay: Path | None, fmt: str, score_thr: float, model: str,
                   classes: str | None, device: Callable[[], object]) -> tuple[Inputs, DetectJob]:
    """Check the options, find the images and load the model (`device()` resolved once the inputs are found):
    the batch inputs and the job running on each."""
    from ..errors import ArgumentError
    from ..io.batch import discover
    from . import registry
    from .data import IMAGE_SUFFIXES

    if not 0.0 <= score_thr <= 1.0:
        raise ArgumentError(f"--score-thr {score_thr}: must be in [0, 1]")
    Destinations(output, overlay, fmt, False).check()  # the format before any input is read
    inputs = discover(input, IMAGE_SUFFIXES, what="image")
    predictor = registry.load_predictor(model, device())
    keep = class_filter(predictor.class_names, classes)
    to = Destinations(output, overlay, fmt, inputs.batch)
    to.check()
    return inputs, DetectJob(predictor, to, score_thr, keep)
