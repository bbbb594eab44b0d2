"""What the doc-test needs to run an example here: `Ex` (generated input files, substitutions, slow or not) and
the small generated inputs several tasks' examples share. Each task keeps its examples' set-ups in its own
`tests/docs/examples_<task>.py` (`EXAMPLES`, `NOT_RUNNABLE`), found by `test_examples.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.robustness import files as F


@dataclass
class Ex:
    """How to run one example here: the files it reads (generated), path/budget substitutions, slow or not."""

    files: dict[str, F.Writer] = field(default_factory=dict)
    subs: list[tuple[str, str]] = field(default_factory=list)
    slow: bool = False
    prepare: Callable[[Path], None] | None = None
    patch: Callable[[pytest.MonkeyPatch], None] | None = None  # test-only shortcuts (e.g. a smaller card eval)


def few_eval_clips(mp: pytest.MonkeyPatch) -> None:
    """The lite track recipe scores its card on 50 held-out clips (minutes); here 2 show the path works."""
    import cvkit.track.siamfc.train as T

    real = T.train_siamfc_lite

    def smaller(*args, **kw):
        kw["eval_clips"] = min(kw.get("eval_clips", 0), 2)
        return real(*args, **kw)

    mp.setattr(T, "train_siamfc_lite", smaller)


BIG_FRAMES = F.frames(n=3, h=300, w=480)
SMALL_VIDEO = F.video(n=4, h=120, w=160)
OTB = {"OTB100/Box/img": F.frames(n=4, h=120, w=160), "OTB100/Box/groundtruth_rect.txt": F.text("10,20,40,40\n" * 4)}
GOT = {"GOT-10k/val/GOT-10k_Val_000001": F.frames(n=4, h=120, w=160),
       "GOT-10k/val/GOT-10k_Val_000001/groundtruth.txt": F.text("10,20,40,40\n" * 4),
       "GOT-10k/val/GOT-10k_Val_000001/absence.label": F.text("0\n" * 4),
       "GOT-10k/val/list.txt": F.text("GOT-10k_Val_000001\n"),
       "results/cv-kcf/GOT-10k_Val_000001/GOT-10k_Val_000001_001.txt": F.text("10,20,40,40\n" * 4),
       "results/cv-kcf/GOT-10k_Val_000001/GOT-10k_Val_000001_time.txt": F.text("0.01\n" * 4)}
SCAN = F.bin_scan()
N_SCAN = len(F.scan_points())
KITTI = {"kitti/sequences/08/velodyne/000000.bin": SCAN, "kitti/sequences/08/labels/000000.label": F.labels(N_SCAN)}
ICDAR = {"icdar/eu-001.pdf": F.pdf(), "icdar/eu-001-reg.xml": F.reg_xml(), "icdar/eu-001-str.xml": F.str_xml()}
CVML_6 = F.cvml_xml(frames_=6, box=(60, 60, 24, 60))
BOXES_CSV = F.text("frame,id,x,y,w,h\n" + "".join(f"{i},{p},{10 + 60 * (p - 1)},20,24,60\n"
                                                   for i in range(0, 6) for p in (1, 2)))
PETS_VIDEO = F.video(n=6, h=120, w=160)
FAST_TRAIN_TRACK = [("--steps 1600", "--steps 2")]

