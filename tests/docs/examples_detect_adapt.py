"""Doc-test set-ups of the `detect-adapt` examples in README.md and its --help."""

# ruff: noqa: F403, F405
from __future__ import annotations

import shutil
from pathlib import Path

from tests.docs.setups import *  # the shared generated inputs (Ex, F, SCAN, ...)


def _voc_xml(objects: list[tuple[str, int, int, int, int]], w: int = 128, h: int = 96) -> F.Writer:
    """A Pascal VOC annotation (1-based inclusive pixel boxes) for a w x h image."""
    objs = "".join(f"<object><name>{n}</name><difficult>0</difficult><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>"
                   f"<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>" for n, x1, y1, x2, y2 in objects)
    return F.text(f"<annotation><size><width>{w}</width><height>{h}</height><depth>3</depth></size>{objs}"
                  "</annotation>\n")


OBJECTS = [[("car", 10, 40, 60, 80), ("person", 80, 20, 100, 80)], [("dog", 20, 20, 70, 70), ("car", 70, 50, 120, 90)]]


def _voc(root: str) -> dict[str, F.Writer]:
    """A 2-image VOC2007 layout: Annotations/*.xml, JPEGImages/*.jpg, ImageSets/Main/trainval.txt."""
    files: dict[str, F.Writer] = {f"{root}/ImageSets/Main/trainval.txt": F.text("000001\n000002\n")}
    for k, objs in enumerate(OBJECTS):
        files[f"{root}/Annotations/{k + 1:06d}.xml"] = _voc_xml(objs)
        files[f"{root}/JPEGImages/{k + 1:06d}.jpg"] = F.image(96, 128, k)
    return files


def _labelled(root: str) -> dict[str, F.Writer]:
    """A folder of images with same-stem VOC XML beside them (one image left unannotated: no objects)."""
    return {f"{root}/a.jpg": F.image(96, 128, 0), f"{root}/a.xml": _voc_xml(OBJECTS[0]),
            f"{root}/sub/b.png": F.image(96, 128, 1), f"{root}/sub/b.xml": _voc_xml(OBJECTS[1]),
            f"{root}/c.jpg": F.image(96, 128, 2)}


def _images(root: str, n: int = 2) -> dict[str, F.Writer]:
    return {f"{root}/{i:04d}.jpg": F.image(96, 128, 10 + i) for i in range(n)}


def _trained(folder: str):
    """`folder`: a trained detect-adapt model folder (the shipped mcar-synthetic-fog stands in for the user's run)."""
    def prepare(tmp: Path) -> None:
        from cvkit.assets import find_asset

        asset = find_asset("detect-adapt", "mcar-synthetic-fog")
        assert asset is not None
        shutil.copytree(asset.weights.parent, tmp / folder)
    return prepare


FAST_REAL = ("-o model/", "--steps 1 --batch 1 --min-size 64 -o model/")

EXAMPLES: dict[str, Ex] = {
    "cvkit detect-adapt foggy/ -o dets/ --format voc --score-thr 0.5 --classes car,person --overlay overlays/":
        Ex({**_images("foggy"), "foggy/more/x.png": F.image(96, 128, 7)}),
    "cvkit train detect-adapt --data voc:VOCdevkit/VOC2007 --target target_images/ --classes car,person -o model/":
        Ex({**_voc("VOCdevkit/VOC2007"), **_images("target_images")}, subs=[FAST_REAL], slow=True),
    "cvkit evaluate detect-adapt --dataset folder --root labelled/ --model model/":
        Ex(_labelled("labelled"), prepare=_trained("model")),
    "cvkit detect-adapt street.png --json": Ex({"street.png": F.image(96, 128, 3)}),
    "cvkit detect-adapt foggy/ -o dets/ --format voc --score-thr 0.5 --classes car,person": Ex(_images("foggy")),
    "cvkit detect-adapt frames/ -o dets/ --model runs/my-mcar/ --overlay overlays/":
        Ex(_images("frames"), prepare=_trained("runs/my-mcar")),
    "cvkit train detect-adapt --data synthetic --target synthetic-fog --source-steps 600 --steps 150 -o model/":
        Ex(subs=[("--source-steps 600 --steps 150", "--source-steps 1 --steps 1 --batch 1 --eval-images 1")]),
    "cvkit train detect-adapt --data synthetic --target fog_frames/ --init model/ --steps 60 -o adapted/":
        Ex(_images("fog_frames"), subs=[("--steps 60", "--steps 1 --batch 1 --eval-images 1")],
           prepare=_trained("model")),
    "cvkit train detect-adapt --data voc:VOCdevkit/VOC2007 --target watercolor/JPEGImages --backbone resnet101 "
    "--min-size 600 --classes bicycle,bird,car,cat,dog,person --device cuda --steps 70000 -o runs/wc/":
        Ex({**_voc("VOCdevkit/VOC2007"), **_images("watercolor/JPEGImages")},
           subs=[("--min-size 600", "--min-size 64"), ("--device cuda", "--device cpu"),
                 ("--steps 70000", "--steps 1 --batch 1")], slow=True),
    "cvkit evaluate detect-adapt --dataset folder --root labelled_images/ --json": Ex(_labelled("labelled_images")),
    "cvkit evaluate detect-adapt --dataset voc --root VOCdevkit/VOC2007 --model runs/wc/":
        Ex(_voc("VOCdevkit/VOC2007"), prepare=_trained("runs/wc")),
}

NOT_RUNNABLE: dict[str, str] = {}
