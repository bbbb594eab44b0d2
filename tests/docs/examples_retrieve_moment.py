"""Doc-test set-ups of the `retrieve-moment` examples in README.md and its --help."""

# ruff: noqa: F403, F405
from __future__ import annotations

import numpy as np

from tests.docs.setups import *  # the shared generated inputs (Ex, F, ...)

MOMENT_VIDEO = F.video(n=30, h=64, w=96)   # 3 s at 10 fps
MOMENT_ANN = F.text("V0 0.0 1.5##a person opens the door.\nV1 1.0 2.5##a person sits down.\n")
MOMENT_C3D = {f"c3d/V{i}.npy": F.npy(np.random.default_rng(i).normal(size=(30, 4096)).astype(np.float32))
              for i in range(2)}

EXAMPLES: dict[str, Ex] = {
    "cvkit retrieve-moment clip.mp4 \"a person opens the door\" --top 5 -o moments.jsonl --srt moments.srt "
    "--overlay bar.mp4": Ex({"clip.mp4": MOMENT_VIDEO}, slow=True),
    "cvkit retrieve-moment clip.mp4 \"a person opens the door\" --top 5 -o moments.jsonl --srt moments.srt":
        Ex({"clip.mp4": MOMENT_VIDEO}, slow=True),
    "cvkit retrieve-moment clip.mp4 \"a person drinks coffee\" --overlay timeline.mp4 --clip-out top1.mp4":
        Ex({"clip.mp4": MOMENT_VIDEO}, slow=True),
    "cvkit retrieve-moment videos/ --queries queries.txt --json -o found.jsonl":
        Ex({"videos/a.mp4": MOMENT_VIDEO, "videos/b/c.avi": MOMENT_VIDEO,
            "queries.txt": F.text("a person opens the door\na dog runs\n")}, slow=True),
    "cvkit train retrieve-moment --data synthetic --epochs 40 --threads 1 -o assets/retrieve-moment/vlanet-small-synth":
        Ex(subs=[("--epochs 40", "--epochs 1 --videos 4 --test-videos 4"),
                 ("assets/retrieve-moment/vlanet-small-synth", "runs/small")], slow=True),
    "cvkit train retrieve-moment --data charades_sta_train.txt --features c3d/ -o my-vlanet":
        Ex({"charades_sta_train.txt": MOMENT_ANN, **MOMENT_C3D}, subs=[("-o my-vlanet", "-o my-vlanet --epochs 1")],
           slow=True),
    "cvkit train retrieve-moment --model prior --data charades_sta_train.txt --durations Charades_v1_train.csv "
    "-o p.json":
        Ex({"charades_sta_train.txt": MOMENT_ANN, "Charades_v1_train.csv": F.text("id,length\nV0,3.0\nV1,3.0\n")}),
    "cvkit evaluate retrieve-moment --dataset charades-sta --root data/charades --limit 200":
        Ex({"data/charades/charades_sta_test.txt": MOMENT_ANN, "data/charades/videos/V0.mp4": MOMENT_VIDEO,
            "data/charades/videos/V1.mp4": MOMENT_VIDEO}, slow=True),
}

NOT_RUNNABLE: dict[str, str] = {}
