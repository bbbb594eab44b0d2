"""Classical fallback (`--model line-grid`), no learning: whitespace projections and ruling lines.

Column separators are gaps in the x-projection of the content boxes (boxes wider than 40 % of the table,
typically spanning headers, are left out of the projection) or vertical rules; row separators are gaps in
the y-projection or horizontal rules. A box covering several columns spans them. Named as a fallback: it is
not the paper's model and it cannot merge multi-line cells.
"""

from __future__ import annotations

import numpy as np

from .features import RuleMasks, text_height
from .postprocess import _cell_text, resolve_conflicts
from .table import Cell, Table
from .words import Word, boxes_array


def _gaps(lo: np.ndarray, hi: np.ndarray, start: float, stop: float, min_gap: float) -> list[float]:
    """Centres of the uncovered intervals (longer than min_gap) of [start, stop] by intervals [lo, hi]."""
    order = np.argsort(lo)
    cuts, reach = [], start
    for k in order:
        if lo[k] - reach > min_gap and reach > start:
            cuts.append((lo[k] + reach) / 2)
        reach = max(reach, hi[k])
    return cuts


class LineGridParser:
    """Whitespace/rule grid parser on content boxes."""

    name = "line-grid"

    def parse(self, chunks: list[Word], masks: RuleMasks) -> Table:
        """Cells with row/column indices from the projections of the chunks."""
        if not chunks:
            return Table([])
        b = boxes_array(chunks)
        mh = text_height(b)
        x0, x1 = float(b[:, 0].min()), float(b[:, 2].max())
        narrow = (b[:, 2] - b[:, 0]) < 0.4 * (x1 - x0) if len(b) > 3 else np.ones(len(b), bool)
        if not narrow.any():
            narrow[:] = True
        col_cuts = _gaps(b[narrow, 0], b[narrow, 2], x0, x1, 0.8 * mh)
        row_cuts = _gaps(b[:, 1], b[:, 3], float(b[:, 1].min()), float(b[:, 3].max()), -0.3 * mh)
        cols = np.searchsorted(col_cuts, b[:, [0, 2]].clip(x0, x1))
        cy = (b[:, 1] + b[:, 3]) / 2
        rows = np.searchsorted(row_cuts, cy)
        slots: dict[tuple[int, int, int], list[int]] = {}
        for k in range(len(chunks)):
            sc, ec = int(cols[k, 0]), int(cols[k, 1])
            slots.setdefault((int(rows[k]), sc, ec), []).append(k)
        cells = []
        for (r, sc, ec), ks in slots.items():
            g = [chunks[k] for k in ks]
            box = (min(c.x1 for c in g), min(c.y1 for c in g), max(c.x2 for c in g), max(c.y2 for c in g))
            cells.append(Cell(r, r, sc, ec, box, _cell_text(g), 1.0 / (1 + ec - sc)))
        return resolve_conflicts(Table(cells))
