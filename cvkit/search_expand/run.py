"""Run one job: index a photo folder (or a descriptor file) into a database, query it with query expansion,
write JSON Lines rankings and an HTML contact sheet. The CLI is a thin layer over these functions."""

from __future__ import annotations

import base64
import html
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from ..errors import ArgumentError, InputError, Interrupted, ModelError
from ..io.atomic import write_text_atomic
from ..io.batch import discover
from ..io.images import IMAGE_SUFFIXES, natural_key, read_image
from .db import SearchDB, check_same_descriptor, empty_db
from .features import is_descriptor_file, read_descriptors
from .index import SearchIndex
from .qe import DEFAULT_K, Expander, augment_database, search_expanded

Progress = Callable[[int, int], None]


def find_images(source: Path | str) -> list[Path]:
    """Image files of a file, a folder (recursive, natural order, hidden files skipped) or a glob pattern
    (`cvkit.io.batch.discover`); InputError (exit 3) when there is none."""
    inputs = discover(source, IMAGE_SUFFIXES, what="image")
    items = sorted(inputs.items, key=lambda i: [*(natural_key(q) for q in i.rel.parents), natural_key(i.rel)])
    return [i.path for i in items]


def file_id(path: Path, root: Path) -> str:
    """A database id: the path relative to the indexed folder's parent when possible, else absolute."""
    return str(path.resolve())


@dataclass
class IndexReport:
    """What an index run did."""

    added: int
    skipped: int
    failures: list[tuple[str, str]]
    total: int

    def record(self, db: Path) -> dict:
        """The JSON record of `index --json`."""
        return {"db": str(db), "added": self.added, "skipped": self.skipped, "total": self.total,
                "failed": [f for f, _ in self.failures]}


def open_for_index(out: Path, add: bool, descriptor: dict, dim: int, whiten_dim: int | None) -> SearchDB:
    """An existing database to extend (with --add, or a partial one to resume) or a new one."""
    if out.exists():
        db = SearchDB.load(out)
        if db.complete and not add:
            raise ArgumentError(f"{out} already exists; use --add to append to it or choose another -o")
        check_same_descriptor(db, descriptor, out)
        db.complete = False
        return db
    return empty_db(descriptor, dim, whiten_dim)


def index_images(photos: Path, out: Path, describe: Callable[[np.ndarray], np.ndarray], descriptor: dict,
                 add: bool = False, whiten_dim: int | None = None, checkpoint_s: float = 30.0,
                 progress: Progress | None = None) -> IndexReport:
    """Describe every image under `photos` not yet in the database and save it; unreadable images are
    skipped and reported. A checkpoint is written every `checkpoint_s`; Ctrl-C (or SIGTERM/SIGHUP) saves what is
    done (atomically) and re-raises, so the file on disk is always a usable database or absent."""
    files = find_images(photos)
    if not files:
        raise InputError(photos, "no images found")
    db = open_for_index(out, add, descriptor, descriptor["dim"], whiten_dim)
    have = set(db.ids)
    todo = [p for p in files if file_id(p, photos) not in have]
    failures: list[tuple[str, str]] = []
    new_x: list[np.ndarray] = []
    new_ids: list[str] = []
    last = time.time()

    def flush(final: bool) -> None:
        if new_x:
            db.add(np.stack(new_x), new_ids)
            new_x.clear()
            new_ids.clear()
        db.complete = final
        db.failures = [list(f) for f in failures]
        if len(db.ids):
            db.refit()
            db.save(out)

    try:
        for i, p in enumerate(todo):
            try:
                new_x.append(describe(read_image(p)))
                new_ids.append(file_id(p, photos))
            except InputError as e:
                failures.append((str(p), e.problem))
            if progress:
                progress(i + 1, len(todo))
            if time.time() - last > checkpoint_s:
                flush(False)
                last = time.time()
    except (KeyboardInterrupt, Interrupted):  # Ctrl-C, SIGTERM, SIGHUP: save what is done, atomically
        flush(False)
        raise
    flush(True)
    if not len(db.ids):
        raise InputError(photos, "no readable image")
    return IndexReport(len(todo) - len(failures), len(files) - len(todo), failures, len(db.ids))


def index_descriptor_file(path: Path, out: Path, add: bool = False, whiten: bool = False,
                          whiten_dim: int | None = None) -> IndexReport:
    """Index the user's own descriptors (file list from the file or its sidecar)."""
    x, ids = read_descriptors(path)
    descriptor = {"name": "file", "dim": int(x.shape[1]), "size": None, "scales": None, "p": None,
                  "whiten": whiten, "source": Path(path).name}
    if out.exists():
        db = SearchDB.load(out)
        if db.complete and not add:
            raise ArgumentError(f"{out} already exists; use --add to append to it or choose another -o")
        if db.dim != x.shape[1]:
            raise InputError(path, f"descriptors are {x.shape[1]}-d but {out} holds {db.dim}-d "
                                   f"({db.descriptor.get('name')}) descriptors")
        if db.descriptor.get("name") != "file":
            raise ModelError(f"{out} was built with descriptor {db.descriptor.get('name')}, not a descriptor file")
    else:
        db = empty_db(descriptor, x.shape[1], whiten_dim)
    have = set(db.ids)
    keep = [i for i, s in enumerate(ids) if s not in have]
    db.add(x[keep], [ids[i] for i in keep])
    db.complete = True
    db.refit()
    db.save(out)
    return IndexReport(len(keep), len(ids) - len(keep), [], len(db.ids))


def index(photos: Path, out: Path, *, add: bool = False, size: int = 224, whiten: bool = False,
          whiten_dim: int | None = None, device: str | torch.device = "cpu", progress: Progress | None = None
          ) -> IndexReport:
    """`cvkit search-expand index`: a descriptor file, or the images of a file/folder/glob described on `device`
    (EfficientNet-Lite0 GeM at `size`), into the database `out`."""
    from .descriptor import describer

    if Path(photos).is_file() and is_descriptor_file(photos):
        return index_descriptor_file(photos, out, add=add, whiten=whiten, whiten_dim=whiten_dim)
    d = describer(size, device)
    return index_images(photos, out, d, {**d.params, "whiten": whiten}, add=add, whiten_dim=whiten_dim,
                        progress=progress)


@dataclass
class QuerySettings:
    """Query-side options."""

    method: str = "alphaqe"
    k: int | None = None
    alpha: float = 3.0
    dba: str = "none"
    dba_k: int | None = None
    top: int = 20
    index: str = "auto"
    weight_fn: object = None
    dba_weight_fn: object = None


def make_expander(method: str, k: int | None, alpha: float, weight_fn=None) -> Expander:
    """An Expander with the method's default nQE when k is None."""
    if method == "lattqe" and weight_fn is None:
        raise ModelError("lattqe needs a trained model (--model)")
    kk = DEFAULT_K.get(method, 10) if k is None else k
    return Expander("lattqe" if weight_fn is not None else method, kk, alpha, weight_fn=weight_fn)


def prepare_index(db: SearchDB, s: QuerySettings) -> SearchIndex:
    """The index to search: the database's, or its DBA-augmented copy."""
    index = db.index(s.index)
    if s.dba == "none":
        return index
    from .qe import DEFAULT_DBA_K

    k = s.dba_k if s.dba_k is not None else DEFAULT_DBA_K.get(s.dba, 10)
    exp = make_expander(s.dba, k, s.alpha, s.dba_weight_fn)
    return SearchIndex(augment_database(index, exp), index.kind)


def iter_queries(query: Path, db: SearchDB, describe: Callable[[np.ndarray], np.ndarray] | None,
                 failures: list[tuple[str, str]]) -> Iterator[tuple[str, np.ndarray]]:
    """(query id, searchable vector) per query image or descriptor row; unreadable images go to `failures`."""
    if query.is_file() and is_descriptor_file(query):
        x, ids = read_descriptors(query)
        if x.shape[1] != db.dim:
            raise InputError(query, f"descriptors are {x.shape[1]}-d but the database holds {db.dim}-d")
        for i, v in zip(ids, db.transform(x), strict=True):
            yield i, v
        return
    if describe is None:
        raise ModelError(f"the database holds {db.descriptor.get('name')} descriptors from a file; query it "
                         "with a descriptor file of the same kind, not with images")
    for p in find_images(query):
        try:
            v = describe(read_image(p))
        except InputError as e:
            failures.append((str(p), e.problem))
            continue
        yield str(p), db.transform(v[None])[0]


def run_queries(index: SearchIndex, db: SearchDB, queries: list[tuple[str, np.ndarray]], s: QuerySettings
                ) -> list[dict]:
    """JSON-ready rankings, one dict per query."""
    if not queries:
        return []
    exp = make_expander(s.method, s.k, s.alpha, s.weight_fn)
    q = np.stack([v for _, v in queries])
    scores, ids = search_expanded(index, q, exp, s.top)
    out = []
    for (qid, _), sc, ii in zip(queries, scores, ids, strict=True):
        res = [{"rank": r + 1, "id": db.ids[j], "score": round(float(v), 6)}
               for r, (j, v) in enumerate(zip(ii, sc, strict=True)) if j >= 0]
        out.append({"query": qid, "method": exp.method, "k": exp.k, "dba": s.dba, "results": res})
    return out


@dataclass
class SearchResult:
    """Rankings (one JSON-ready dict per query), the unreadable query images (path, why), database size."""

    rankings: list[dict]
    failures: list[tuple[str, str]]
    items: int

    def write(self, output: Path | None = None, sheet: Path | None = None) -> None:
        """The rankings as JSON Lines into `output` and as an HTML contact sheet into `sheet` (each when given)."""
        if output is not None:
            write_jsonl(output, self.rankings)
        if sheet is not None:
            write_contact_sheet(sheet, self.rankings)


QE_METHODS = ("none", "aqe", "aqewd", "alphaqe", "dqe", "lattqe")


def search(query: Path, db_path: Path, s: QuerySettings, model: str = "lattqe-gram",
           device: str | torch.device = "cpu") -> SearchResult:
    """`cvkit search-expand [query]`: search the database for each query (an image, an image folder or glob, or
    a descriptor file), expand the query, search again; images and LAttQE (`model`) run on `device`."""
    from .descriptor import describer
    from .model import load_lattqe
    from .train import lattqe_weight_fn

    for opt, v in (("--qe", s.method), ("--dba", s.dba)):
        if v not in QE_METHODS:
            raise ArgumentError(f"{opt} {v!r}: use one of {', '.join(QE_METHODS)}")
    base = SearchDB.load(db_path)
    if "lattqe" in (s.method, s.dba):
        net = load_lattqe(model, base.dim, device)
        s.weight_fn, s.dba_weight_fn = lattqe_weight_fn(net), lattqe_weight_fn(net, softmax=True)
    describe = None
    if base.descriptor.get("name") != "file" and not (Path(query).is_file() and is_descriptor_file(query)):
        describe = describer(base.descriptor, device)
        check_same_descriptor(base, describe.params, db_path)
    failures: list[tuple[str, str]] = []
    queries = list(iter_queries(Path(query), base, describe, failures))
    return SearchResult(run_queries(prepare_index(base, s), base, queries, s), failures, len(base.ids))


def _thumb(path: str, size: int = 128) -> str:
    try:
        img = read_image(path)
    except InputError:
        return ""
    f = size / max(img.shape[:2])
    img = cv2.resize(img, (max(1, round(img.shape[1] * f)), max(1, round(img.shape[0] * f))),
                     interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode() if ok else ""


def write_contact_sheet(path: Path, rankings: list[dict]) -> None:
    """An HTML page (thumbnails embedded) with each query and its hits, written atomically."""
    rows = []
    for r in rankings:
        cells = [f'<td class="q"><img src="{_thumb(r["query"])}"><br>{html.escape(Path(r["query"]).name)}</td>']
        for h in r["results"]:
            cells.append(f'<td><img src="{_thumb(h["id"])}"><br>#{h["rank"]} {h["score"]:.3f}<br>'
                         f'{html.escape(Path(h["id"]).name)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>cvkit search-expand</title><style>"
            "td{font:11px sans-serif;text-align:center;vertical-align:top}td.q{border-right:3px solid #333}"
            "img{max-width:128px;max-height:128px}</style></head><body><table>"
            + "".join(rows) + "</table></body></html>")
    write_text_atomic(path, page)


def write_jsonl(path: Path, rankings: list[dict]) -> None:
    """JSON Lines rankings, written atomically."""
    write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in rankings))
