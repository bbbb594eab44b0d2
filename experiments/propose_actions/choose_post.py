"""Pick the post-processing of the shipped model on a *validation* generated set (seed 3; the test set is seed 7)."""
import sys

import torch

from cvkit.assets import asset_from_path
from cvkit.propose_actions.evaluate import synthetic_comparison
from cvkit.propose_actions.predict import PostConfig
from cvkit.propose_actions.run import _from_asset

torch.set_num_threads(1)
p = _from_asset(asset_from_path(sys.argv[1]), torch.device("cpu"))
for name, post in [("filter+soft", PostConfig()), ("all+soft", PostConfig(candidate_filter=False)),
                   ("filter+soft bsn", PostConfig(alpha=0.75, low=0.65, high=0.9))]:
    rep = synthetic_comparison(p.net, p.input, seed=3, n=150, post=post, prior_videos=1000)
    print(name, {k: {m: round(v, 2) for m, v in r.items()} for k, r in rep.items() if k != "_curves"}, flush=True)
