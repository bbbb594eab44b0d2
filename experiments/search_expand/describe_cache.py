"""Fill the descriptor cache for the three real evaluation sets (slow part of the README table)."""
import sys
from pathlib import Path
import torch
from cvkit.search_expand.data import load_dataset
from cvkit.search_expand.descriptor import GemDescriptor
from cvkit.search_expand.evaluate import describe_all
torch.set_num_threads(1)
d = GemDescriptor()
key = d.key
cache = Path(".cache/search_expand")
order = sys.argv[1:] or ["pets2009", "digits", "bundled"]
roots = {"pets2009": "../shared/data/pets2009", "digits": None, "bundled": ".cache/bundled"}
for name, root in [(n, roots[n]) for n in order]:
    rs = load_dataset(name, root)
    k = f"{rs.name}|{len(rs.db_images)}|{len(rs.query_images)}|{key}"
    describe_all(rs.db_images, d, cache, k + "|db", lambda i, n: print(name, i, n, flush=True) if i % 100 == 0 else None)
    print("done", name, flush=True)
