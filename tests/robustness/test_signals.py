"""Corpus cases that need a real process: SIGTERM / SIGHUP mid-run (what timeout, kill, systemd and docker send).

Each case starts `python -m cvkit_cli.main ...` on generated inputs, waits until the run is visibly under way, sends
the signal, and checks the documented exit code (128 + n), "interrupted" and no traceback on stderr, no leftover
`.part` temp file, and that every output present is complete. segment-lidar's batch is covered for SIGTERM, SIGHUP
and SIGINT in tests/cli/test_signals_and_outputs.py.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from . import files as F

ROOT = Path(__file__).resolve().parents[2]
CVKIT = [sys.executable, "-m", "cvkit_cli.main"]


def _interrupt(argv: list[str], ready: Callable[[Path], bool], sig: int, tmp: Path) -> tuple[int, str]:
    err_path = tmp / "stderr.txt"
    with open(err_path, "w") as err:
        proc = subprocess.Popen([*CVKIT, *argv], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None and not ready(err_path):
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be interrupted:\n" + err_path.read_text()
        proc.send_signal(sig)
        proc.wait(timeout=120)
    return proc.returncode, err_path.read_text()


def _no_temp_files(folder: Path) -> None:
    left = [p for p in folder.rglob("*") if ".part" in p.name or p.name.startswith(".cvkit-probe")]
    assert not left, f"temp files left behind: {left}"


@pytest.mark.slow
def test_sigterm_mid_track_batch_keeps_finished_videos(tmp_path: Path) -> None:
    vids = tmp_path / "vids"
    for name in ("a", "b", "c", "d"):
        F.video(n=60, h=120, w=160)(vids / f"{name}.avi")
        (vids / f"{name}.avi.init.txt").write_text("10,20,40,40\n")
    out = tmp_path / "out"
    code, err = _interrupt(["track", str(vids), "-o", str(out), "--video", "--threads", "1", "--quiet"],
                           lambda _: (out / "a.txt").exists(), signal.SIGTERM, tmp_path)
    assert code == 143, err
    assert "interrupted" in err and "Traceback" not in err
    _no_temp_files(out)
    for txt in out.glob("*.txt"):  # every finished item is complete: 60 boxes, and its video beside it
        assert len(txt.read_text().splitlines()) == 60 and txt.with_suffix(".mp4").stat().st_size > 0


@pytest.mark.slow
def test_sighup_mid_parse_table_batch_keeps_finished_tables(tmp_path: Path) -> None:
    pdfs = tmp_path / "pdfs"
    for i in range(60):
        F.pdf(pages=2)(pdfs / f"doc{i:02d}.pdf")
    out = tmp_path / "out"
    code, err = _interrupt(["parse-table", str(pdfs), "-o", str(out), "--threads", "1", "--quiet"],
                           lambda _: (out / "doc00-str.xml").exists(), signal.SIGHUP, tmp_path)
    assert code == 129, err
    assert "interrupted" in err and "Traceback" not in err
    _no_temp_files(out)
    done = list(out.glob("*.xml"))
    assert 1 <= len(done) < 60
    for p in done:
        ET.parse(p)  # every output present re-parses


@pytest.mark.slow
def test_sigterm_mid_reid_cluster_leaves_no_partial_outputs(tmp_path: Path) -> None:
    crops = tmp_path / "crops"
    F.crops(n_ids=4, per_id=6)(crops)
    out = tmp_path / "out"
    code, err = _interrupt(["reid-cluster", str(crops), "-o", str(out), "--rounds", "3", "--threads", "1"],
                           lambda p: "round" in p.read_text() or "epoch" in p.read_text(), signal.SIGTERM, tmp_path)
    assert code == 143, err
    assert "interrupted" in err and "Traceback" not in err
    if out.exists():
        _no_temp_files(out)
        assert not (out / "clusters.csv").exists() or (out / "clusters.csv").read_text().count("\n") == 25
