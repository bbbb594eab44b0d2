"""SemanticKITTI class tables: raw id -> 19-class learning map, its inverse, names, colours and coarse groups.

Values from SemanticKITTI's `config/labels/semantic-kitti.yaml` (as used by SqueezeSegV3 and semantic-kitti-api).
"""

from __future__ import annotations

import numpy as np

CLASS_NAMES: tuple[str, ...] = (
    "unlabeled", "car", "bicycle", "motorcycle", "truck", "other-vehicle", "person", "bicyclist", "motorcyclist",
    "road", "parking", "sidewalk", "other-ground", "building", "fence", "vegetation", "trunk", "terrain", "pole",
    "traffic-sign",
)
NUM_CLASSES = len(CLASS_NAMES)  # 20 outputs, index 0 ignored
IGNORE_INDEX = 0

# raw SemanticKITTI id -> training id (learning_map of semantic-kitti.yaml)
LEARNING_MAP: dict[int, int] = {
    0: 0, 1: 0, 10: 1, 11: 2, 13: 5, 15: 3, 16: 5, 18: 4, 20: 5, 30: 6, 31: 7, 32: 8, 40: 9, 44: 10, 48: 11,
    49: 12, 50: 13, 51: 14, 52: 0, 60: 9, 70: 15, 71: 16, 72: 17, 80: 18, 81: 19, 99: 0, 252: 1, 253: 7, 254: 6,
    255: 8, 256: 5, 257: 5, 258: 4, 259: 5,
}
# training id -> raw id (learning_map_inv), used when writing `.label` predictions
LEARNING_MAP_INV: tuple[int, ...] = (0, 10, 11, 15, 18, 20, 30, 31, 32, 40, 44, 48, 49, 50, 51, 70, 71, 72, 80, 81)

# class frequencies ("content" of semantic-kitti.yaml) summed per training id; used for the loss weights
CONTENT: tuple[float, ...] = (
    0.018889854, 0.040818519, 0.000163069, 0.000387547, 0.002012205, 0.002696289, 0.000297208, 0.000052364,
    0.000019094, 0.194871744, 0.014510750, 0.140995617, 0.003960792, 0.132250200, 0.072023700, 0.263239440,
    0.006056766, 0.078786426, 0.002860064, 0.000443340,
)

# RGB colours per training id (SemanticKITTI colour map, BGR in the yaml converted to RGB)
COLORS: np.ndarray = np.array([
    (0, 0, 0), (100, 150, 245), (100, 230, 245), (30, 60, 150), (80, 30, 180), (0, 0, 255), (255, 30, 30),
    (255, 40, 200), (150, 30, 90), (255, 0, 255), (255, 150, 255), (75, 0, 75), (175, 0, 75), (255, 200, 0),
    (255, 120, 50), (0, 175, 0), (135, 60, 0), (150, 240, 80), (255, 240, 150), (255, 0, 0),
], dtype=np.uint8)

# coarse grouping used for the acceptance numbers: group name -> training ids
COARSE_GROUPS: dict[str, tuple[int, ...]] = {
    "ground": (9, 10, 11, 12, 17),
    "car": (1,),
    "other-vehicle": (2, 3, 4, 5),
    "human": (6, 7, 8),
    "building": (13,),
    "fence": (14,),
    "vegetation": (15,),
    "pole-like": (16, 18, 19),
}

_LUT = np.zeros(1 << 16, dtype=np.int64)
for _raw, _train in LEARNING_MAP.items():
    _LUT[_raw] = _train
_INV = np.asarray(LEARNING_MAP_INV, dtype=np.uint32)


def raw_to_train(raw: np.ndarray) -> np.ndarray:
    """Map `.label` values (uint32, instance in the upper 16 bits) to training ids 0..19; unknown ids -> 0."""
    return _LUT[np.asarray(raw, dtype=np.uint32) & 0xFFFF]


def train_to_raw(train: np.ndarray) -> np.ndarray:
    """Map training ids 0..19 to raw SemanticKITTI ids (uint32, instance 0) for writing `.label` files."""
    train = np.asarray(train)
    if train.size and (train.min() < 0 or train.max() >= NUM_CLASSES):
        raise ValueError(f"training ids must lie in 0..{NUM_CLASSES - 1}")
    return _INV[train]


def coarse_lut() -> np.ndarray:
    """Training id -> coarse group index (0 = ignored, then the groups in COARSE_GROUPS order)."""
    lut = np.zeros(NUM_CLASSES, dtype=np.int64)
    for g, ids in enumerate(COARSE_GROUPS.values(), start=1):
        lut[list(ids)] = g
    return lut


def class_weights(content: tuple[float, ...] = CONTENT, formula: str = "code", eps: float | None = None) -> np.ndarray:
    """Per-class CE weights: code `1/(f+eps)`, eps 0.001 (SqueezeSegV3 trainer) or paper `1/log(f+eps)` (Eq. 5).

    The paper gives no epsilon; we use ENet's 1.02, which keeps the log positive so rare classes weigh more.
    Class 0 (unlabeled) gets weight 0.
    """
    f = np.asarray(content, dtype=np.float64)
    if formula == "code":
        w = 1.0 / (f + (0.001 if eps is None else eps))
    elif formula == "paper":
        w = 1.0 / np.log(f + (1.02 if eps is None else eps))
    else:
        raise ValueError(f"unknown class-weight formula {formula!r} (use 'code' or 'paper')")
    w[IGNORE_INDEX] = 0.0
    return w.astype(np.float32)
