"""Trial: LAttQE-gram trained on synthetic worlds vs alpha-QE on held-out synthetic worlds and sklearn digits."""
import sys, time
import numpy as np, torch
from cvkit.search_expand.synthetic import synthetic_world
from cvkit.search_expand.train import TrainSet, TrainConfig, train_lattqe, lattqe_weight_fn
from cvkit.search_expand.model import gram_config
from cvkit.search_expand.index import SearchIndex, l2n
from cvkit.search_expand.qe import Expander, search_expanded
from cvkit.search_expand.metrics import label_gnd, compute_map
torch.set_num_threads(1)
epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
def world(e):
    r = np.random.default_rng(1000 + e)
    x, y = synthetic_world(int(r.integers(2000, 6000)), int(r.choice([64, 128, 256, 512])), r)
    return TrainSet.build(x, y)
model = train_lattqe(gram_config(), world, TrainConfig(epochs=epochs, updates_per_epoch=50), log=print)
torch.save(model.state_dict(), "/tmp/gram_trial.pt")
def ev(x, y, name):
    qi = np.flatnonzero(y >= 0)[:400]
    idx = SearchIndex(x, "flat"); gnd = label_gnd(y[qi], np.where(y < 0, -2, y), query_db_index=qi)
    for m, k, fn in [("none", 0, None), ("alphaqe", 10, None), ("alphaqe", 50, None), ("aqe", 2, None),
                     ("lattqe", 64, lattqe_weight_fn(model)), ("lattqe", 16, lattqe_weight_fn(model))]:
        _, ids = search_expanded(idx, x[qi], Expander(m, k, weight_fn=fn), len(x), exclude=qi)
        print(name, m, k, round(compute_map(list(ids), gnd).map, 4), flush=True)
for s in range(2):
    r = np.random.default_rng(5 + s); ev(*synthetic_world(4000, 128 * (s + 1), r), f"syn{s}")
from sklearn.datasets import load_digits
d = load_digits(); x = d.data - d.data.mean(0); ev(l2n(x), d.target, "digits")
