"""Finishes a Synth-STA run whose process predates the validation read-out step: loads its weights, runs the same
`finish_synth` step the recipe (`cvkit train retrieve-moment --synthetic`) runs after training, writes the asset.

    python experiments/retrieve_moment/finish_small.py RUN_DIR assets/retrieve-moment/vlanet-small-synth
"""
import json
import sys

import torch

from cvkit.assets import asset_from_path, load_into
from cvkit.retrieve_moment.model import VLANet, VLANetConfig
from cvkit.retrieve_moment.train import finish_synth, synth_splits

torch.set_num_threads(1)
run, out = sys.argv[1], sys.argv[2]
asset = asset_from_path(run)
cfg = VLANetConfig.from_dict(asset.card["config"])
model = VLANet(cfg)
load_into(model, asset.state_dict(), asset.weights)
model.eval()
tr = asset.card["training"]
train, test, val, toks = synth_splits(800, 300, tr["seed"], cfg)
hist = {"epochs": tr["epochs"], "seconds": tr["seconds"]}
r = finish_synth(model, hist, train, test, val, toks, out, 800, 300, tr["epochs"], tr["seed"])
print(json.dumps({k: r[k] for k in ("model", "prior", "random", "validation")}, indent=1))
