"""Doc-test set-ups of the `semantic-flow` examples in README.md and its --help."""

# ruff: noqa: F403, F405
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tests.docs.setups import *  # the shared generated inputs (Ex, F, SCAN, ...)

H13 = np.array([[1.02, 0.05, 3.0], [-0.03, 0.98, 2.0], [0.0, 0.0, 1.0]])


def _warped(seed: int = 0) -> F.Writer:
    """The textured test image seen through H13 (an exact homography pair with the unwarped one)."""
    def write(path: Path) -> None:
        F.image(96, 128, seed)(path)
        img = cv2.imread(str(path))
        cv2.imwrite(str(path), cv2.warpPerspective(img, H13, (128, 96), borderMode=cv2.BORDER_REFLECT))
    return write


def _homography_root(prefix: str) -> dict[str, F.Writer]:
    """An Oxford-style homography folder: <prefix>1.png, <prefix>3.png and the text matrix H1to3p."""
    return {f"{prefix}/img1.png": F.image(96, 128, 0), f"{prefix}/img3.png": _warped(0),
            f"{prefix}/H1to3p": F.text("\n".join(" ".join(f"{v:.6f}" for v in row) for row in H13) + "\n")}


def _mat(kps: np.ndarray) -> F.Writer:
    """A PF-PASCAL Annotations/<class>/<image>.mat holding 'kps' (and 'bbox')."""
    def write(path: Path) -> None:
        from scipy.io import savemat

        path.parent.mkdir(parents=True, exist_ok=True)
        savemat(str(path), {"kps": kps, "bbox": np.array([[4.0, 4.0, 120.0, 90.0]])})
    return write


KPS = np.array([[20.0, 30.0], [60.0, 40.0], [100.0, 70.0]])
# PF-PASCAL (HPF layout) training split: trn_pairs.csv (source, target, class), JPEGImages/, Annotations/<class>/
PF_PASCAL = {"DATA/PF-PASCAL/trn_pairs.csv": F.text("source_image,target_image,class,flip\n"
                                                    "JPEGImages/a.jpg,JPEGImages/b.jpg,12,0\n"),
             "DATA/PF-PASCAL/JPEGImages/a.jpg": F.image(96, 128, 3),
             "DATA/PF-PASCAL/JPEGImages/b.jpg": F.image(96, 128, 4),
             "DATA/PF-PASCAL/Annotations/dog/a.mat": _mat(KPS), "DATA/PF-PASCAL/Annotations/dog/b.mat": _mat(KPS + 3)}


def _resnet101_stem(path: Path) -> None:
    """A torchvision-layout ResNet-101 state dict (stem only: the loader takes a partial one, strict=False)."""
    import torch

    g = torch.Generator().manual_seed(0)
    torch.save({"conv1.weight": torch.randn(64, 3, 7, 7, generator=g) * 0.05, "bn1.weight": torch.ones(64),
                "bn1.bias": torch.zeros(64), "bn1.running_mean": torch.zeros(64), "bn1.running_var": torch.ones(64)},
               path)


PAIR = {"graf1.png": F.image(96, 128, 0), "graf3.png": _warped(0)}
AB = {"a.jpg": F.image(96, 128, 1), "b.jpg": _warped(1), "kps.csv": F.text("x,y\n20,30\n64,48\n100,70\n")}
PAIRS = {"pairs.csv": F.text("source,target\nimgs/a.jpg,imgs/b.jpg\nimgs/c.png,imgs/d.png\n"),
         "imgs/a.jpg": F.image(96, 128, 1), "imgs/b.jpg": _warped(1), "imgs/c.png": F.image(80, 80, 2),
         "imgs/d.png": F.image(64, 96, 5)}
TRAIN_FAST = [("--stage1-steps 150 --stage2-steps 350", "--stage1-steps 1 --stage2-steps 1 --batch 2"),
              ("--image-size 256", "--image-size 64")]

EXAMPLES: dict[str, Ex] = {
    "cvkit semantic-flow graf1.png graf3.png -o flow.flo --warp warped.png --viz pair.png   # .flo or .npy": Ex(PAIR),
    "cvkit semantic-flow a.jpg b.jpg -o flow.npy --keypoints kps.csv   # transfer x,y points (CSV on stdout)": Ex(AB),
    "cvkit semantic-flow --pairs pairs.csv -o flows/                   # batch of source,target pairs": Ex(PAIRS),
    "cvkit evaluate semantic-flow --dataset pf-pascal|pf-willow|spair|homography --root DIR":
        Ex(_homography_root("DIR"), subs=[("pf-pascal|pf-willow|spair|homography", "homography")]),
    "cvkit evaluate semantic-flow --dataset homography --root ../shared/data/semantic-flow "
    "--model gsf,nn,dis,farneback":
        Ex(_homography_root("graf"), subs=[("../shared/data/semantic-flow", "graf")]),
    "cvkit semantic-flow graf1.png graf3.png -o flow.flo --viz pair.png --warp warped.png": Ex(PAIR),
    "cvkit semantic-flow a.jpg b.jpg -o flow.npy --keypoints kps.csv --json": Ex(AB),
    "cvkit semantic-flow --pairs pairs.csv -o flows/      # pairs.csv: source,target per line -> flows/A__B.flo":
        Ex(PAIRS),
    "cvkit train semantic-flow --backbone lite0 --image-size 256 --width 16 --stage1-steps 150 --stage2-steps 350 "
    "--m-temperature 0.1 -o runs/gsf-lite": Ex(subs=TRAIN_FAST, slow=True),
    "cvkit train semantic-flow --backbone resnet101 --backbone-weights resnet101.pth --data pf-pascal --root DATA "
    "-o runs/gsf-r101":
        Ex({**PF_PASCAL, "resnet101.pth": _resnet101_stem},
           subs=[("-o runs/gsf-r101", "--image-size 64 --stage1-steps 1 --stage2-steps 1 --batch 2 -o runs/gsf-r101")],
           slow=True),
}

NOT_RUNNABLE: dict[str, str] = {}
