"""Run one pair end to end for the CLI (inputs validated first, every output written atomically after the flow
is computed, so a failure leaves no partial file), plus the batch pairs file and the side outputs: warped source,
side-by-side match picture, matches CSV, transferred keypoints CSV."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..errors import ArgumentError, InputError
from ..io.atomic import atomic_path, check_not_input
from ..io.batch import Inputs, Item
from ..io.images import read_image
from .flo import write_flow
from .metrics import sample_flow
from .predict import SemanticFlow

FLOW_SUFFIXES = (".flo", ".npy")


@dataclass
class Outputs:
    """Where to write what for one pair (None = not requested)."""

    flow: Path | None = None
    warp: Path | None = None
    viz: Path | None = None
    matches: Path | None = None
    keypoints_out: Path | None = None
    extra: dict = field(default_factory=dict)

    def paths(self) -> list[Path]:
        """The requested output paths."""
        return [p for p in (self.flow, self.warp, self.viz, self.matches, self.keypoints_out) if p is not None]


def check_outputs(out: Outputs, inputs: list[Path]) -> None:
    """Argument checks before any work: suffixes, no output equal to an input, no two outputs alike."""
    if out.flow is not None and out.flow.suffix.lower() not in FLOW_SUFFIXES:
        raise ArgumentError(f"{out.flow}: flow output must end in .flo or .npy")
    for p in (out.warp, out.viz):
        if p is not None and p.suffix.lower() not in (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"):
            raise ArgumentError(f"{p}: image output must end in .png, .jpg, .bmp or .tif")
    paths = out.paths()
    for p in paths:
        check_not_input(p, inputs)
    if len({p.resolve() for p in paths}) != len(paths):
        raise ArgumentError("two outputs point to the same file")


def read_keypoints(path: Path, image_hw: tuple[int, int]) -> np.ndarray:
    """CSV of source keypoints `x,y` (a header line and a leading label column are allowed) -> (N, 2); every point
    must lie inside the source image (InputError naming the file otherwise)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    pts = []
    try:
        rows = list(csv.reader(io.StringIO(path.read_text())))
    except UnicodeDecodeError:
        raise InputError(path, "not a text CSV file") from None
    for n, row in enumerate(rows, 1):
        row = [c.strip() for c in row if c.strip()]
        if not row:
            continue
        try:
            x, y = float(row[-2]), float(row[-1])
        except (ValueError, IndexError):
            if n == 1:
                continue  # header
            raise InputError(path, f"line {n}: expected x,y numbers, got {','.join(row)!r}") from None
        if not (np.isfinite(x) and np.isfinite(y)):
            raise InputError(path, f"line {n}: non-finite coordinate")
        if not (0 <= x <= image_hw[1] - 1 and 0 <= y <= image_hw[0] - 1):
            raise InputError(path, f"line {n}: point ({x:g}, {y:g}) is outside the source image "
                                   f"({image_hw[1]}x{image_hw[0]})")
        pts.append((x, y))
    if not pts:
        raise InputError(path, "no keypoints")
    return np.asarray(pts, dtype=np.float64)


def read_pairs(path: Path) -> list[tuple[Path, Path]]:
    """Pairs CSV `source,target` (optional header; relative paths are relative to the CSV's folder). Every row is
    checked (two columns, both files exist) before anything runs."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        rows = list(csv.reader(io.StringIO(path.read_text())))
    except UnicodeDecodeError:
        raise InputError(path, "not a text CSV file") from None
    pairs = []
    for n, row in enumerate(rows, 1):
        row = [c.strip() for c in row]
        if not any(row):
            continue
        if n == 1 and [c.lower() for c in row[:2]] == ["source", "target"]:
            continue
        if len(row) < 2 or not row[0] or not row[1]:
            raise InputError(path, f"line {n}: expected 'source,target', got {','.join(row)!r}")
        a, b = (Path(c) if Path(c).is_absolute() else path.parent / c for c in row[:2])
        for p in (a, b):
            if not p.is_file():
                raise InputError(path, f"line {n}: image {p} not found")
        pairs.append((a, b))
    if not pairs:
        raise InputError(path, "no pairs")
    return pairs


def warp_source(src: np.ndarray, back_flow: np.ndarray) -> np.ndarray:
    """The source warped into the target frame, given the target -> source flow (backward warping)."""
    h, w = back_flow.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return cv2.remap(src, xs + back_flow[..., 0], ys + back_flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT)


def match_picture(src: np.ndarray, tgt: np.ndarray, flow: np.ndarray, conf: np.ndarray | None,
                  lines: int = 150, seed: int = 0) -> np.ndarray:
    """Source and target side by side (same height) with sampled flow lines coloured by confidence (turbo map:
    blue low, red high)."""
    hs, ws = src.shape[:2]
    ht, wt = tgt.shape[:2]
    s = 480 / max(hs, ht)
    a = cv2.resize(src, (max(1, round(ws * s)), max(1, round(hs * s))))
    b = cv2.resize(tgt, (max(1, round(wt * s)), max(1, round(ht * s))))
    canvas = np.zeros((max(a.shape[0], b.shape[0]), a.shape[1] + b.shape[1], 3), np.uint8)
    canvas[:a.shape[0], :a.shape[1]] = a
    canvas[:b.shape[0], a.shape[1]:] = b
    rng = np.random.default_rng(seed)
    pts = np.c_[rng.uniform(0, ws - 1, lines), rng.uniform(0, hs - 1, lines)]
    dst = sample_flow(flow, pts)
    c = np.ones(lines) if conf is None else conf[pts[:, 1].astype(int), pts[:, 0].astype(int)]
    colours = cv2.applyColorMap(np.clip(c * 255, 0, 255).astype(np.uint8)[:, None], cv2.COLORMAP_TURBO)[:, 0]
    for p, q, col in zip(pts, dst, colours, strict=True):
        p1 = (int(p[0] * s), int(p[1] * s))
        p2 = (int(q[0] * s) + a.shape[1], int(q[1] * s))
        cv2.line(canvas, p1, p2, tuple(int(v) for v in col), 1, cv2.LINE_AA)
        cv2.circle(canvas, p1, 2, tuple(int(v) for v in col), -1)
    return canvas


def _write_image(path: Path, img: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        ok, buf = cv2.imencode(path.suffix.lower(), img)
        if not ok:
            raise ArgumentError(f"{path}: cannot encode this image format")
        tmp.write_bytes(buf.tobytes())


def _csv_text(header: list[str], rows: np.ndarray) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([f"{v:.3f}" for v in r])
    return out.getvalue()


def run_pair(sf: SemanticFlow, source: Path, target: Path, out: Outputs, keypoints: Path | None = None,
             method: str | None = None) -> dict:
    """Compute the flow source -> target and write the requested outputs. Returns a JSON-able summary (with the
    transferred keypoints CSV text under 'keypoints_csv' when keypoints were given)."""
    t0 = time.time()
    src, tgt = read_image(source), read_image(target)
    kps = read_keypoints(keypoints, src.shape[:2]) if keypoints is not None else None
    res = sf(src, tgt, method)
    products: dict[str, object] = {}
    if out.warp is not None:
        products["warp"] = warp_source(src, sf(tgt, src, method).flow)
    if out.viz is not None:
        products["viz"] = match_picture(src, tgt, res.flow, res.confidence)
    summary = {"source": str(source), "target": str(target), "source_size": [src.shape[1], src.shape[0]],
               "target_size": [tgt.shape[1], tgt.shape[0]], "model": getattr(sf, "name", ""), **res.extras}
    if kps is not None:
        moved = sample_flow(res.flow, kps)
        conf = (np.ones(len(kps)) if res.confidence is None
                else res.confidence[np.round(kps[:, 1]).astype(int), np.round(kps[:, 0]).astype(int)])
        products["kps"] = _csv_text(["x_source", "y_source", "x_target", "y_target", "confidence"],
                                    np.c_[kps, moved, conf])
        summary["keypoints"] = np.round(np.c_[kps, moved], 3).tolist()
    # all computed: now write (each atomically)
    if out.flow is not None:
        write_flow(out.flow, res.flow)
    if out.warp is not None:
        _write_image(out.warp, products["warp"])
    if out.viz is not None:
        _write_image(out.viz, products["viz"])
    if out.matches is not None:
        with atomic_path(out.matches) as tmp:
            tmp.write_text(_csv_text(["x_source", "y_source", "x_target", "y_target", "kept"], res.matches))
    if "kps" in products:
        if out.keypoints_out is not None:
            with atomic_path(out.keypoints_out) as tmp:
                tmp.write_text(products["kps"])
        else:
            summary["keypoints_csv"] = products["kps"]
    summary["outputs"] = [str(p) for p in out.paths()]
    summary["seconds"] = round(time.time() - t0, 3)
    return summary


@dataclass
class PairPlan:
    """The pairs of one `cvkit semantic-flow` run as batch items (the source image is the item), each item's
    target image and outputs; `batch` is True for a --pairs file."""

    inputs: Inputs
    partner: dict[Item, Path]
    outputs: dict[Item, Outputs]


def plan_pairs(source: Path | None, target: Path | None, pairs: Path | None, out: Outputs, fmt: str = "flo",
               keypoints: Path | None = None) -> PairPlan:
    """SOURCE TARGET with `out` (one pair), or a --pairs CSV with `out.flow` the output folder (one flow a pair,
    DIR/A__B.FMT); ArgumentError (exit 4) on a wrong combination, every output checked before any work."""
    if fmt not in ("flo", "npy"):
        raise ArgumentError(f"--format {fmt!r}: use flo or npy")
    if pairs is not None:
        if source is not None or target is not None:
            raise ArgumentError("give either SOURCE TARGET or --pairs, not both")
        if out.flow is None or out.flow.suffix.lower() in FLOW_SUFFIXES:
            raise ArgumentError("--pairs needs -o DIR (an output folder)")
        if any(p is not None for p in (out.warp, out.viz, out.matches, out.keypoints_out, keypoints)):
            raise ArgumentError("--warp/--viz/--matches/--keypoints work on a single pair")
        rows = read_pairs(pairs)
        items = [Item(a, Path(f"{a.stem}__{b.stem}.{fmt}")) for a, b in rows]
        plan = PairPlan(Inputs(items, True, pairs.parent), {it: b for it, (_, b) in zip(items, rows, strict=True)},
                        {it: Outputs(flow=out.flow / it.rel) for it in items})
    else:
        if source is None or target is None:
            raise ArgumentError("give SOURCE and TARGET images (or --pairs pairs.csv -o DIR)")
        item = Item(source, Path(source.name))
        plan = PairPlan(Inputs([item], False, source.parent), {item: target}, {item: out})
    for it in plan.inputs.items:
        check_outputs(plan.outputs[it], [it.path, plan.partner[it]] + ([keypoints] if keypoints else []))
    return plan


@dataclass
class FlowJob:
    """`cvkit semantic-flow` over a plan: the work of one pair, the files it writes, its console line; the
    keypoints CSV text of pairs without --keypoints-out is collected for stdout."""

    sf: SemanticFlow
    plan: PairPlan
    keypoints: Path | None = None
    keypoints_text: list[str] = field(default_factory=list)

    def work(self, item: Item) -> dict:
        """Match one pair and write its outputs; the JSON Lines record."""
        summary = run_pair(self.sf, item.path, self.plan.partner[item], self.plan.outputs[item], self.keypoints)
        if summary.get("keypoints_csv"):
            self.keypoints_text.append(summary.pop("keypoints_csv"))
        return summary

    def targets(self, item: Item) -> list[Path]:
        """The files written for `item`."""
        return self.plan.outputs[item].paths()

    def describe(self, item: Item, record: dict) -> str:
        """The console line of a finished pair."""
        return (f"{item.path} -> {self.plan.partner[item]}: {record.get('confident', 0)} confident matches, "
                f"{record['seconds']:.2f} s")
