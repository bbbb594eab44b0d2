"""Structure-recogniser registry: names accepted by `--model` and how to build them.

- graph-lite (default, shipped): the paper's bottom-up DGCNN on content boxes, trained on synthetic tables.
- tabstructnet: the paper's full model (Mask R-CNN TD+BU FPN cell detector + DGCNN); needs weights
  trained with `cvkit train parse-table --data scitsr:DIR|pubtabnet:DIR|icdar2013:DIR`.
- line-grid: the classical fallback (rule lines + whitespace projections), no learning.
- table-heat: not a structure model but the learned table detector (`table_detector.py`) that page detection
  uses, with the rules, on page images and scans by default (`detector="auto"` is `"combined"` there), and with
  `"learned"` or `"combined"` (`pipeline.page_tables`).
- table-rcnn: the paper's detection route for whole pages (`table_rcnn.py`: Mask R-CNN, one class "table"),
  used with `detector="rcnn"`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from ..assets import Asset, asset_from_path, load_into
from ..errors import ModelError
from ..registry import ModelInfo, looks_like_path, register_task, resolve_model

if TYPE_CHECKING:
    import torch

DEFAULT_MODEL = "graph-lite"
DETECTOR_MODEL = "table-heat"
RCNN_MODEL = "table-rcnn"
TASK = "parse-table"

MODELS: dict[str, ModelInfo] = {
    "graph-lite": ModelInfo(
        "graph-lite", "TabStruct-Net bottom-up half: DGCNN same-cell/row/column heads on PDF text chunks or OCR "
        "lines plus ruling-line evidence; trained on synthetic tables", needs_weights=True,
        train_hint="Train it with `cvkit train parse-table --data synthetic`"),
    "tabstructnet": ModelInfo(
        "tabstructnet", "TabStruct-Net (Raja et al. ECCV 2020): Mask R-CNN cell detector with TD+BU FPN, dilated "
        "RPN conv and alignment loss + P2/LSTM/DGCNN row/column adjacency; image only", needs_weights=True,
        train_hint="Train it with `cvkit train parse-table --model tabstructnet --data scitsr:DIR` (GPU advised)"),
    "table-heat": ModelInfo(
        "table-heat", "Table detector (not a structure model; with the rules, the default on page images and "
        "scans): table-ness heatmap on the frozen EfficientNet-Lite0 trunk, trained on rendered synthetic pages",
        needs_weights=True,
        train_hint="Train it with `cvkit train parse-table --model table-heat --data synthetic-pages`"),
    "table-rcnn": ModelInfo(
        "table-rcnn", "Table detector (not a structure model; --detector rcnn): TabStruct-Net's Mask R-CNN (TD+BU "
        "pyramid, dilated RPN, box and mask heads) with one class, table, on the frozen EfficientNet-Lite0 trunk; "
        "trained on rendered synthetic pages", needs_weights=True,
        train_hint="Train it with `cvkit train parse-table --model table-rcnn --data synthetic-pages`"),
    "line-grid": ModelInfo(
        "line-grid", "Classical fallback: ruling-line grid and whitespace projections on content boxes "
        "(no learning)", needs_weights=False),
}


def _pdf_and_ocr() -> str:
    """The PDF text-layer reader and the OCR engine import (rapidocr is installed with --no-deps)."""
    import importlib.metadata as md

    import pypdfium2  # noqa: F401
    from rapidocr_onnxruntime import RapidOCR  # noqa: F401

    return f"pypdfium2 {md.version('pypdfium2')}, rapidocr-onnxruntime {md.version('rapidocr-onnxruntime')}"


register_task(TASK, default_model=DEFAULT_MODEL, table=MODELS, headline_metric="adjacency-f1",
              description="table structure recognition on PDFs and page images",
              datasets=("icdar2013", "pubtabnet", "ctdar"), checks=(("pdf + ocr", _pdf_and_ocr),))


def _asset_for(model: str) -> Asset:
    """Verified weights of a registered model (cvkit.registry.resolve_model), or of a weights path whose card may
    name no architecture (taken as graph-lite)."""
    if model not in MODELS and looks_like_path(model):
        asset = asset_from_path(Path(model))
        asset.verify()
        return asset
    asset = resolve_model(TASK, model).asset
    assert asset is not None  # every model reaching here needs weights
    return asset


def build_parser(model: str = DEFAULT_MODEL, device: torch.device | str | None = None):
    """A content-box structure parser (`.parse(chunks, masks) -> Table`) by name or weights path, its network on
    `device` (default CPU; `--device`). line-grid is classical and runs on the CPU whatever the device."""
    if model in (DETECTOR_MODEL, RCNN_MODEL):
        use = "rcnn" if model == RCNN_MODEL else "learned or --detector combined"
        raise ModelError(f"{model!r} is a table detector, not a structure model: use it with --detector {use}")
    if model == "line-grid":
        from .classical import LineGridParser

        return LineGridParser()
    asset = _asset_for(model)
    arch = asset.card.get("architecture", "graph-lite" if model not in MODELS else model)
    if arch == "graph-lite":
        from .features import N_VERTEX
        from .graph_lite import GraphLiteParser
        from .graphnet import GraphStructureNet

        state = asset.state_dict()
        first = state.get("paths.cell.inp.0.weight")
        net = GraphStructureNet(**{k: v for k, v in asset.card.get("config", {}).items() if k in ("width", "k")},
                                vertex_features=int(first.shape[1]) if first is not None else N_VERTEX)
        load_into(net, state, asset.weights)
        return GraphLiteParser(net, device=device)
    if arch == "tabstructnet":
        from .tabstructnet import TabStructNet, TabStructNetParser

        net = TabStructNet(**asset.card.get("config", {}))
        load_into(net, asset.state_dict(), asset.weights)
        return TabStructNetParser(net, device=device)
    raise ModelError(f"{asset.weights}: unknown architecture {arch!r} in its card")


@functools.cache
def table_detector():
    """The shipped learned table detector (`table-heat`), loaded once per process; ModelError when missing."""
    from .table_detector import load_detector

    return load_detector(_asset_for(DETECTOR_MODEL))


@functools.cache
def table_rcnn():
    """The shipped Mask R-CNN table detector (`table-rcnn`), loaded once per process; ModelError when missing."""
    from .table_rcnn import load_table_rcnn

    return load_table_rcnn(_asset_for(RCNN_MODEL))
