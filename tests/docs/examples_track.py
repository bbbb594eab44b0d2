"""Doc-test set-ups of the `track` examples in README.md and its --help."""

# ruff: noqa: F403, F405
from __future__ import annotations

from tests.docs.setups import *  # the shared generated inputs (Ex, F, SCAN, ...)

# two UAV123-style sequences (img/ + 1-based groundtruth_rect.txt), as under ../shared/data/track
FOLDER_SEQS = {f"seqs/{name}/{part}": writer for name in ("boat", "kite") for part, writer in
               (("img", F.frames(n=4, h=120, w=160)), ("groundtruth_rect.txt", F.text("11,21,40,40\n" * 4)))}

EXAMPLES: dict[str, Ex] = {
    "cvkit track video.mp4 --init-box 10,20,60,80 -o tracked.mp4 --boxes boxes.csv": Ex({"video.mp4": SMALL_VIDEO}),
    "cvkit track frames/ --init-box 291,124,151,140 --json | jq -c .box       # image folder, JSON Lines on stdout":
        Ex({"frames": BIG_FRAMES}),
    "cvkit track vot15_bag/                                                      # benchmark sequence: GT init, scores":
        Ex({"vot15_bag/color": F.frames(), "vot15_bag/groundtruth.txt": F.text("4,10,16,10,16,22,4,22\n" * 4)}),
    "cvkit track videos/ -o results/ --video --skip-existing                     # batch (cron): mirrors the tree":
        Ex({"videos/a.mp4": SMALL_VIDEO, "videos/a.mp4.init.txt": F.text("10,20,40,40\n"),
            "videos/day2/b.avi": SMALL_VIDEO, "videos/day2/b.init.txt": F.text("10,20,40,40\n")}),
    "cvkit evaluate track --dataset otb --root OTB100 --model siam-lite --out results/": Ex(OTB),
    "cvkit track frames/ --init-box 291,124,151,140 --boxes - --json | jq .box": Ex({"frames": BIG_FRAMES}),
    "cvkit track OTB100/ -o results/ --skip-existing --model sesiamfc-lite":
        Ex({**OTB, "OTB100/Car/img": F.frames(n=3, h=120, w=160),
            "OTB100/Car/groundtruth_rect.txt": F.text("10,20,40,40\n" * 3)}),
    "cvkit train track --model sesiamfc-lite --data synthetic --steps 1600 --out runs/sesiamfc-lite":
        Ex(subs=FAST_TRAIN_TRACK, slow=True, patch=few_eval_clips),
    "cvkit train track --model automatch-lite --data synthetic --threads 1 --out runs/automatch-lite":
        Ex(subs=[("--threads 1", "--threads 1 --steps 2")], slow=True),
    "cvkit evaluate track --dataset got10k --root GOT-10k/val --results results/ --json": Ex(GOT),
    "cvkit evaluate track --dataset folder --root ../shared/data/track --model automatch-lite --model cv-csrt":
        Ex(FOLDER_SEQS, subs=[("../shared/data/track", "seqs")]),
}

NOT_RUNNABLE: dict[str, str] = {
    "cvkit train track --model sesiamfc --data got10k:/data/GOT-10k --device cuda":
        "needs a CUDA device and the GOT-10k training set (paper-size SE-SiamFC)",
}
