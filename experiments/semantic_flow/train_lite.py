"""Background training run of the small learned variant (lite0 backbone, 256 px / 16x16 grid, width 16)."""
import json
import sys
from pathlib import Path

import torch

from cvkit.semantic_flow.model import GSFConfig
from cvkit.semantic_flow.train import TrainOptions, save_model, train

torch.set_num_threads(1)
out = Path(sys.argv[1])
s1, s2 = int(sys.argv[2]), int(sys.argv[3])
opts = TrainOptions(config=GSFConfig(backbone="lite0", image_size=256, width=16), stage1_steps=s1, stage2_steps=s2,
                    batch=4, lr=1e-4, seed=0, m_temperature=0.1, log_every=10)
model, summary = train(opts, log=lambda m: print(m, flush=True))
card = {"name": "gsf-lite", "task": "semantic-flow", "architecture": "GSFNet (lite0)",
        "training": {"command": "cvkit train semantic-flow --backbone lite0 --image-size 256 --width 16 "
                                f"--stage1-steps {s1} --stage2-steps {s2} --m-temperature 0.1 --batch 4",
                     "data": "synthetic warps of scikit-image/scikit-learn images (train split)",
                     "seconds": summary["seconds"], "seed": 0}}
save_model(model, out, card)
print(json.dumps(summary["params"]))
