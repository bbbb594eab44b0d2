"""Database file: round trip, resumable index runs, Ctrl-C leaves a usable database, descriptor checks."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from cvkit.errors import InputError, Interrupted, ModelError
from cvkit.search_expand.db import SearchDB, check_same_descriptor
from cvkit.search_expand.features import read_descriptors
from cvkit.search_expand.run import index_descriptor_file, index_images

DESC = {"name": "toy", "dim": 3, "size": None, "min_size": None, "scales": None, "p": None}


def toy_describe(img: np.ndarray) -> np.ndarray:
    """A 3-d colour descriptor (fast stand-in for the CNN)."""
    return img.reshape(-1, 3).mean(0).astype(np.float32) + 1.0


def folder(tmp: Path, n: int = 12) -> Path:
    d = tmp / "photos"
    d.mkdir()
    for i in range(n):
        cv2.imwrite(str(d / f"p{i}.png"), np.full((8, 8, 3), (i * 20, 255 - i * 20, (i * 50) % 255), np.uint8))
    return d


def test_ctrl_c_leaves_usable_partial_db_and_rerun_resumes(tmp_path: Path) -> None:
    photos = folder(tmp_path)
    out = tmp_path / "p.db"
    calls = {"n": 0}

    def interrupting(img: np.ndarray) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 10:
            raise KeyboardInterrupt
        return toy_describe(img)

    with pytest.raises(KeyboardInterrupt):
        index_images(photos, out, interrupting, DESC, checkpoint_s=0.0)
    db = SearchDB.load(out)
    assert not db.complete and len(db.ids) == 9
    assert not list(tmp_path.glob(".p.*part*"))  # no temp file left behind
    # a SIGTERM (cvkit's Interrupted) during the resumed run saves its progress the same way
    calls["n"] = -100

    def terminating(img: np.ndarray) -> np.ndarray:
        raise Interrupted(15)

    with pytest.raises(Interrupted):
        index_images(photos, out, terminating, DESC, checkpoint_s=0.0)
    assert len(SearchDB.load(out).ids) == 9
    rep = index_images(photos, out, toy_describe, DESC)
    assert rep.skipped == 9 and rep.added == 3
    db = SearchDB.load(out)
    assert db.complete and len(db.ids) == 12 and len(set(db.ids)) == 12
    s, ids = db.index().search(db.transform(db.raw[:1]), 1)
    assert ids[0, 0] == 0


def test_other_descriptor_and_dimension_are_refused(tmp_path: Path) -> None:
    photos = folder(tmp_path, 9)
    out = tmp_path / "p.db"
    index_images(photos, out, toy_describe, DESC)
    db = SearchDB.load(out)
    with pytest.raises(ModelError):
        check_same_descriptor(db, {**DESC, "name": "efflite0-gem", "dim": 1280}, out)
    with pytest.raises(ModelError):
        db.transform(np.zeros((1, 5), np.float32))
    np.save(tmp_path / "f.npy", np.ones((4, 7), np.float32))
    index_descriptor_file(tmp_path / "f.npy", tmp_path / "f.db")
    np.save(tmp_path / "g.npy", np.ones((4, 5), np.float32))
    with pytest.raises(InputError, match="g.npy"):
        index_descriptor_file(tmp_path / "g.npy", tmp_path / "f.db", add=True)


def test_descriptor_file_formats(tmp_path: Path) -> None:
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    rec = np.concatenate([np.full((3, 1), 4, np.int32), x.view(np.int32)], 1)
    rec.tofile(tmp_path / "a.fvecs")
    got, ids = read_descriptors(tmp_path / "a.fvecs")
    assert np.array_equal(got, x) and ids == ["a:0", "a:1", "a:2"]
    np.savez(tmp_path / "b.npz", X=x, ids=np.array(["u", "v", "w"]))
    assert read_descriptors(tmp_path / "b.npz")[1] == ["u", "v", "w"]
    (tmp_path / "c.npy").write_bytes(b"garbage")
    with pytest.raises(InputError, match="c.npy"):
        read_descriptors(tmp_path / "c.npy")
    with pytest.raises(InputError):
        SearchDB.load(tmp_path / "c.npy")
