"""The README table: every QE/DBA method on PETS2009 S2L1 crops, sklearn digits and the bundled skimage set,
same descriptors (EfficientNet-Lite0 GeM, centred on each database; plus PCA-whitened rows). Equivalent to
`cvkit evaluate search-expand --dataset NAME --cache .cache/search_expand --json` per set.

    python experiments/search_expand/real_table.py classical   # all classical rows (+ PCA-whitened rows)
    python experiments/search_expand/real_table.py lattqe      # the LAttQE rows (shipped lattqe-gram)
    python experiments/search_expand/real_table.py print       # markdown from the JSON
"""

import json
import sys
import time
from pathlib import Path

import torch

from cvkit.search_expand.data import load_dataset
from cvkit.search_expand.descriptor import GemDescriptor
from cvkit.search_expand.evaluate import PAPER_METHODS, Method, run_evaluation
from cvkit.search_expand.model import load_lattqe
from cvkit.search_expand.train import lattqe_weight_fn

torch.set_num_threads(1)
OUT = Path("benchmarks/results/search_expand_real.json")
SETS = [("pets2009", "../shared/data/pets2009"), ("digits", None), ("bundled", ".cache/bundled")]
mode = sys.argv[1]
results = json.loads(OUT.read_text()) if OUT.is_file() else {}
sets = [s for s in SETS if len(sys.argv) < 3 or s[0] in sys.argv[2:]]
if mode in ("classical", "lattqe"):
    d = GemDescriptor()
    fns = (None, None)
    methods = [m for m in PAPER_METHODS if "lattqe" not in (m.qe, m.dba)]
    if mode == "lattqe":
        net = load_lattqe("lattqe-gram")
        fns = (lattqe_weight_fn(net), lattqe_weight_fn(net, softmax=True))
        methods = [m for m in PAPER_METHODS if "lattqe" in (m.qe, m.dba)]
    for name, root in sets:
        t = time.time()
        rs = load_dataset(name, root)
        rows = run_evaluation(rs, d, d.key, Path(".cache/search_expand"), methods, fns[0], fns[1],
                              log=lambda m: print(m, file=sys.stderr, flush=True))
        if mode == "classical":
            white = [Method("PCA-whitened: no QE", "none"),
                     Method("PCA-whitened: alpha-QE (nQE 10, a 3)", "alphaqe", 10)]
            rows += run_evaluation(rs, d, d.key, Path(".cache/search_expand"), white, whiten=True,
                                   log=lambda m: print(m, file=sys.stderr, flush=True))
        results = json.loads(OUT.read_text()) if OUT.is_file() else {}
        entry = results.setdefault(rs.name, {"queries": len(rs.query_images), "database": len(rs.db_images),
                                             "rows": {}})
        for r in rows:
            entry["rows"][r["method"]] = r
        entry[f"seconds_{mode}"] = round(time.time() - t, 1)
        # re-read just before writing: the three sets may run as parallel processes
        latest = json.loads(OUT.read_text()) if OUT.is_file() else {}
        latest[rs.name] = entry
        results = latest
        OUT.parent.mkdir(parents=True, exist_ok=True)
        tmp = OUT.with_suffix(f".{rs.name}.tmp")
        tmp.write_text(json.dumps(results, indent=2) + "\n")
        tmp.replace(OUT)
names = list(results)
order = [m.name for m in PAPER_METHODS] + ["PCA-whitened: no QE", "PCA-whitened: alpha-QE (nQE 10, a 3)"]
print("| method | " + " | ".join(f"{n} mAP | R@1" for n in names) + " |")
print("|---|" + "---|---|" * len(names))
for m in order:
    if not any(m in results[n]["rows"] for n in names):
        continue
    cells = []
    for n in names:
        r = results[n]["rows"].get(m)
        cells += [f"{100 * r['mAP']:.2f}", f"{100 * r['R@1']:.2f}"] if r else ["-", "-"]
    print(f"| {m} | " + " | ".join(cells) + " |")
