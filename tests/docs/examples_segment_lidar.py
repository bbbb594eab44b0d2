"""Doc-test set-ups of the `segment-lidar` examples in README.md and its --help."""

# ruff: noqa: F403, F405
from __future__ import annotations

from tests.docs.setups import *  # the shared generated inputs (Ex, F, SCAN, ...)

# ../shared/data/segment-lidar/train: labelled scans of training sequences (03, 05) in the SemanticKITTI layout
KITTI_TRAIN = {f"kitti/train/sequences/{seq}/{part}/000000.{ext}": writer for seq in ("03", "05")
               for part, ext, writer in (("velodyne", "bin", SCAN), ("labels", "label", F.labels(N_SCAN)))}

EXAMPLES: dict[str, Ex] = {
    "cvkit segment-lidar scan.bin -o scan.label                       # SemanticKITTI labels, one uint32 per point":
        Ex({"scan.bin": SCAN}),
    "cvkit segment-lidar scan.bin -o scan.ply --range-image range.png  # coloured cloud (open3d/MeshLab/CloudCompare)":
        Ex({"scan.bin": SCAN}),
    "cvkit segment-lidar dataset/sequences/ -o out/ --skip-existing    # batch; SemanticKITTI layout -> predictions/":
        Ex({"dataset/sequences/00/velodyne/000000.bin": SCAN, "dataset/sequences/00/velodyne/000001.bin": SCAN}),
    "cvkit segment-lidar 000000.bin -o 000000.label --json | jq .histogram": Ex({"000000.bin": SCAN}),
    "cvkit segment-lidar scan.pcd -o labelled.ply --sensor os1-64 --range-image range.png": Ex({"scan.pcd": F.pcd()}),
    "cvkit segment-lidar dataset/sequences/08 -o preds/ --skip-existing --model ssgv3-tiny-sim":
        Ex({"dataset/sequences/08/velodyne/000000.bin": SCAN}),
    "cvkit train segment-lidar --data synthetic --steps 560 --batch 2 -o assets/segment-lidar/ssgv3-tiny-sim":
        Ex(subs=[("--steps 560 --batch 2", "--steps 1 --batch 1")], slow=True),
    "cvkit evaluate segment-lidar --root ../shared/data/segment-lidar --model classical":
        Ex(KITTI, subs=[("../shared/data/segment-lidar", "kitti")]),
    "cvkit evaluate segment-lidar --root dataset --sequences 08 --results preds/ --json":
        Ex({"dataset/sequences/08/velodyne/000000.bin": SCAN, "dataset/sequences/08/labels/000000.label":
            F.labels(N_SCAN), "preds/sequences/08/predictions/000000.label": F.labels(N_SCAN)}),
    "cvkit evaluate segment-lidar --root ../shared/data/segment-lidar --model ssgv3-tiny-kitti --json":
        Ex(KITTI, subs=[("../shared/data/segment-lidar", "kitti")]),
    # the help's single `\` continuation keeps the next line's indentation inside the example
    "cvkit train segment-lidar --data semantickitti:../shared/data/segment-lidar/train --init ssgv3-tiny-sim       "
    "--optimizer adamw --lr 0.001 --steps 60 --name ssgv3-tiny-kitti -o runs/ssgv3-tiny-kitti":
        Ex(KITTI_TRAIN, subs=[("../shared/data/segment-lidar/train", "kitti/train"), ("--steps 60", "--steps 1")],
           slow=True),
}

NOT_RUNNABLE: dict[str, str] = {
    "cvkit train segment-lidar --data semantickitti:/data/SemanticKITTI/dataset --arch ssgv3-21 --width 2048 "
    "--batch 16 --steps 180000 -o runs/ssgv3-21":
        "needs SemanticKITTI and a long run (paper-size SqueezeSegV3-21, 180k steps at batch 16)",
}
