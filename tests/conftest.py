"""Shared test fixtures: paths to the real data folder and small generated inputs."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI does: no spinning threads on a busy machine

import cv2
import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

# Quality tests must hold at any thread count (float sums, and so tracking and training results, change with it):
# `make test` runs the other tests in 2 xdist processes at 1 thread, then the `quality` tests at 2 and at 1.
TEST_THREADS = int(os.environ.get("CVKIT_TEST_THREADS", "2"))
torch.set_num_threads(max(1, min(TEST_THREADS, torch.get_num_threads())))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests under tests/real/ read ../shared/data: marked `real`, and `quality` (they assert model quality)."""
    for item in items:
        if "real" in Path(str(item.fspath)).parts[-2:-1]:
            item.add_marker(pytest.mark.real)
            item.add_marker(pytest.mark.quality)


def shared_path(*parts: str) -> Path:
    """Path under ../shared/data; the calling test is skipped with a reason when it is absent."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real data not available: {p} (../shared/data is absent in a user's clone)")
    return p


def make_moving_square_clip(path: Path, n: int = 12, size: tuple[int, int] = (160, 120)) -> list[tuple]:
    """Write a small video (or image folder when `path` has no suffix) of a textured square moving right."""
    w, h = size
    rng = np.random.default_rng(0)
    patch = rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)
    bg = cv2.GaussianBlur(rng.integers(60, 200, (h, w, 3), dtype=np.uint8), (0, 0), 3)
    frames, boxes = [], []
    for i in range(n):
        f = bg.copy()
        x, y = 20 + 4 * i, 40
        f[y:y + 24, x:x + 24] = patch
        frames.append(f)
        boxes.append((x, y, 24, 24))
    if path.suffix:
        path.parent.mkdir(parents=True, exist_ok=True)
        vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (w, h))
        for f in frames:
            vw.write(f)
        vw.release()
    else:
        path.mkdir(parents=True, exist_ok=True)
        for i, f in enumerate(frames):
            cv2.imwrite(str(path / f"{i + 1:04d}.jpg"), f)
    return boxes


@pytest.fixture
def square_video(tmp_path: Path) -> tuple[Path, list[tuple]]:
    """A 12-frame MJPG .avi with its true boxes."""
    p = tmp_path / "clip.avi"
    return p, make_moving_square_clip(p)


@pytest.fixture
def square_folder(tmp_path: Path) -> tuple[Path, list[tuple]]:
    """A 12-frame JPEG folder with its true boxes."""
    p = tmp_path / "frames"
    return p, make_moving_square_clip(p)


@pytest.fixture
def one_thread():
    """Run a test on one torch thread (deterministic float sums; no oversubscription on 2 cores)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
