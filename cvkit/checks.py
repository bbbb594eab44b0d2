"""Environment checks behind `cvkit checks`: each returns {check, ok, detail}."""

from __future__ import annotations

import importlib.metadata as md


def _check(name: str, fn) -> dict:
    try:
        detail = fn()
        return {"check": name, "ok": True, "detail": str(detail)}
    except Exception as e:  # noqa: BLE001 - every failure is reported, none is fatal
        return {"check": name, "ok": False, "detail": f"{type(e).__name__}: {e}"}


def _torch() -> str:
    import torch

    return f"torch {torch.__version__}, {torch.get_num_threads()} threads"


def _device() -> str:
    import torch

    if torch.cuda.is_available():
        return f"cuda available: {torch.cuda.get_device_name(0)}"
    return "cpu (no CUDA device)"


def _opencv() -> str:
    import cv2

    dists = [d for d in ("opencv-python", "opencv-python-headless", "opencv-contrib-python",
                         "opencv-contrib-python-headless") if _installed(d)]
    if len(dists) > 1:
        raise RuntimeError(f"several OpenCV wheels installed ({', '.join(dists)}): keep only "
                           "opencv-contrib-python-headless")
    missing = [f for f in ("TrackerCSRT_create", "TrackerKCF_create", "TrackerMIL_create") if not hasattr(cv2, f)]
    if missing:
        raise RuntimeError(f"OpenCV {cv2.__version__} lacks {', '.join(missing)} (needs the contrib build)")
    return f"OpenCV {cv2.__version__} ({', '.join(dists) or 'unknown wheel'})"


def _installed(dist: str) -> bool:
    try:
        md.version(dist)
        return True
    except md.PackageNotFoundError:
        return False


def _backbone() -> str:
    from .nn.efficientnet_lite import load_efficientnet_lite0, weights_path

    load_efficientnet_lite0(pretrained=True)
    return f"EfficientNet-Lite0 ImageNet weights: {weights_path()}"


def _assets() -> str:
    from .assets import list_assets

    assets = list_assets()
    for a in assets:
        a.verify()
    return f"{len(assets)} shipped asset(s), sha256 verified"


def _version() -> str:
    from . import __version__

    return f"cvkit {__version__}"


def run_checks() -> list[dict]:
    """Run the core checks, then each registered task's own (from the task table); none raises."""
    from .registry import tasks

    rows = [
        _check("cvkit", _version),
        _check("torch", _torch),
        _check("device", _device),
        _check("opencv", _opencv),
        _check("backbone weights", _backbone),
        _check("assets", _assets),
    ]
    for task in tasks():
        rows += [_check(f"{task.name}: {name}", fn) for name, fn in task.checks]
    return rows
