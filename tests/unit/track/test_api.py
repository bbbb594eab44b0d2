"""The public API of cvkit.track: a few names, imported lazily."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest


def test_track_follows_the_square_and_starts_from_the_given_box(square_folder) -> None:
    from cvkit.track import DEFAULT_MODEL, Tracker, build_tracker, score_sequence, track

    folder, truth = square_folder
    results = track(folder, (20, 40, 24, 24), model="cv-kcf")
    assert [r.frame for r in results] == list(range(len(truth))) and results[0].box == (20, 40, 24, 24)
    scores = score_sequence(np.array([r.box for r in results]), np.array(truth, dtype=float), include_first=False)
    assert scores["mean_iou"] > 0.6
    assert isinstance(build_tracker("cv-kcf"), Tracker) and DEFAULT_MODEL == "automatch-lite"


def test_a_folder_of_items_is_refused(tmp_path) -> None:
    from cvkit.errors import ArgumentError
    from cvkit.track import track
    from tests.conftest import make_moving_square_clip

    for name in ("a.avi", "b.avi"):
        make_moving_square_clip(tmp_path / name)
    with pytest.raises(ArgumentError, match="2 items"):
        track(tmp_path, (20, 40, 24, 24))


def test_metrics_import_stays_light() -> None:
    code = ("import sys, cvkit.track.metrics; assert 'cvkit.track.registry' not in sys.modules; "
            "import cvkit.track as T; assert T.build_tracker.__module__ == 'cvkit.track.registry'")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).returncode == 0
