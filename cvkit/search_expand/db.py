"""The search database file: raw descriptors, the file list (or ids), the descriptor's identity, the
PCA-whitening learnt on the database and the faiss index, in one `.npz` container written atomically.

`complete: false` in the metadata marks a database checkpointed by an interrupted `index` run; the next run
resumes it (files already in it are skipped). Any database on disk is usable: it is only ever replaced by
an atomic rename.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, ModelError
from ..io.atomic import atomic_path
from .descriptor import Whitening
from .index import SearchIndex, l2n

FORMAT = "cvkit-search-expand-db/1"


@dataclass
class SearchDB:
    """Descriptors + ids + descriptor identity; `vectors()` gives the (whitened) searchable matrix."""

    raw: np.ndarray
    ids: list[str]
    descriptor: dict
    whitening: Whitening | None = None
    whiten_dim: int | None = None
    complete: bool = True
    failures: list[list[str]] = field(default_factory=list)
    _index: SearchIndex | None = None

    @property
    def dim(self) -> int:
        """Dimension of the raw descriptors."""
        return int(self.raw.shape[1])

    def refit(self) -> None:
        """Re-learn the centring (or, with descriptor["whiten"], the PCA-whitening) on all database descriptors
        (no labels) and drop the cached index."""
        whiten = bool(self.descriptor.get("whiten", False)) and len(self.raw) >= 8
        self.whitening = Whitening.learn(self.raw, self.whiten_dim, whiten=whiten) if len(self.raw) >= 2 else None
        self._index = None

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Raw descriptors (N, D) -> searchable vectors (whitened if learnt, L2-normalised)."""
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ModelError(f"descriptors of dimension {x.shape[-1]} do not match the database ({self.dim}-d, "
                             f"descriptor {self.descriptor.get('name')})")
        return self.whitening(x) if self.whitening is not None else l2n(x)

    def index(self, kind: str = "auto") -> SearchIndex:
        """The search index over the searchable vectors (built once)."""
        if self._index is None or (kind != "auto" and self._index.kind != kind):
            self._index = SearchIndex(self.transform(self.raw), kind)
        return self._index

    def add(self, raw: np.ndarray, ids: list[str]) -> None:
        """Append descriptors (dimension checked by the caller)."""
        self.raw = np.concatenate([self.raw, np.asarray(raw, dtype=np.float32).reshape(-1, self.dim)])
        self.ids = self.ids + list(ids)
        self._index = None

    def save(self, path: str | Path) -> None:
        """Write the whole database atomically (temp file + rename); the faiss index goes in serialised."""
        meta = {"format": FORMAT, "descriptor": self.descriptor, "complete": self.complete,
                "whiten_dim": self.whiten_dim, "failures": self.failures, "n": len(self.ids)}
        arrays: dict[str, np.ndarray] = {"raw": self.raw.astype(np.float32),
                                         "ids": np.asarray(self.ids, dtype=np.str_),
                                         "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
        if self.whitening is not None:
            arrays.update(self.whitening.to_arrays())
        if len(self.ids):
            idx = self.index()
            if idx._faiss is not None and idx.kind == "flat":
                import faiss

                arrays["faiss_index"] = faiss.serialize_index(idx._faiss)
        with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as f:
            np.savez(f, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> SearchDB:
        """Read a database file; InputError (exit 3) when it is missing or not a cvkit search database."""
        path = Path(path)
        if not path.is_file():
            raise InputError(path, "database file not found (build it with `cvkit search-expand index`)")
        try:
            with np.load(path, allow_pickle=False) as z:
                a = {k: z[k] for k in z.files}
            meta = json.loads(bytes(a["meta"]).decode())
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError):
            raise InputError(path, "not a cvkit search-expand database") from None
        if meta.get("format") != FORMAT:
            raise InputError(path, f"unknown database format {meta.get('format')!r}")
        db = cls(a["raw"].astype(np.float32), [str(s) for s in a["ids"]], meta["descriptor"],
                 Whitening.from_arrays(a), meta.get("whiten_dim"), bool(meta.get("complete", True)),
                 meta.get("failures", []))
        if "faiss_index" in a and len(db.ids):
            import faiss

            index = SearchIndex(np.zeros((0, db.transform(db.raw[:1]).shape[1]), np.float32), "numpy")
            index.vectors = db.transform(db.raw)
            index.kind = "flat"
            index._faiss = faiss.deserialize_index(a["faiss_index"])
            if index._faiss.ntotal != len(db.ids):
                raise InputError(path, "database index and descriptor count disagree (corrupt file)")
            db._index = index
        return db


def empty_db(descriptor: dict, dim: int, whiten_dim: int | None = None) -> SearchDB:
    """A new database for descriptors of dimension `dim`."""
    return SearchDB(np.zeros((0, dim), np.float32), [], dict(descriptor), None, whiten_dim, complete=False)


def check_same_descriptor(db: SearchDB, descriptor: dict, source: object) -> None:
    """ModelError (exit 5) when `descriptor` is not the one the database was built with."""
    keys = ("name", "dim", "size", "min_size", "scales", "p")
    a = {k: db.descriptor.get(k) for k in keys}
    b = {k: descriptor.get(k) for k in keys}
    if a != b:
        raise ModelError(f"{source}: the database was built with descriptor {a['name']} ({a['dim']}-d), "
                         f"not {b['name']} ({b['dim']}-d); rebuild it or use the same descriptor")
