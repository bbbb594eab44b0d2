"""Doc-test set-ups of the `reid-cluster` examples in README.md and its --help."""

# ruff: noqa: F403, F405
from __future__ import annotations

from pathlib import Path

from tests.docs.setups import *  # the shared generated inputs (Ex, F, SCAN, ...)


def _reid_run(root: Path) -> None:
    """out/: the outputs of `cvkit reid-cluster crops/ -o out/ --model hist --rounds 0` on labelled crops."""
    from cvkit.reid_cluster.pipeline import RunOptions, run

    F.crops(n_ids=3, per_id=4)(root / "crops")
    run(root / "crops", root / "out", RunOptions(model="hist", rounds=0, html=False))


EXAMPLES: dict[str, Ex] = {
    "cvkit reid-cluster crops/ -o out/                         # clusters.csv, ranking.jsonl, index.html "
    "(contact sheet)":
        Ex({"crops": F.crops(n_ids=3, per_id=4)}, slow=True),
    "cvkit reid-cluster crops VIDEO --boxes boxes.csv -o crops/ # cut person crops from a video first":
        Ex({"VIDEO": PETS_VIDEO, "boxes.csv": BOXES_CSV}),
    "cvkit evaluate reid-cluster --dataset market1501 --root Market-1501": Ex({"Market-1501": F.market_root()}),
    "cvkit reid-cluster crops/ -o out/ --rounds 3": Ex({"crops": F.crops(n_ids=3, per_id=4)}, slow=True),
    "cvkit reid-cluster vtest.avi --boxes PETS2009-S2L1.xml -o out/ --json | jq .cluster":
        Ex({"vtest.avi": PETS_VIDEO, "PETS2009-S2L1.xml": CVML_6}, subs=[("-o out/", "-o out/ --every 1")],
           slow=True),
    "cvkit reid-cluster crops VIDEO.avi --boxes gt.txt -o crops/     # only cut the crops":
        Ex({"VIDEO.avi": PETS_VIDEO, "gt.txt": F.mot_gt([f"{i},1,20,20,24,60,1,1,1" for i in range(1, 7)])}),
    "cvkit train reid-cluster --data my_camera_crops/ --rounds 10 --out runs/my-cams":
        Ex({"my_camera_crops": F.crops(n_ids=3, per_id=4)}, subs=[("--rounds 10", "--rounds 1 --epochs 1")],
           slow=True),
    "cvkit evaluate reid-cluster --dataset market1501 --root Market-1501-v15.09.15 --rounds 5":
        Ex({"Market-1501-v15.09.15": F.market_root()}, subs=[("--rounds 5", "--rounds 1 --epochs 1")], slow=True),
    "cvkit evaluate reid-cluster --dataset folder --root pets_crops/ --model hist --json":
        Ex({"pets_crops": F.crops()}),
    "cvkit evaluate reid-cluster --results out/ --json     # score an earlier run's clusters.csv":
        Ex(prepare=_reid_run),
}

NOT_RUNNABLE: dict[str, str] = {
    "cvkit train reid-cluster --data synthetic --out assets/reid-cluster/adtc-lite":
        "the shipped asset's whole recipe (minutes of CPU; no step option to shorten it)",
    "cvkit train reid-cluster --model adtc-resnet50 --data Market-1501/ --init-backbone resnet50_imagenet.pth":
        "needs the user's ImageNet ResNet-50 state dict (no download at run time) and Market-1501",
}
