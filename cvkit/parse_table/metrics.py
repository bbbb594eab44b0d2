"""Table-structure metrics as defined by the benchmarks' official tools.

- TEDS / TEDS-Struct: PubTabNet's `src/metric.py` (Zhong et al.), APTED tree edit distance over the
  `<table>` element tree; `td` renames cost the normalised Levenshtein distance of the cell tokens.
- ICDAR-2013 adjacency relations (Goebel et al.): relations between neighbouring non-empty cells, blanks
  skipped, endpoints identified by their whitespace-free text; per-table and overall (micro) P/R/F1.
- cTDaR-2019 (mingzhLi/ctdar_measurement): relations identified geometrically, GT cell -> first predicted
  cell with IoU >= t, micro counts at t in {0.6, 0.7, 0.8, 0.9} and the IoU-weighted average F1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..nn.detection import box_iou as _box_iou
from .table import Table

# ---------------------------------------------------------------------------------------------- TEDS


def levenshtein(a: Sequence, b: Sequence) -> int:
    """Edit distance between two token sequences (insert/delete/substitute cost 1), bit-parallel (Hyyro 2001)."""
    if not a:
        return len(b)
    if not b:
        return len(a)
    peq: dict = {}
    for i, x in enumerate(a):
        peq[x] = peq.get(x, 0) | (1 << i)
    m = len(a)
    mask, last = (1 << m) - 1, 1 << (m - 1)
    pv, mv, score = mask, 0, m
    for y in b:
        eq = peq.get(y, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & mask)
        mh = pv & xh
        if ph & last:
            score += 1
        elif mh & last:
            score -= 1
        ph = ((ph << 1) | 1) & mask
        mh = (mh << 1) & mask
        pv = mh | (~(xv | ph) & mask)
        mv = ph & xv
    return score


def levenshtein_dp(a: Sequence, b: Sequence) -> int:
    """Reference O(len(a) * len(b)) dynamic programme (used to test the bit-parallel version)."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


class _TreeNode:
    """A node of the HTML table tree as the official TEDS builds it (tag, spans, cell tokens)."""

    __slots__ = ("tag", "colspan", "rowspan", "content", "children")

    def __init__(self, tag: str, colspan: int | None, rowspan: int | None, content: list | None) -> None:
        self.tag, self.colspan, self.rowspan, self.content = tag, colspan, rowspan, content
        self.children: list[_TreeNode] = []


def _config():
    from apted import Config

    class _TedsConfig(Config):
        def rename(self, a: _TreeNode, b: _TreeNode) -> float:
            if a.tag != b.tag or a.colspan != b.colspan or a.rowspan != b.rowspan:
                return 1.0
            if a.tag == "td" and (a.content or b.content):
                if a.content == b.content:
                    return 0.0
                return levenshtein(a.content, b.content) / max(len(a.content), len(b.content))
            return 0.0

        def children(self, node: _TreeNode) -> list:
            return node.children

    return _TedsConfig()


def _tokenize(node, out: list) -> None:
    out.append(f"<{node.tag}>")
    if node.text is not None:
        out.extend(node.text)
    for child in node:
        _tokenize(child, out)
    if node.tag != "unk":
        out.append(f"</{node.tag}>")
    if node.tag != "td" and node.tail is not None:
        out.extend(node.tail)


def _load_tree(node, structure_only: bool) -> _TreeNode:
    if node.tag == "td":
        content: list = []
        if not structure_only:
            _tokenize(node, content)
            content = content[1:-1]
        return _TreeNode("td", int(node.attrib.get("colspan", "1")), int(node.attrib.get("rowspan", "1")), content)
    new = _TreeNode(node.tag, None, None, None)
    for child in node:
        if isinstance(child.tag, str):
            new.children.append(_load_tree(child, structure_only))
    return new


def teds(pred_html: str, true_html: str, structure_only: bool = False, ignore_nodes: Iterable[str] = ()) -> float:
    """Tree-Edit-Distance-based Similarity of two HTML tables (0 for an empty or table-less input)."""
    from apted import APTED
    from lxml import etree, html

    if not pred_html or not true_html:
        return 0.0
    parser = html.HTMLParser(remove_comments=True, encoding="utf-8")
    pred = html.fromstring(pred_html, parser=parser)
    true = html.fromstring(true_html, parser=parser)
    if not (pred.xpath("body/table") and true.xpath("body/table")):
        return 0.0
    pred, true = pred.xpath("body/table")[0], true.xpath("body/table")[0]
    ignore = list(ignore_nodes)
    if ignore:
        etree.strip_tags(pred, *ignore)
        etree.strip_tags(true, *ignore)
    n_nodes = max(len(pred.xpath(".//*")), len(true.xpath(".//*")))
    tree_pred, tree_true = _load_tree(pred, structure_only), _load_tree(true, structure_only)
    dist = APTED(tree_pred, tree_true, _config()).compute_edit_distance()
    return 1.0 - float(dist) / n_nodes


# ------------------------------------------------------------------------------------ adjacency relations

HORIZONTAL, VERTICAL = "h", "v"


def normalize_text(text: str) -> str:
    """Whitespace-free cell text, the key ICDAR-2013/SciTSR use to identify a relation's endpoints."""
    return "".join(text.split())


def adjacency_relations(table: Table, all_nonempty: bool = False) -> set[tuple[int, int, str]]:
    """(cell_a, cell_b, 'h'|'v') for each non-empty cell and its next non-empty neighbour right/below.

    Blank slots and empty cells in between are skipped; a spanning cell contributes one relation per
    distinct neighbour. `all_nonempty` treats every cell as non-empty (content-free GT such as cTDaR archival).
    """
    g = table.grid()

    def nonempty(i: int) -> bool:
        return i >= 0 and (all_nonempty or bool(normalize_text(table.cells[i].text)))

    rels: set[tuple[int, int, str]] = set()
    n_rows, n_cols = table.n_rows, table.n_cols
    for r in range(n_rows):
        for c in range(n_cols):
            a = g[r][c]
            if not nonempty(a):
                continue
            for k in range(c + 1, n_cols):
                b = g[r][k]
                if b != a and nonempty(b):
                    rels.add((a, b, HORIZONTAL))
                    break
            for k in range(r + 1, n_rows):
                b = g[k][c]
                if b != a and nonempty(b):
                    rels.add((a, b, VERTICAL))
                    break
    return rels


@dataclass
class PRF:
    """Counts and the precision/recall/F1 they give (P = correct/pred, R = correct/gt)."""

    correct: int
    n_pred: int
    n_gt: int

    @property
    def precision(self) -> float:
        """correct / predicted (1 when nothing was predicted and nothing was expected)."""
        return self.correct / self.n_pred if self.n_pred else float(self.n_gt == 0)

    @property
    def recall(self) -> float:
        """correct / ground truth."""
        return self.correct / self.n_gt if self.n_gt else float(self.n_pred == 0)

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    def __add__(self, other: PRF) -> PRF:
        return PRF(self.correct + other.correct, self.n_pred + other.n_pred, self.n_gt + other.n_gt)

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1,
                "correct": self.correct, "n_pred": self.n_pred, "n_gt": self.n_gt}


def text_relations(table: Table) -> Counter:
    """Multiset of (text_a, text_b, dir) relations with whitespace-free texts."""
    return Counter((normalize_text(table.cells[a].text), normalize_text(table.cells[b].text), d)
                   for a, b, d in adjacency_relations(table))


def adjacency_prf(pred: Table, gt: Table) -> PRF:
    """ICDAR-2013 content-matched adjacency counts for one table (each GT relation matched at most once)."""
    rp, rg = text_relations(pred), text_relations(gt)
    return PRF(sum((rp & rg).values()), sum(rp.values()), sum(rg.values()))


def adjacency_scores(pairs: Iterable[tuple[Table, Table]]) -> dict:
    """Per-table and overall adjacency P/R/F1: `micro` sums counts, `macro` averages per-table P/R."""
    per = [adjacency_prf(p, g) for p, g in pairs]
    total = sum(per, PRF(0, 0, 0))
    n = max(len(per), 1)
    mp = sum(x.precision for x in per) / n
    mr = sum(x.recall for x in per) / n
    return {"per_table": [x.to_dict() for x in per], "micro": total.to_dict(),
            "macro": {"precision": mp, "recall": mr, "f1": 2 * mp * mr / (mp + mr) if mp + mr else 0.0}}


# -------------------------------------------------------------------------------------------- cTDaR

CTDAR_IOUS = (0.6, 0.7, 0.8, 0.9)


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two (x1, y1, x2, y2) boxes, as a float (cvkit.nn.detection.box_iou does the work)."""
    return float(_box_iou(a, b, pairwise=False))


def ctdar_prf(pred: Table, gt: Table, iou: float, all_nonempty: bool = True) -> PRF:
    """cTDaR counts for one table pair at one IoU: GT cell -> first predicted cell with IoU >= `iou`."""
    mapping: dict[int, int] = {}
    for i, g in enumerate(gt.cells):
        if g.bbox is None:
            continue
        for j, p in enumerate(pred.cells):
            if p.bbox is not None and box_iou(g.bbox, p.bbox) >= iou:
                mapping[i] = j
                break
    rg = adjacency_relations(gt, all_nonempty=all_nonempty)
    rp = adjacency_relations(pred, all_nonempty=all_nonempty)
    correct = sum(1 for a, b, d in rg if a in mapping and b in mapping and (mapping[a], mapping[b], d) in rp)
    return PRF(correct, len(rp), len(rg))


def pair_tables(pred: Sequence[Table], gt: Sequence[Table], min_iou: float = 0.8) -> list[tuple[Table | None, Table]]:
    """Pair each GT table with the predicted table whose region IoU exceeds `min_iou` (None: unmatched)."""
    if len(pred) == 1 and len(gt) == 1 and (pred[0].bbox is None or gt[0].bbox is None):
        return [(pred[0], gt[0])]
    out: list[tuple[Table | None, Table]] = []
    used: set[int] = set()
    for g in gt:
        best = None
        for j, p in enumerate(pred):
            if j not in used and g.bbox is not None and p.bbox is not None and box_iou(g.bbox, p.bbox) > min_iou:
                best = j
                break
        if best is not None:
            used.add(best)
        out.append((pred[best] if best is not None else None, g))
    return out


def ctdar_scores(docs: Iterable[tuple[Sequence[Table], Sequence[Table]]], all_nonempty: bool = True) -> dict:
    """Micro P/R/F1 at IoU 0.6/0.7/0.8/0.9 over (pred tables, gt tables) documents and WAvg.F1."""
    docs = list(docs)
    out: dict = {}
    for t in CTDAR_IOUS:
        total = PRF(0, 0, 0)
        for pred, gt in docs:
            for p, g in pair_tables(pred, gt):
                if p is None:
                    total = total + PRF(0, 0, len(adjacency_relations(g, all_nonempty)))
                else:
                    total = total + ctdar_prf(p, g, t, all_nonempty)
        out[f"iou_{t}"] = total.to_dict()
    out["wavg_f1"] = sum(t * out[f"iou_{t}"]["f1"] for t in CTDAR_IOUS) / sum(CTDAR_IOUS)
    return out


# ------------------------------------------------------------------------------------ table detection


def _centre_in(w: Sequence[float], b: Sequence[float]) -> bool:
    cx, cy = (w[0] + w[2]) / 2, (w[1] + w[3]) / 2
    return b[0] <= cx <= b[2] and b[1] <= cy <= b[3]


def match_boxes(preds: Sequence[Sequence[float]], gts: Sequence[Sequence[float]],
                min_iou: float = 0.5) -> list[tuple[int, int, float]]:
    """One-to-one (pred, gt, IoU) matches, greedily by decreasing IoU, IoU >= min_iou."""
    cand = sorted(((box_iou(p, g), i, j) for i, p in enumerate(preds) for j, g in enumerate(gts)), reverse=True)
    used_p, used_g, out = set(), set(), []
    for v, i, j in cand:
        if v < min_iou or v <= 0:
            break
        if i not in used_p and j not in used_g:
            used_p.add(i)
            used_g.add(j)
            out.append((i, j, v))
    return out


def detection_scores(pages: Iterable[tuple[Sequence, Sequence, Sequence]], min_iou: float = 0.5) -> dict:
    """ICDAR-2013 table-detection scores over pages of (predicted boxes, GT boxes, word boxes), one coordinate frame.

    - precision / recall / F1: one-to-one matches at region IoU >= `min_iou`;
    - completeness: share of GT tables whose words (centres) all lie in one detected region;
    - purity: share of detected regions whose words all belong to one GT table (a region without words is impure).
    """
    n_pred = n_gt = tp = complete = pure = 0
    for preds, gts, words in pages:
        n_pred, n_gt = n_pred + len(preds), n_gt + len(gts)
        tp += len(match_boxes(preds, gts, min_iou))
        for g in gts:
            inside = [w for w in words if _centre_in(w, g)]
            complete += bool(inside) and any(all(_centre_in(w, p) for w in inside) for p in preds)
        for p in preds:
            inside = [w for w in words if _centre_in(w, p)]
            pure += bool(inside) and any(all(_centre_in(w, g) for w in inside) for g in gts)
    prec, rec = tp / max(n_pred, 1), tp / max(n_gt, 1)
    return {"iou": min_iou, "n_pred": n_pred, "n_gt": n_gt, "matched": tp, "precision": prec, "recall": rec,
            "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
            "completeness": complete / max(n_gt, 1), "purity": pure / max(n_pred, 1)}
