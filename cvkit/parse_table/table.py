"""The internal table representation: cells with a box, start/end row/column and text.

Every reader/writer converts to and from `Table`; boxes are (x1, y1, x2, y2) with y growing downward in
`coord_space` "px" (image pixels) or "pt" (PDF points, converted to a top-left origin on read).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Cell:
    """One table cell: grid slots [sr..er] x [sc..ec] (0-based, inclusive), an optional box and its text."""

    sr: int
    er: int
    sc: int
    ec: int
    bbox: tuple[float, float, float, float] | None = None
    text: str = ""
    score: float = 1.0

    @property
    def rowspan(self) -> int:
        """Number of rows the cell covers."""
        return self.er - self.sr + 1

    @property
    def colspan(self) -> int:
        """Number of columns the cell covers."""
        return self.ec - self.sc + 1

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {"sr": self.sr, "er": self.er, "sc": self.sc, "ec": self.ec,
                "bbox": None if self.bbox is None else [round(float(v), 2) for v in self.bbox],
                "text": self.text, "score": round(float(self.score), 4)}

    @classmethod
    def from_dict(cls, d: dict) -> Cell:
        """Inverse of `to_dict`."""
        bbox = d.get("bbox")
        return cls(int(d["sr"]), int(d["er"]), int(d["sc"]), int(d["ec"]),
                   None if bbox is None else tuple(float(v) for v in bbox), d.get("text", ""),
                   float(d.get("score", 1.0)))


@dataclass
class Table:
    """A table: its cells, optional region box, page (1-based) and coordinate space."""

    cells: list[Cell] = field(default_factory=list)
    bbox: tuple[float, float, float, float] | None = None
    page: int = 1
    coord_space: str = "px"
    header_rows: int = 0

    @property
    def n_rows(self) -> int:
        """Number of grid rows."""
        return max((c.er for c in self.cells), default=-1) + 1

    @property
    def n_cols(self) -> int:
        """Number of grid columns."""
        return max((c.ec for c in self.cells), default=-1) + 1

    def grid(self) -> list[list[int]]:
        """n_rows x n_cols grid of cell indices (-1 = no cell covers the slot; first cell wins a conflict)."""
        g = [[-1] * self.n_cols for _ in range(self.n_rows)]
        for i, c in enumerate(self.cells):
            for r in range(c.sr, c.er + 1):
                for k in range(c.sc, c.ec + 1):
                    if g[r][k] < 0:
                        g[r][k] = i
        return g

    def sorted_cells(self) -> list[Cell]:
        """Cells in reading order (start row, then start column)."""
        return sorted(self.cells, key=lambda c: (c.sr, c.sc))

    def to_dict(self) -> dict:
        """JSON-ready dict (the `.json` output format)."""
        return {"bbox": None if self.bbox is None else [round(float(v), 2) for v in self.bbox], "page": self.page,
                "coord_space": self.coord_space, "n_rows": self.n_rows, "n_cols": self.n_cols,
                "header_rows": self.header_rows, "cells": [c.to_dict() for c in self.sorted_cells()]}

    @classmethod
    def from_dict(cls, d: dict) -> Table:
        """Inverse of `to_dict`."""
        bbox = d.get("bbox")
        return cls([Cell.from_dict(c) for c in d.get("cells", [])],
                   None if bbox is None else tuple(float(v) for v in bbox), int(d.get("page", 1)),
                   d.get("coord_space", "px"), int(d.get("header_rows", 0)))


def fill_holes(table: Table) -> Table:
    """A copy where every grid slot not covered by a cell gets an empty 1x1 cell (what HTML/TEDS need)."""
    g = table.grid()
    cells = list(table.cells)
    for r, row in enumerate(g):
        for k, v in enumerate(row):
            if v < 0:
                cells.append(Cell(r, r, k, k, None, ""))
    return Table(cells, table.bbox, table.page, table.coord_space, table.header_rows)
