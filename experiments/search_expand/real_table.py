"""The README table: every QE/DBA method on PETS2009 S2L1 crops, sklearn digits and the bundled skimage set,
same descriptors (EfficientNet-Lite0 GeM, PCA-whitened on each database). Same as running
`cvkit evaluate search-expand --dataset NAME --cache .cache/search_expand --json` per set.

    python experiments/search_expand/real_table.py > benchmarks/results/search_expand_real.md
"""

import json
import sys
import time
from pathlib import Path

import torch

from cvkit.errors import ModelError
from cvkit.search_expand.data import load_dataset
from cvkit.search_expand.descriptor import GemDescriptor
from cvkit.search_expand.evaluate import run_evaluation
from cvkit.search_expand.model import load_lattqe
from cvkit.search_expand.train import lattqe_weight_fn

torch.set_num_threads(1)
d = GemDescriptor()
try:
    net = load_lattqe(sys.argv[1] if len(sys.argv) > 1 else "lattqe-gram")
    fns = (lattqe_weight_fn(net), lattqe_weight_fn(net, softmax=True))
except ModelError as e:
    print("no LAttQE:", e, file=sys.stderr)
    fns = (None, None)
sets = [("pets2009", "../shared/data/pets2009"), ("digits", None), ("bundled", ".cache/bundled")]
results = {}
for name, root in sets:
    t = time.time()
    rs = load_dataset(name, root)
    rows = run_evaluation(rs, d, d.key, Path(".cache/search_expand"), lattqe=fns[0], lattdba=fns[1],
                          log=lambda m: print(m, file=sys.stderr, flush=True))
    results[rs.name] = {"queries": len(rs.query_images), "database": len(rs.db_images), "rows": rows,
                        "seconds": round(time.time() - t, 1)}
Path("benchmarks/results").mkdir(parents=True, exist_ok=True)
Path("benchmarks/results/search_expand_real.json").write_text(json.dumps(results, indent=2) + "\n")
names = list(results)
print("| method | " + " | ".join(f"{n} mAP | {n} R@1" for n in names) + " |")
print("|---|" + "---|---|" * len(names))
for i, row in enumerate(results[names[0]]["rows"]):
    cells = []
    for n in names:
        r = results[n]["rows"][i]
        cells += [f"{100 * r['mAP']:.2f}", f"{100 * r['R@1']:.2f}"]
    print(f"| {row['method']} | " + " | ".join(cells) + " |")
