"""Post-processing: relation probabilities -> cells with start/end row and column (TabStruct-Net section 3.3).

The paper gives no algorithm; ours (spec section 2.4): chunks joined by confident same-cell edges form
cells; cell-level row/column probabilities are the mean over member pairs, thresholded at 0.5; rows are the
maximal cliques of the row graph (Bron-Kerbosch with pivoting) sorted by median y-centre, columns likewise
by x-centre; a cell's start/end index is the min/max index of the cliques that contain it. Finally adjacent
rows (columns) that no two cells separate are merged (`compact_grid`): a wrapped line of a label or a header
offset from its column otherwise opens a grid line that only empty slots fill.
"""

from __future__ import annotations

import numpy as np

from .table import Cell, Table
from .words import Word


def connected_components(n: int, edges: np.ndarray) -> np.ndarray:
    """Component label per vertex of an undirected graph given as E x 2 edges (union-find)."""
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in edges:
        ra, rb = find(int(a)), find(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = [find(a) for a in range(n)]
    _, labels = np.unique(roots, return_inverse=True)
    return labels


def average_linkage(p: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Cluster labels: greedily join the clusters of the most probable links while the mean link probability
    between the two clusters stays above `threshold` (no chaining through a single wrong link)."""
    n = p.shape[0]
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    label = np.arange(n)
    iu, ju = np.nonzero(np.triu(p > threshold, 1))
    for k in np.argsort(-p[iu, ju], kind="stable"):
        a, b = label[iu[k]], label[ju[k]]
        if a == b:
            continue
        ma, mb = members[a], members[b]
        if p[np.ix_(ma, mb)].mean() <= threshold:
            continue
        keep, drop = min(a, b), max(a, b)
        members[keep] = ma + mb if keep == a else mb + ma
        label[members[drop]] = keep
        del members[drop]
    _, out = np.unique(label, return_inverse=True)
    return out


def maximal_cliques(adj: np.ndarray) -> list[list[int]]:
    """All maximal cliques of a boolean adjacency matrix (Bron-Kerbosch with pivoting, iterative)."""
    n = adj.shape[0]
    nbrs = [set(np.flatnonzero(adj[v]).tolist()) - {v} for v in range(n)]
    out: list[list[int]] = []
    stack = [(set(), set(range(n)), set())]
    while stack:
        r, p, x = stack.pop()
        if not p and not x:
            out.append(sorted(r))
            continue
        if not p:
            continue
        pivot = max(p | x, key=lambda u: len(nbrs[u] & p))
        for v in list(p - nbrs[pivot]):
            stack.append((r | {v}, p & nbrs[v], x & nbrs[v]))
            p = p - {v}
            x = x | {v}
    return out


def _indices(adj: np.ndarray, centre: np.ndarray, max_cliques: int = 20000) -> tuple[np.ndarray, np.ndarray]:
    """Start/end index per vertex from the maximal cliques of `adj`, ordered by median `centre`."""
    n = adj.shape[0]
    adj = adj.copy()
    np.fill_diagonal(adj, True)
    cliques = maximal_cliques(adj) if n <= 400 else []
    if not cliques or len(cliques) > max_cliques:  # fallback: components of the graph
        lab = connected_components(n, np.argwhere(np.triu(adj, 1)))
        cliques = [list(np.flatnonzero(lab == k)) for k in range(lab.max() + 1)]
    order = sorted(range(len(cliques)), key=lambda k: float(np.median(centre[cliques[k]])))
    start = np.full(n, 10**9)
    end = np.full(n, -1)
    for idx, k in enumerate(order):
        for v in cliques[k]:
            start[v] = min(start[v], idx)
            end[v] = max(end[v], idx)
    # compact indices so that no index is empty
    used = np.unique(np.concatenate([start, end]))
    remap = {int(u): i for i, u in enumerate(used)}
    return np.array([remap[int(s)] for s in start]), np.array([remap[int(e)] for e in end])


def _cell_text(chunks: list[Word]) -> str:
    """Chunks in reading order: lines top to bottom, then left to right."""
    cs = sorted(chunks, key=lambda c: (c.y1 + c.y2) / 2)
    lines: list[list[Word]] = []
    for c in cs:
        if lines and (c.y1 + c.y2) / 2 < max(w.y2 for w in lines[-1]) and (c.y1 + c.y2) / 2 > min(
                w.y1 for w in lines[-1]):
            lines[-1].append(c)
        else:
            lines.append([c])
    return "\n".join(" ".join(w.text for w in sorted(line, key=lambda w: w.x1)) for line in lines)


def assemble(chunks: list[Word], p_cell: np.ndarray, p_row: np.ndarray, p_col: np.ndarray,
             threshold: float = 0.5) -> Table:
    """Cells and their row/column indices from N x N relation probabilities of the chunks."""
    n = len(chunks)
    if n == 0:
        return Table([])
    # a same-cell link needs the row and column heads to agree (chunks of one cell share its rows and columns)
    p_link = np.minimum(p_cell, np.minimum(p_row, p_col))
    lab = average_linkage(p_link, threshold)
    k = int(lab.max()) + 1
    member = np.zeros((k, n), np.float32)
    member[lab, np.arange(n)] = 1.0
    cnt = member.sum(1)
    row = member @ p_row @ member.T / np.outer(cnt, cnt)
    col = member @ p_col @ member.T / np.outer(cnt, cnt)
    groups = [[chunks[i] for i in np.flatnonzero(lab == g)] for g in range(k)]
    boxes = np.array([[min(c.x1 for c in g), min(c.y1 for c in g), max(c.x2 for c in g), max(c.y2 for c in g)]
                      for g in groups], np.float32)
    sr, er = _indices(row > threshold, (boxes[:, 1] + boxes[:, 3]) / 2)
    sc, ec = _indices(col > threshold, (boxes[:, 0] + boxes[:, 2]) / 2)
    cells = [Cell(int(sr[g]), int(er[g]), int(sc[g]), int(ec[g]), tuple(float(v) for v in boxes[g]),
                  _cell_text(groups[g]), float(np.mean(np.maximum(row[g], 1 - row[g]))))
             for g in range(k)]
    return compact_grid(resolve_conflicts(Table(cells)))


def _separated(table: Table, axis: str) -> list[bool]:
    """Per boundary k|k+1 of rows (axis 'row') or columns: is there a cell ending at k and another starting at
    k+1 that either sit side by side in one column (row) or lie wholly before/after each other in the image?"""
    row = axis == "row"
    lo_ax, hi_ax = (1, 3) if row else (0, 2)
    ends: dict[int, list[Cell]] = {}
    starts: dict[int, list[Cell]] = {}
    for c in table.cells:
        ends.setdefault(c.er if row else c.ec, []).append(c)
        starts.setdefault(c.sr if row else c.sc, []).append(c)

    def across(c: Cell) -> range:  # the cell's slots along the other axis
        return range(c.sc, c.ec + 1) if row else range(c.sr, c.er + 1)

    def apart(a: Cell, b: Cell) -> bool:
        return bool(set(across(a)).intersection(across(b))) or (
            a.bbox is not None and b.bbox is not None and a.bbox[hi_ax] <= b.bbox[lo_ax])

    n = table.n_rows if row else table.n_cols
    return [any(apart(a, b) for a in ends.get(k, []) for b in starts.get(k + 1, [])) for k in range(n - 1)]


def compact_grid(table: Table) -> Table:
    """Merge each pair of adjacent rows (columns) that no two cells separate, neither side by side across the
    boundary nor wholly before/after each other in the image: such a boundary is an artefact of the clique
    ordering (a wrapped label's second line, a header offset from its column), not a grid line."""
    for axis in ("row", "col"):
        sep = _separated(table, axis)
        new = [0]
        for s in sep:
            new.append(new[-1] + int(s))
        for c in table.cells:
            if axis == "row":
                c.sr, c.er = new[c.sr], new[c.er]
            else:
                c.sc, c.ec = new[c.sc], new[c.ec]
    return table


def resolve_conflicts(table: Table) -> Table:
    """Give each grid slot to one cell: a lower-score cell claiming a taken slot shrinks to one free slot
    of its span, or, when none is free, its text joins the cell that owns its top-left slot."""
    taken: dict[tuple[int, int], Cell] = {}
    kept: list[Cell] = []
    for c in sorted(table.cells, key=lambda c: -c.score):
        slots = [(r, k) for r in range(c.sr, c.er + 1) for k in range(c.sc, c.ec + 1)]
        free = [s for s in slots if s not in taken]
        if len(free) < len(slots):
            if not free:
                owner = taken[slots[0]]
                owner.text = (owner.text + "\n" + c.text).strip()
                continue
            (c.sr, c.sc), (c.er, c.ec) = free[0], free[0]
            free = free[:1]
        for s in free:
            taken[s] = c
        kept.append(c)
    table.cells = kept
    return table
