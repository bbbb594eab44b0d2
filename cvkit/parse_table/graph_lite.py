"""Inference with the shipped default: content boxes + rule masks -> GraphStructureNet -> Table."""

from __future__ import annotations

import numpy as np
import torch

from .features import RuleMasks, pair_features, vertex_features
from .graphnet import GraphStructureNet
from .postprocess import assemble
from .table import Table
from .words import Word, boxes_array

PAIR_CHUNK = 200_000


class GraphLiteParser:
    """Structure recogniser on content boxes (graph-lite): `parse(chunks, masks) -> Table`."""

    name = "graph-lite"

    def __init__(self, net: GraphStructureNet, threshold: float = 0.5, device: torch.device | str | None = None
                 ) -> None:
        self.device = torch.device(device or "cpu")
        self.net = net.to(self.device).eval()
        self.threshold = threshold

    @torch.inference_mode()
    def probabilities(self, chunks: list[Word], masks: RuleMasks) -> dict[str, np.ndarray]:
        """N x N probabilities of same-cell, same-row and same-column for every pair of chunks."""
        n = len(chunks)
        probs = {r: np.eye(n, dtype=np.float32) for r in ("cell", "row", "col")}
        if n < 2:
            return probs
        boxes = boxes_array(chunks)
        dev = self.device
        v = self.net.inputs(torch.from_numpy(vertex_features(boxes, masks, [c.text for c in chunks])).to(dev))
        iu, ju = np.triu_indices(n, 1)
        feats = {}
        for r, path in self.net.paths.items():
            feats[r] = path.vertices(v, v[:, 4:6])
        for s in range(0, len(iu), PAIR_CHUNK):
            i, j = iu[s:s + PAIR_CHUNK], ju[s:s + PAIR_CHUNK]
            pf = torch.from_numpy(pair_features(boxes, i, j, masks)).to(dev)
            pr = torch.from_numpy(pair_features(boxes, j, i, masks)).to(dev)
            ti, tj = torch.from_numpy(i).to(dev), torch.from_numpy(j).to(dev)
            for r, path in self.net.paths.items():
                p = torch.sigmoid(path.pairs(feats[r], ti, tj, pf, pr)).cpu().numpy()
                probs[r][i, j] = p
                probs[r][j, i] = p
        return probs

    def parse(self, chunks: list[Word], masks: RuleMasks) -> Table:
        """Cells with row/column indices and text from the chunks of one table."""
        p = self.probabilities(chunks, masks)
        return assemble(chunks, p["cell"], p["row"], p["col"], self.threshold)
