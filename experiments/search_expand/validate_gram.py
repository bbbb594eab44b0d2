"""Validation that decides the default QE: the shipped lattqe-gram vs alpha-QE (and no QE) on held-out synthetic
descriptor worlds (seeds never used by the training recipe). Writes benchmarks/results/search_expand_validation.json.

    python experiments/search_expand/validate_gram.py
"""

import json
from pathlib import Path

import numpy as np
import torch

from cvkit.search_expand.index import SearchIndex
from cvkit.search_expand.metrics import compute_map, label_gnd
from cvkit.search_expand.model import load_lattqe
from cvkit.search_expand.qe import Expander, search_expanded
from cvkit.search_expand.synthetic import synthetic_world
from cvkit.search_expand.train import lattqe_weight_fn

torch.set_num_threads(1)
net = load_lattqe("lattqe-gram")
fn = lattqe_weight_fn(net)
methods = {"no QE": Expander("none", 0), "alpha-QE (nQE 10)": Expander("alphaqe", 10),
           "AQE (nQE 2)": Expander("aqe", 2), "LAttQE-gram (nQE 64)": Expander("lattqe", 64, weight_fn=fn)}
res: dict = {m: [] for m in methods}
for w, dim in enumerate((64, 128, 256, 512, 128, 256)):
    rng = np.random.default_rng(777_000 + w)  # training worlds use seeds 1000.. (cvkit.search_expand.train)
    x, y = synthetic_world(4000, dim, rng)
    qi = np.flatnonzero(y >= 0)[::8][:400]
    idx = SearchIndex(x, "flat")
    gnd = label_gnd(y[qi], np.where(y < 0, -2, y), query_db_index=qi)
    for name, exp in methods.items():
        _, ids = search_expanded(idx, x[qi], exp, len(x), exclude=qi)
        res[name].append(compute_map(list(ids), gnd).map)
    print(w, {k: round(v[-1], 4) for k, v in res.items()}, flush=True)
summary = {k: {"mean_mAP": float(np.mean(v)), "per_world": [round(a, 4) for a in v]} for k, v in res.items()}
print(json.dumps(summary, indent=1))
Path("benchmarks/results/search_expand_validation.json").write_text(json.dumps(summary, indent=2) + "\n")
