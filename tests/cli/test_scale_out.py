"""Batch commands on Ray (`--executor ray`): the same outputs as a local run, failures collected, resumable."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.cli.helpers import cli


def write_scans(folder: Path, n: int) -> None:
    folder.mkdir(parents=True)
    for i in range(n):
        rng = np.random.default_rng(i)
        g = np.c_[rng.uniform(-30, 30, (4000, 2)), np.full(4000, -1.73), rng.uniform(0, 1, 4000)]
        g.astype(np.float32).tofile(folder / f"{i:02d}.bin")


def test_ray_missing_is_exit_5_with_the_install_line(tmp_path, monkeypatch, capsys) -> None:
    write_scans(tmp_path / "s", 2)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    code, _ = cli("segment-lidar", tmp_path / "s", "-o", tmp_path / "o", "--model", "classical", "--executor", "ray")
    assert code == 5 and "pip install 'cvkit[ray]'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_unreachable_ray_address_is_exit_5_quickly(tmp_path, capsys) -> None:
    pytest.importorskip("ray", reason="Ray is the optional extra cvkit[ray]")
    write_scans(tmp_path / "s", 2)
    start = time.time()
    code, _ = cli("segment-lidar", tmp_path / "s", "-o", tmp_path / "o", "--model", "classical", "--executor", "ray",
                  "--ray-address", "127.0.0.1:9")
    assert code == 5 and time.time() - start < 30
    assert "cannot reach the Ray cluster at 127.0.0.1:9" in capsys.readouterr().err


@pytest.mark.slow
def test_ray_batch_equals_local_collects_failures_and_resumes(tmp_path, ray_cluster) -> None:
    src = tmp_path / "scans"
    write_scans(src, 6)
    (src / "03.bin").write_bytes(b"\x00" * 10)  # not a multiple of 16 bytes: a bad scan
    local, remote = tmp_path / "local", tmp_path / "ray"
    args = ("--model", "classical", "--threads", "1", "--quiet")
    code_local, _ = cli("segment-lidar", src, "-o", local, *args)
    code_ray, _ = cli("segment-lidar", src, "-o", remote, *args, "--executor", "ray", "--workers", "2")
    assert code_local == code_ray == 6
    done = sorted(p.name for p in local.glob("*.label"))
    assert done == sorted(p.name for p in remote.glob("*.label")) and len(done) == 5 and "03.label" not in done
    for name in done:
        assert (local / name).read_bytes() == (remote / name).read_bytes()
    assert not [p for p in remote.iterdir() if p.name.startswith(".")]
    (src / "03.bin").unlink()
    before = {p.name: p.stat().st_mtime_ns for p in remote.glob("*.label")}
    code, out = cli("segment-lidar", src, "-o", remote, *args, "--executor", "ray", "--skip-existing", "--json")
    assert code == 0 and out == ""  # nothing left to do
    assert before == {p.name: p.stat().st_mtime_ns for p in remote.glob("*.label")}


@pytest.mark.slow
def test_ctrl_c_on_ray_exits_130_and_keeps_only_complete_outputs(tmp_path) -> None:
    """A whole `cvkit` process on its own local Ray cluster, interrupted once some items are written."""
    import signal
    import subprocess

    pytest.importorskip("ray", reason="Ray is the optional extra cvkit[ray]")
    src, out = tmp_path / "scans", tmp_path / "out"
    src.mkdir()
    for i in range(40):  # large enough scans that the batch is still running when it is interrupted
        rng = np.random.default_rng(i)
        pts = np.c_[rng.uniform(-30, 30, (200_000, 2)), np.full(200_000, -1.73), rng.uniform(0, 1, 200_000)]
        pts.astype(np.float32).tofile(src / f"{i:02d}.bin")
    proc = subprocess.Popen([sys.executable, "-m", "cvkit_cli.main", "segment-lidar", str(src), "-o", str(out),
                             "--model", "classical", "--threads", "1", "--executor", "ray", "--workers", "2"],
                            cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None and len(list(out.glob("*.label"))) < 2:
        time.sleep(0.05)
    assert proc.poll() is None, "the batch ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    done = list(out.glob("*.label"))
    assert 2 <= len(done) < 40
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "a temp file was left behind"
    assert all(p.stat().st_size == (src / p.with_suffix(".bin").name).stat().st_size // 4 for p in done)
