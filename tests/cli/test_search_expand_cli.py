"""End-to-end `cvkit search-expand index|query` and its error paths on small generated images/descriptors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.cli.helpers import cvkit as run_cli

ROOT = Path(__file__).resolve().parents[2]


def cvkit(*args: str) -> subprocess.CompletedProcess:
    """Run `cvkit ARGS --threads 1` in-process and capture its streams."""
    return run_cli(*args, "--threads", "1")


def photos(folder: Path, n: int = 6) -> list[Path]:
    """Small distinct images: coloured shapes on different backgrounds, plus one corrupt file."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        img = np.full((64, 80, 3), rng.integers(0, 255, 3), np.uint8)
        cv2.circle(img, (20 + 7 * i, 30), 10 + 2 * i, tuple(int(v) for v in rng.integers(0, 255, 3)), -1)
        p = folder / f"im{i}.png"
        cv2.imwrite(str(p), img)
        out.append(p)
    (folder / "broken.jpg").write_bytes(b"not an image")
    return out


@pytest.mark.slow
def test_index_query_html_and_unreadable_image(tmp_path: Path) -> None:
    imgs = photos(tmp_path / "photos")
    db = tmp_path / "photos.db"
    r = cvkit("search-expand", "index", str(tmp_path / "photos"), "-o", str(db), "--device", "cpu")
    assert r.returncode == 6, r.stderr
    assert "broken.jpg" in r.stderr and db.is_file()
    r = cvkit("search-expand", "query", str(imgs[2]), "--db", str(db), "--top", "3", "--html",
              str(tmp_path / "sheet.html"), "--device", "cpu")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 1 and rows[0]["method"] == "alphaqe" and len(rows[0]["results"]) == 3
    assert Path(rows[0]["results"][0]["id"]).name == "im2.png"
    assert "<table>" in (tmp_path / "sheet.html").read_text()
    # an existing complete db is not overwritten without --add
    r = cvkit("search-expand", "index", str(tmp_path / "photos"), "-o", str(db), "--device", "cpu")
    assert r.returncode == 4


@pytest.mark.slow
def test_descriptor_file_db_and_mismatches(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 16)).astype(np.float32)
    np.save(tmp_path / "feats.npy", x)
    (tmp_path / "feats.ids.txt").write_text("".join(f"item{i}\n" for i in range(50)))
    db = tmp_path / "f.db"
    assert cvkit("search-expand", "index", str(tmp_path / "feats.npy"), "-o", str(db)).returncode == 0
    np.save(tmp_path / "q.npy", x[:2])
    r = cvkit("search-expand", "query", str(tmp_path / "q.npy"), "--db", str(db), "--qe", "aqe", "--top", "5",
              "-o", str(tmp_path / "out.jsonl"))
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [row["results"][0]["id"] for row in rows] == ["item0", "item1"]
    # the short form `cvkit search-expand QUERY --db DB` is `query QUERY --db DB`, with options in any order
    r = cvkit("search-expand", str(tmp_path / "q.npy"), "--db", str(db), "--qe", "aqe", "--top", "5")
    assert r.returncode == 0, r.stderr
    assert [json.loads(line)["results"][0]["id"] for line in r.stdout.splitlines()] == ["item0", "item1"]
    r = cvkit("search-expand", "--top", "3", "--db", str(db), str(tmp_path / "q.npy"))
    assert r.returncode == 0 and [len(json.loads(line)["results"]) for line in r.stdout.splitlines()] == [3, 3]
    np.save(tmp_path / "bad.npy", x[:2, :8])
    r = cvkit("search-expand", "query", str(tmp_path / "bad.npy"), "--db", str(db))
    assert r.returncode == 3 and "bad.npy" in r.stderr
    img = tmp_path / "a.png"
    cv2.imwrite(str(img), np.zeros((40, 40, 3), np.uint8))
    r = cvkit("search-expand", "query", str(img), "--db", str(db))
    assert r.returncode == 5 and "descriptor" in r.stderr


@pytest.mark.slow
def test_ctrl_c_during_index_leaves_usable_db_or_none(tmp_path: Path) -> None:
    import os
    import select
    import signal
    import time

    from cvkit.search_expand.db import SearchDB

    photos(tmp_path / "photos", n=40)
    db = tmp_path / "p.db"
    proc = subprocess.Popen([sys.executable, "-m", "cvkit_cli.main", "search-expand", "index", str(tmp_path / "photos"),
                             "-o", str(db), "--device", "cpu", "--threads", "1"], cwd=ROOT, stderr=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    # interrupt once indexing has begun (its first progress line, at image 25 of 40), not after a fixed sleep:
    # on a loaded machine the imports alone can take longer than any sleep
    seen, deadline = b"", time.monotonic() + 120
    while b"indexing" not in seen and proc.poll() is None and time.monotonic() < deadline:
        if select.select([proc.stderr], [], [], 0.2)[0]:
            seen += os.read(proc.stderr.fileno(), 4096)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode in (0, 6, 130)
    assert not list(tmp_path.glob(".p.*part*"))
    if db.exists():  # a usable database of some of the photos, each once
        loaded = SearchDB.load(db)
        photos_ = {str(p.resolve()) for p in (tmp_path / "photos").glob("*.png")}
        assert loaded.ids and set(loaded.ids) <= photos_ and len(set(loaded.ids)) == len(loaded.ids)
        assert len(loaded.transform(np.zeros((1, loaded.dim), np.float32) + 1.0)) == 1
