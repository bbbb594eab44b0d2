"""Process-level behaviour shared by every command: signals, closed pipes, unwritable outputs, --version."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
CVKIT = [sys.executable, "-m", "cvkit_cli.main"]


def street_scan(seed: int, n: int = 6000) -> np.ndarray:
    """A ground plane with a box on it (x, y, z, remission), enough for the classical pipeline."""
    rng = np.random.default_rng(seed)
    g = np.c_[rng.uniform(-30, 30, (n, 2)), np.full(n, -1.73)]
    box = np.c_[rng.uniform(8, 12, n // 8), rng.uniform(2, 4, n // 8), rng.uniform(-1.4, -0.3, n // 8)]
    pts = np.concatenate([g, box])
    return np.c_[pts, rng.uniform(0, 1, len(pts))].astype(np.float32)


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    folder = tmp_path / "scans"
    folder.mkdir()
    for i in range(40):
        street_scan(i, 60000).tofile(folder / f"{i:03d}.bin")
    return folder


def run(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*CVKIT, *args], capture_output=True, text=True, cwd=ROOT, timeout=300, **kw)


def test_version() -> None:
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("cvkit ")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signal_mid_batch_keeps_finished_items_and_leaves_no_partial_file(scans: Path, tmp_path: Path, sig) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen([*CVKIT, "segment-lidar", str(scans), "-o", str(out), "--model", "classical",
                             "--threads", "1"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while time.time() < deadline and len(list(out.glob("*.label"))) < 2:
        time.sleep(0.05)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, err
    assert "interrupted" in err and "Traceback" not in err
    done = sorted(out.glob("*.label"))
    assert 2 <= len(done) < 40
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "a temp file was left behind"
    assert all(p.stat().st_size == (scans / p.with_suffix(".bin").name).stat().st_size // 4 for p in done)


def test_closed_stdout_pipe_exits_quietly(scans: Path, tmp_path: Path) -> None:
    proc = subprocess.Popen([*CVKIT, "segment-lidar", str(scans), "-o", str(tmp_path / "out"), "--model",
                             "classical", "--json", "--quiet", "--threads", "1"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    assert json.loads(first)["points"] > 0
    proc.stdout.close()  # what `| head -1` does
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 0 and err.decode().strip() == ""


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_output_folder_names_the_users_path(scans: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        r = run("segment-lidar", str(scans / "000.bin"), "-o", str(locked / "a.label"), "--model", "classical")
    finally:
        locked.chmod(stat.S_IRWXU)
    assert r.returncode == 4 and str(locked / "a.label") in r.stderr and ".part" not in r.stderr


def test_folder_given_as_output_file_is_refused_before_work(scans: Path, tmp_path: Path) -> None:
    target = tmp_path / "already_a_folder.label"
    target.mkdir()
    r = run("segment-lidar", str(scans / "000.bin"), "-o", str(target), "--model", "classical")
    assert r.returncode == 4 and f"{target}: is a folder" in r.stderr
    assert list(target.iterdir()) == []


def test_output_folder_that_is_a_file_is_refused(scans: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "out"
    blocker.write_text("a file")
    r = run("segment-lidar", str(scans), "-o", str(blocker), "--model", "classical")
    assert r.returncode == 4 and f"{blocker}: is a file" in r.stderr and blocker.read_text() == "a file"


def test_output_where_no_file_can_be_created_names_the_users_path(scans: Path) -> None:
    target = Path("/proc/cvkit-cannot-write-here.label")  # refused even to root
    r = run("segment-lidar", str(scans / "000.bin"), "-o", str(target), "--model", "classical")
    assert r.returncode == 4 and str(target) in r.stderr and ".part" not in r.stderr, r.stderr
