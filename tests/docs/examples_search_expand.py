"""Doc-test set-ups of the `search-expand` examples in README.md and its --help."""

# ruff: noqa: F403, F405
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.docs.setups import *  # the shared generated inputs (Ex, F, ...)


def _search_db(root: Path) -> None:
    """photos.db over the generated photos/ folder (the database the search-expand query examples read)."""
    from cvkit.search_expand.descriptor import GemDescriptor
    from cvkit.search_expand.run import index_images

    d = GemDescriptor()
    index_images(root / "photos", root / "photos.db", d, {**d.params, "whiten": False})


def _revisited(root: Path) -> None:
    """A 4-image revisited-Oxford layout with one query (bbx crop) under DATA/roxford5k."""
    import pickle

    for i, n in enumerate("abcq"):
        F.image(h=64, w=80, seed=i)(root / "DATA/roxford5k/jpg" / f"{n}.jpg")
    gnd = {"imlist": ["a", "b", "c"], "qimlist": ["q"],
           "gnd": [{"bbx": [0, 0, 60, 50], "easy": [0], "hard": [1], "junk": [2]}]}
    (root / "DATA/roxford5k/gnd_roxford5k.pkl").write_bytes(pickle.dumps(gnd))


SEARCH_PHOTOS = {"photos": F.frames(n=4, h=64, w=80)}
SEARCH_CLASSES = {f"my_classes/{c}/{i}.jpg": F.image(h=48, w=64, seed=10 * k + i)
                  for k, c in enumerate("ab") for i in range(3)}
_fast_train_search = [("--out", "--epochs 1 --updates 1 --dba-epochs 0 --threads 1 --out")]

EXAMPLES: dict[str, Ex] = {
    "cvkit search-expand index photos/ -o photos.db            # EfficientNet-Lite0 GeM descriptors + faiss index":
        Ex(SEARCH_PHOTOS),
    "cvkit search-expand query query.jpg --db photos.db --top 20 --html sheet.html   # JSON Lines rankings":
        Ex({**SEARCH_PHOTOS, "query.jpg": F.image()}, prepare=_search_db),
    "cvkit evaluate search-expand --dataset roxford5k --root DATA/  # revisited E/M/H mAP (revisitop definition)":
        Ex(prepare=_revisited),
    "cvkit search-expand index photos/ -o photos.db": Ex(SEARCH_PHOTOS),
    "cvkit search-expand query.jpg --db photos.db --top 5":
        Ex({**SEARCH_PHOTOS, "query.jpg": F.image()}, prepare=_search_db),
    "cvkit search-expand query query.jpg --db photos.db --top 20 --html sheet.html":
        Ex({**SEARCH_PHOTOS, "query.jpg": F.image()}, prepare=_search_db),
    "cvkit search-expand query queries/ --db photos.db --qe lattqe --dba alphaqe -o runs.jsonl":
        Ex({**SEARCH_PHOTOS, "queries/a.jpg": F.image(), "queries/b.png": F.image(seed=1)}, prepare=_search_db),
    "cvkit train search-expand --data synthetic --out assets/search-expand/lattqe-gram":
        Ex(subs=_fast_train_search, slow=True),
    "cvkit train search-expand --features X.npy --labels y.npy --arch paper --out runs/lattqe":
        Ex({"X.npy": F.npy(np.random.default_rng(0).standard_normal((120, 64)).astype(np.float32)),
            "y.npy": F.npy(np.repeat(np.arange(12), 10))}, subs=_fast_train_search, slow=True),
    "cvkit evaluate search-expand --dataset roxford5k --root DATA/": Ex(prepare=_revisited),
    "cvkit evaluate search-expand --dataset folders --root my_classes/ --json": Ex(SEARCH_CLASSES),
}

NOT_RUNNABLE: dict[str, str] = {}
