"""The `prior` baseline: proposals from a start/end frequency table of training annotations (no video content).

Construction (spec 2.8): each training instance (seconds) is normalised by its video's corrected duration, clipped
to [0, 1] and counted in the 100 x 100 table cell (floor(100 s), floor(100 e)), start <= end. A cell stands for
the proposal between the bin centres [(i + 0.5) / 100, (j + 0.5) / 100] with score = its relative frequency; all
non-empty cells go through Soft-NMS (alpha 0.4, low 0.5, high 0.9) and the top 100 are kept (up to 1,000 are
computed, for THUMOS's AR@1000). The list is the
same for every video (times scale with the duration). On the ActivityNet-1.3 validation split this scores
AR@100 54.09 / AUC 43.74 against the independent figures 54.54 / 43.43 (docs/propose-actions.md lists the
other constructions tried). The table is built by `cvkit train propose-actions --model prior`; none ships.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from .postprocess import soft_nms


class PriorModel:
    """A normalised start/end frequency table and the Soft-NMS'd proposal list it implies."""

    def __init__(self, table: np.ndarray, top_k: int = 1000, alpha: float = 0.4, low: float = 0.5,
                 high: float = 0.9) -> None:
        self.table = np.asarray(table, dtype=np.float64)
        n = self.table.shape[0]
        ii, jj = np.nonzero(np.triu(self.table))
        total = self.table.sum()
        if len(ii) == 0 or total <= 0:
            raise ValueError("empty prior table: no training instances")
        segs = np.stack([(ii + 0.5) / n, (jj + 0.5) / n], axis=1)
        self.segments, self.scores = soft_nms(segs, self.table[ii, jj] / total, top_k, alpha, low, high)

    @classmethod
    def fit(cls, instances: Iterable[tuple[float, float, float]], bins: int = 100, **kw: float) -> PriorModel:
        """Build from (start, end, duration) triples in seconds."""
        arr = np.asarray(list(instances), dtype=np.float64).reshape(-1, 3)
        arr = arr[arr[:, 2] > 0]
        s = np.clip(arr[:, 0] / arr[:, 2], 0, 1)
        e = np.clip(arr[:, 1] / arr[:, 2], 0, 1)
        i = np.minimum((s * bins).astype(int), bins - 1)
        j = np.minimum((e * bins).astype(int), bins - 1)
        ok = j >= i
        table = np.zeros((bins, bins))
        np.add.at(table, (i[ok], j[ok]), 1.0)
        return cls(table, **kw)

    def propose(self, duration: float, top_k: int = 100) -> tuple[np.ndarray, np.ndarray]:
        """The top_k proposals in seconds for a video of `duration` seconds, and their scores (up to 1,000 are
        stored; Soft-NMS is greedy, so the first 100 are those of a 100-long run)."""
        segs = np.clip(self.segments[:top_k], 0, 1) * float(duration)
        return segs, self.scores[:top_k].copy()

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The table as a tensor (for a safetensors asset)."""
        return {"table": torch.from_numpy(self.table.astype(np.float32))}

    @classmethod
    def from_state_dict(cls, state: dict[str, torch.Tensor]) -> PriorModel:
        """Rebuild from `state_dict()`."""
        return cls(state["table"].double().numpy())
