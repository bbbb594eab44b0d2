"""Fill the descriptor cache (.cache/search_expand) for the real evaluation sets: the slow part of the README table.

    python experiments/search_expand/describe_cache.py [pets2009] [digits] [bundled]
"""

import sys
from pathlib import Path

import torch

from cvkit.search_expand.data import load_dataset
from cvkit.search_expand.descriptor import GemDescriptor
from cvkit.search_expand.evaluate import describe_all

torch.set_num_threads(1)
d = GemDescriptor()
cache = Path(".cache/search_expand")
order = sys.argv[1:] or ["pets2009", "digits", "bundled"]
roots = {"pets2009": "../shared/data/pets2009", "digits": None, "bundled": ".cache/bundled"}
for name in order:
    rs = load_dataset(name, roots[name])
    k = f"{rs.name}|{len(rs.db_images)}|{len(rs.query_images)}|{d.key}"

    def show(i: int, n: int, name: str = name) -> None:
        if i % 100 == 0:
            print(name, i, n, flush=True)

    describe_all(rs.db_images, d, cache, k + "|db", show)
    print("done", name, flush=True)
