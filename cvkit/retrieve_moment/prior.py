"""The blind temporal prior (Otani et al., BMVC 2020): a smoothed 2-D histogram over (start, end) as fractions of
the video, built from a training split's annotations without looking at any video. Query-independent; it ranks
candidate windows by density and is always reported beside the model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io.atomic import write_text_atomic
from .data import Query

PRIOR_DIR = Path(__file__).resolve().parent / "priors"


@dataclass
class TemporalPrior:
    """Density table over (start/duration, end/duration) on a bins x bins grid (upper triangle used)."""

    table: np.ndarray
    name: str = "prior"
    source: str = ""

    @property
    def bins(self) -> int:
        """Grid size."""
        return self.table.shape[0]

    def density(self, windows: np.ndarray, duration: float) -> np.ndarray:
        """Prior density of each (start, end) window in seconds (bilinear on the grid)."""
        w = np.clip(np.asarray(windows, np.float64).reshape(-1, 2) / max(duration, 1e-6), 0, 1)
        g = w * (self.bins - 1)
        i0 = np.clip(np.floor(g).astype(int), 0, self.bins - 2)
        f = g - i0
        t = self.table
        a, b = i0[:, 0], i0[:, 1]
        fa, fb = f[:, 0], f[:, 1]
        return ((1 - fa) * (1 - fb) * t[a, b] + fa * (1 - fb) * t[a + 1, b] + (1 - fa) * fb * t[a, b + 1]
                + fa * fb * t[a + 1, b + 1])

    def candidates(self, duration: float, n: int = 40) -> np.ndarray:
        """All windows on an n-step grid of the video (start < end), in seconds."""
        i, j = np.triu_indices(n + 1, 1)
        return np.stack([i, j], 1) * (duration / n)

    def rank(self, duration: float, top: int = 5, nms: float = 0.5) -> list[tuple[float, float, float]]:
        """Top windows (start, end, log-density) of the prior alone."""
        from .rank import rank_windows

        c = self.candidates(duration)
        return rank_windows(c, np.log(self.density(c, duration) + 1e-9), top, nms)

    def to_json(self) -> dict:
        """Serialisable form."""
        return {"name": self.name, "source": self.source, "bins": self.bins,
                "table": np.round(self.table, 6).tolist()}

    def save(self, path: str | Path) -> None:
        """Write the prior as JSON (atomic)."""
        write_text_atomic(path, json.dumps(self.to_json()) + "\n")


def _smooth(h: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(h, sigma, mode="nearest")


def fit_prior(queries: Sequence[Query], bins: int = 21, sigma: float = 1.0, name: str = "prior",
              source: str = "") -> TemporalPrior:
    """Histogram of normalised (start, end) of annotations with known durations, Gaussian-smoothed."""
    pts = [(q.start / q.duration, q.end / q.duration) for q in queries if q.duration and q.duration > 0]
    if not pts:
        raise InputError(source or "annotations", "no annotation with a known video duration to fit a prior")
    p = np.clip(np.asarray(pts), 0, 1) * (bins - 1)
    h = np.zeros((bins, bins))
    np.add.at(h, (np.rint(p[:, 0]).astype(int), np.rint(p[:, 1]).astype(int)), 1.0)
    h = _smooth(h, sigma) + 1e-3 / bins ** 2
    return TemporalPrior(h / h.sum(), name, source)


def parametric_prior(len_mean: float, len_std: float, start_zero: float, end_one: float, bins: int = 21,
                     name: str = "prior", source: str = "") -> TemporalPrior:
    """A prior from summary statistics: normal length (fraction of the video), a share of moments starting at the
    very beginning, a share ending at the very end, the rest with uniform start."""
    g = np.linspace(0, 1, bins)
    s, e = np.meshgrid(g, g, indexing="ij")
    length = e - s
    ok = length > 0
    base = np.exp(-0.5 * ((length - len_mean) / len_std) ** 2) * ok
    at0 = base * (s <= 1.0 / (bins - 1) + 1e-9)
    at1 = base * (e >= 1 - 1.0 / (bins - 1) - 1e-9)
    h = (1 - start_zero - end_one) * base / base.sum() + start_zero * at0 / at0.sum() + end_one * at1 / at1.sum()
    h = _smooth(h, 0.6) * ok + 1e-3 / bins ** 2
    return TemporalPrior(h / h.sum(), name, source)


def load_prior(name_or_path: str) -> TemporalPrior:
    """A shipped prior by name (cvkit/retrieve_moment/priors/<name>.json) or a JSON file written by save()."""
    path = Path(name_or_path)
    if not path.is_file():
        path = PRIOR_DIR / f"{name_or_path}.json"
    if not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in PRIOR_DIR.glob("*.json")))
        raise InputError(name_or_path, f"no such prior file or shipped prior (shipped: {shipped})")
    try:
        d = json.loads(path.read_text())
        return TemporalPrior(np.asarray(d["table"], np.float64), d.get("name", path.stem), d.get("source", ""))
    except (ValueError, KeyError) as e:
        raise InputError(path, f"not a prior JSON ({e})") from None
