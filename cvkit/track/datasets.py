"""Readers for the tracking benchmark layouts (OTB, GOT-10k, LaSOT, VOT) and their result files.

Every reader returns `Sequence` objects with 0-based x,y,w,h float ground truth (NaN where the target is
absent or the box invalid) so the metrics and the CLI never see a layout's quirks. Layout details follow
the benchmarks' own layouts:
* OTB: `<Seq>/img/*.jpg` + `groundtruth_rect.txt` (1-based, `,`/tab/space delimiters); numbered files
  `groundtruth_rect.K.txt` are separate targets named `<Seq>-K` (Jogging-1/-2, Skating2-1/-2, Human4-2; empty
  files skipped); frame ranges of David (300-770), Football1, Freeman3, Freeman4, Diving and Tiger1's 5 omitted
  init frames as in the OTB/pytracking configs. pysot/SiamDW JSON indexes (`OTB2015.json`) are read too.
* GOT-10k: `<split>/list.txt`, `<seq>/00000001.jpg`, `groundtruth.txt` (0-based; test split: first line only,
  the rest NaN), `absence.label`, `cover.label`, `cut_by_image.label`, `meta_info.ini` (`resolution: (W, H)`).
* LaSOT: `<class>/<class>-<n>/img/%08d.jpg`, `groundtruth.txt`, `full_occlusion.txt`, `out_of_view.txt`
  (frames with either flag are NaN in `gt`, flags kept in `extras`), `testing_set.txt` for the test split.
* VOT: `list.txt`, `<seq>/color/*.jpg` (2018+) or `<seq>/*.jpg` (2016) or `<seq>/imgs/*.jpg` (SiamFC demo
  copy), `groundtruth.txt` with 8-value polygons (kept in `polygons`, min/max box in `gt`) or 4-value rects,
  per-frame `*.tag`/`*.label` files in `extras["tags"]`, optional `<seq>_frames.txt` frame range.

Results layouts: OTB/LaSOT/folder `<out>/<tracker>/<seq>.txt`; GOT-10k `<out>/<tracker>/<seq>/<seq>_001.txt`
(+ `_time.txt`); VOT `<out>/<tracker>/baseline/<seq>/<seq>_001.txt`. OTB result files are written in the GT's
own 1-based convention (spec section 4); read them back with `one_based=True`.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..errors import ArgumentError, InputError
from ..io.boxes import number_rows, polygon_to_area_preserving, read_box_file, read_polygons
from ..io.images import IMAGE_SUFFIXES, list_images, natural_key

DATASETS = ("otb", "got10k", "lasot", "vot", "folder")
VOT_TAGS = ("camera_motion", "illum_change", "motion_change", "size_change", "occlusion")
# OTB sequences whose GT covers a frame-number range of the image folder (OTB configSeqs / got10k toolkit).
OTB_FRAME_RANGES = {"david": (300, 770), "football1": (1, 74), "freeman3": (1, 460), "freeman4": (1, 283),
                    "diving": (1, 215)}
# OTB sequences whose first frames are skipped in both images and GT ("initOmit" in pytracking's config).
OTB_INIT_OMIT = {"tiger1": 5}
_OTB_GT = re.compile(r"groundtruth_rect(?:\.?(\d+))?\.txt$", re.IGNORECASE)


@dataclass
class Sequence:
    """One benchmark sequence: ordered frames, 0-based x,y,w,h GT (NaN where absent) and layout extras."""

    name: str
    frames: list[Path]
    gt: np.ndarray | None
    polygons: np.ndarray | None = None
    layout: str = "folder"
    extras: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def init_box(self) -> tuple[float, float, float, float] | None:
        """First-frame box to start a tracker: VOT polygons use the area-preserving SiamFC/pysot box."""
        if self.polygons is not None and len(self.polygons) and np.isfinite(self.polygons[0]).all():
            return tuple(float(v) for v in polygon_to_area_preserving(self.polygons[0]))
        if self.gt is None or not len(self.gt) or not np.isfinite(self.gt[0]).all():
            return None
        return tuple(float(v) for v in self.gt[0])


# ----------------------------------------------------------------------------------------------------------
# small file helpers


def _read_flags(path: Path) -> np.ndarray:
    """Integer per-frame flags from a label file (one per line, or comma/space separated on one line)."""
    try:
        text = path.read_text(errors="replace")
    except OSError as e:
        raise InputError(path, f"cannot read ({e.strerror})") from None
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    try:
        return np.array([int(float(p)) for p in parts], dtype=np.int64)
    except ValueError:
        raise InputError(path, "expected integer flags, one per frame") from None


def _read_meta_info(path: Path) -> dict:
    """`key: value` pairs of a GOT-10k meta_info.ini; `resolution` parsed to (W, H) ints."""
    meta: dict = {}
    for line in path.read_text(errors="replace").splitlines():
        if ":" not in line or line.strip().startswith("["):
            continue
        key, value = line.split(":", 1)
        meta[key.strip()] = value.strip()
    if "resolution" in meta:
        try:
            w, h = ast.literal_eval(meta["resolution"])
            meta["resolution"] = (int(w), int(h))
        except (ValueError, SyntaxError, TypeError):
            raise InputError(path, f"unparsable resolution {meta['resolution']!r}, expected (W, H)") from None
    return meta


def _fit_length(gt: np.ndarray, n: int) -> np.ndarray:
    """GT cut or NaN-padded to `n` rows (GOT-10k test GT holds only the first frame)."""
    if len(gt) >= n:
        return gt[:n]
    return np.concatenate([gt, np.full((n - len(gt), gt.shape[1]), np.nan)])


def _frame_number(path: Path) -> int | None:
    """Integer frame number in an image file name (`0247.jpg` -> 247), or None."""
    digits = re.findall(r"\d+", path.stem)
    return int(digits[-1]) if digits else None


def _has_images(folder: Path) -> bool:
    """Whether `folder` is a directory holding at least one image file."""
    return folder.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir())


def _require_images(folder: Path) -> list[Path]:
    """Images of a sequence folder, or InputError naming the folder."""
    if not folder.is_dir():
        raise InputError(folder, "image folder not found")
    frames = list_images(folder)
    if not frames:
        raise InputError(folder, "no image files")
    return frames


def image_size(path: Path) -> tuple[int, int]:
    """(W, H) of an image file, for the image bound used by GOT-10k/VOT overlaps."""
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise InputError(path, "not a readable image (needed for the image size)")
    return int(img.shape[1]), int(img.shape[0])


def sequence_resolution(seq: Sequence) -> tuple[int, int] | None:
    """(W, H) of a sequence: meta_info.ini's resolution when known, else the first frame's size."""
    if "resolution" in seq.extras:
        return tuple(seq.extras["resolution"])
    if seq.frames and Path(seq.frames[0]).is_file():
        seq.extras["resolution"] = image_size(seq.frames[0])
        return seq.extras["resolution"]
    return None


# ----------------------------------------------------------------------------------------------------------
# OTB


def _otb_gt_files(seq_dir: Path) -> list[tuple[str | None, Path]]:
    """Non-empty OTB GT files of a sequence folder as (target number or None, path)."""
    out = []
    for p in sorted(seq_dir.iterdir(), key=natural_key):
        m = _OTB_GT.fullmatch(p.name)
        if m and p.is_file() and p.read_text(errors="replace").strip():
            out.append((m.group(1), p))
    return out


def _otb_select_frames(name: str, frames: list[Path]) -> list[Path]:
    """Apply the OTB frame-range table (by frame number in the file name) to an image listing."""
    rng = OTB_FRAME_RANGES.get(name.lower())
    if rng is None:
        return frames
    nums = [_frame_number(f) for f in frames]
    if any(n is None for n in nums):
        return frames[rng[0] - 1:rng[1]]
    return [f for f, n in zip(frames, nums, strict=True) if rng[0] <= n <= rng[1]]


def read_otb_sequence(seq_dir: Path) -> list[Sequence]:
    """All targets of an OTB sequence folder (`img/` + `groundtruth_rect*.txt`), GT converted to 0-based."""
    seq_dir = Path(seq_dir)
    files = _otb_gt_files(seq_dir)
    if not files:
        raise InputError(seq_dir / "groundtruth_rect.txt", "missing or empty OTB ground-truth file")
    all_frames = _otb_select_frames(seq_dir.name, _require_images(seq_dir / "img"))
    out = []
    for target, path in files:
        gt = read_box_file(path, one_based=True)
        frames = list(all_frames)
        omit = OTB_INIT_OMIT.get(seq_dir.name.lower(), 0)
        if omit and len(gt) == len(frames):
            gt, frames = gt[omit:], frames[omit:]
        extras: dict = {"path": seq_dir, "gt_file": path, "one_based": True}
        if len(gt) != len(frames):
            extras["length_mismatch"] = (len(frames), len(gt))
            n = min(len(gt), len(frames))
            gt, frames = gt[:n], frames[:n]
        gt = np.where(_valid_rows(gt)[:, None], gt, np.nan)
        name = f"{seq_dir.name}-{target}" if target is not None else seq_dir.name
        out.append(Sequence(name, frames, gt, None, "otb", extras))
    return out


def _valid_rows(gt: np.ndarray) -> np.ndarray:
    """Rows that are finite with positive width and height."""
    return np.isfinite(gt).all(1) & (gt[:, 2] > 0) & (gt[:, 3] > 0)


def read_otb_json(json_path: Path, root: Path | None = None) -> list[Sequence]:
    """Sequences of a pysot/SiamDW OTB JSON index (`{seq: {img_names|image_files, gt_rect, ...}}`, 1-based GT)."""
    json_path = Path(json_path)
    root = json_path.parent if root is None else Path(root)
    try:
        data = json.loads(json_path.read_text())
    except (OSError, ValueError) as e:
        raise InputError(json_path, f"not a readable JSON index ({e})") from None
    if not isinstance(data, dict):
        raise InputError(json_path, "expected an object {sequence: {...}}")
    out = []
    for key, info in data.items():
        if not isinstance(info, dict) or "gt_rect" not in info:
            raise InputError(json_path, f"sequence {key!r}: missing gt_rect")
        name = str(info.get("name", key))
        video_dir = str(info.get("video_dir", key))
        names = info.get("img_names") or info.get("image_files") or []
        rows = [r if isinstance(r, list) and len(r) == 4 else [np.nan] * 4 for r in info["gt_rect"]]
        gt = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
        gt[:, :2] -= 1.0
        gt = np.where(_valid_rows(gt)[:, None], gt, np.nan)
        frames = _resolve_json_images(root, video_dir, names)
        out.append(Sequence(name, frames, gt, None, "otb",
                            {"path": root / video_dir, "one_based": True, "attr": info.get("attr", [])}))
    return out


def _resolve_json_images(root: Path, video_dir: str, names: list[str]) -> list[Path]:
    """Image paths of a JSON index: relative to the root (pysot) or to `<root>/<seq>/img` (SiamDW)."""
    if not names:
        return []
    bases = [root, root / video_dir, root / video_dir / "img"]
    base = next((b for b in bases if (b / names[0]).is_file()), None)
    if base is None:
        base = root if Path(names[0]).parts[0] == video_dir else root / video_dir / "img"
    return [base / n for n in names]


# ----------------------------------------------------------------------------------------------------------
# GOT-10k, LaSOT, VOT


def read_got10k_sequence(seq_dir: Path) -> Sequence:
    """A GOT-10k sequence folder: images, GT (NaN-padded on the test split), labels and meta_info."""
    seq_dir = Path(seq_dir)
    frames = _require_images(seq_dir)
    gt = _fit_length(read_box_file(seq_dir / "groundtruth.txt"), len(frames))
    extras: dict = {"path": seq_dir}
    for label in ("absence", "cover", "cut_by_image"):
        p = seq_dir / f"{label}.label"
        if p.is_file():
            extras[label] = _fit_flags(_read_flags(p), len(frames), p)
    meta = seq_dir / "meta_info.ini"
    if meta.is_file():
        info = _read_meta_info(meta)
        extras["meta"] = info
        if "resolution" in info:
            extras["resolution"] = info["resolution"]
    invalid = ~_valid_rows(gt)
    if "absence" in extras:
        invalid |= extras["absence"] == 1
    gt = np.where(invalid[:, None], np.nan, gt)
    return Sequence(seq_dir.name, frames, gt, None, "got10k", extras)


def _fit_flags(flags: np.ndarray, n: int, path: Path) -> np.ndarray:
    """Per-frame flags checked against the frame count (a short file is an error, extra values are cut)."""
    if len(flags) < n:
        raise InputError(path, f"{len(flags)} values for {n} frames")
    return flags[:n]


def read_lasot_sequence(seq_dir: Path) -> Sequence:
    """A LaSOT sequence folder: `img/`, GT, full-occlusion/out-of-view flags (absent frames NaN in `gt`)."""
    seq_dir = Path(seq_dir)
    frames = _require_images(seq_dir / "img")
    gt = read_box_file(seq_dir / "groundtruth.txt")
    extras: dict = {"path": seq_dir, "class": seq_dir.name.rsplit("-", 1)[0]}
    if len(gt) != len(frames):
        extras["length_mismatch"] = (len(frames), len(gt))
        n = min(len(gt), len(frames))
        gt, frames = gt[:n], frames[:n]
    absent = np.zeros(len(gt), dtype=bool)
    for label in ("full_occlusion", "out_of_view"):
        p = seq_dir / f"{label}.txt"
        if p.is_file():
            flags = _fit_flags(_read_flags(p), len(gt), p)
            extras[label] = flags
            absent |= flags == 1
    extras["absence"] = absent.astype(np.int64)
    nlp = seq_dir / "nlp.txt"
    if nlp.is_file():
        extras["nlp"] = nlp.read_text(errors="replace").strip()
    gt = np.where((absent | ~_valid_rows(gt))[:, None], np.nan, gt)
    return Sequence(seq_dir.name, frames, gt, None, "lasot", extras)


def _vot_image_dir(seq_dir: Path) -> Path | None:
    """Where a VOT-style sequence keeps its frames: color/, imgs/ or the folder itself."""
    for sub in ("color", "imgs"):
        if _has_images(seq_dir / sub):
            return seq_dir / sub
    return seq_dir if _has_images(seq_dir) else None


def read_vot_sequence(seq_dir: Path) -> Sequence:
    """A VOT short-term sequence: frames, polygon (or rect) GT, per-frame tags and an optional frame range."""
    seq_dir = Path(seq_dir)
    img_dir = _vot_image_dir(seq_dir)
    if img_dir is None:
        raise InputError(seq_dir, "no frames (expected color/, imgs/ or images in the folder)")
    frames = list_images(img_dir)
    gt_path = seq_dir / "groundtruth.txt"
    gt = read_box_file(gt_path)
    polygons = read_polygons(gt_path)
    extras: dict = {"path": seq_dir}
    rng_file = seq_dir / f"{seq_dir.name}_frames.txt"
    if rng_file.is_file():
        nums = _read_flags(rng_file)
        if len(nums) != 2 or nums[0] < 1 or nums[1] < nums[0]:
            raise InputError(rng_file, "expected 'first,last' 1-based frame numbers")
        frames = frames[nums[0] - 1:nums[1]]
        extras["frame_range"] = (int(nums[0]), int(nums[1]))
    if len(gt) != len(frames):
        extras["length_mismatch"] = (len(frames), len(gt))
        n = min(len(gt), len(frames))
        gt, frames = gt[:n], frames[:n]
        polygons = None if polygons is None else polygons[:n]
    tags = {}
    for tag in VOT_TAGS:
        for suffix in (".tag", ".label"):
            p = seq_dir / f"{tag}{suffix}"
            if p.is_file():
                flags = _read_flags(p)[:len(gt)]
                tags[tag] = np.concatenate([flags, np.zeros(len(gt) - len(flags), np.int64)])  # VOT: 0-padded
                break
    if tags:
        extras["tags"] = tags
    gt = np.where(_valid_rows(gt)[:, None], gt, np.nan)
    return Sequence(seq_dir.name, frames, gt, polygons, "vot", extras)


def read_folder_sequence(seq_dir: Path, gt_file: Path | None = None) -> Sequence:
    """Plain image folder (`img/` or the folder itself) with an optional 0-based `groundtruth.txt`."""
    seq_dir = Path(seq_dir)
    img_dir = seq_dir / "img" if _has_images(seq_dir / "img") else seq_dir
    frames = _require_images(img_dir)
    gt_path = gt_file or seq_dir / "groundtruth.txt"
    gt = None
    if Path(gt_path).is_file():
        gt = _fit_length(read_box_file(gt_path), len(frames))
        gt = np.where(_valid_rows(gt)[:, None], gt, np.nan)
    return Sequence(seq_dir.name, frames, gt, None, "folder", {"path": seq_dir})


# ----------------------------------------------------------------------------------------------------------
# detection and listing


def _layout_of(path: Path) -> str | None:
    """Which benchmark layout a sequence folder follows, or None."""
    if not path.is_dir():
        return None
    gt = path / "groundtruth.txt"
    if (path / "img").is_dir() and any(_OTB_GT.fullmatch(p.name) for p in path.iterdir()):
        return "otb"
    if not gt.is_file():
        return None
    if (path / "img").is_dir() and (path / "full_occlusion.txt").is_file():
        return "lasot"
    if (path / "absence.label").is_file() or (path / "meta_info.ini").is_file() \
            or path.name.lower().startswith("got-10k_"):
        return "got10k"
    if _has_images(path / "color") or _has_images(path / "imgs") or _has_images(path):
        return "vot"
    if _has_images(path / "img"):
        return "folder"
    return None


_READERS = {"got10k": read_got10k_sequence, "lasot": read_lasot_sequence, "vot": read_vot_sequence,
            "folder": read_folder_sequence}


def _read_any(path: Path, layout: str) -> list[Sequence]:
    """All sequences (targets) of one folder in a known layout."""
    if layout == "otb":
        return read_otb_sequence(path)
    return [_READERS[layout](path)]


def detect_sequence(path: Path) -> Sequence | None:
    """Read `path` if it is a single benchmark sequence folder (OTB, GOT-10k, LaSOT, VOT), else None.

    A folder with `img/` + `groundtruth.txt` in no specific layout comes back as layout "folder". For
    two-target OTB folders the first target is returned; `list_sequences` gives all of them.
    """
    path = Path(path)
    layout = _layout_of(path)
    if layout is None:
        return None
    return _read_any(path, layout)[0]


def _names_from(path: Path) -> list[str]:
    """Non-empty stripped lines of a list file."""
    return [s.strip() for s in path.read_text(errors="replace").splitlines() if s.strip()]


def _subdirs(root: Path) -> list[Path]:
    """Sub-folders of `root` in natural order."""
    return sorted((p for p in root.iterdir() if p.is_dir()), key=natural_key)


def _list_otb(root: Path, split: str | None) -> list[Sequence]:
    """OTB sequences: a JSON index (file, or `<root>/<split>.json`) or sequence folders under `root`."""
    if root.is_file() and root.suffix.lower() == ".json":
        return read_otb_json(root)
    if split:
        cands = [root / split, root / f"{split}.json"]
        cands += [p for p in root.glob("*.json") if p.stem.lower() == split.lower()]
        for c in cands:
            if c.is_file():
                return read_otb_json(c)
        raise InputError(root / f"{split}.json", "OTB JSON index for this split not found")
    if _layout_of(root) == "otb":
        return read_otb_sequence(root)
    seqs: list[Sequence] = []
    for d in _subdirs(root):
        if _layout_of(d) == "otb":
            seqs.extend(read_otb_sequence(d))
    if not seqs:
        jsons = sorted(root.glob("OTB*.json")) or sorted(root.glob("*.json"))
        if jsons:
            return read_otb_json(jsons[-1])
    return seqs


def _list_got10k(root: Path, split: str | None) -> list[Sequence]:
    """GOT-10k sequences of a split folder (`list.txt` order) or of `<root>/<split>`."""
    if split and (root / split).is_dir():
        base = root / split
    elif (root / "list.txt").is_file() or not (root / "val").is_dir():
        base = root
    else:
        base = root / "val"
    if _layout_of(base) == "got10k":
        return [read_got10k_sequence(base)]
    if (base / "list.txt").is_file():
        return [read_got10k_sequence(base / n) for n in _names_from(base / "list.txt")]
    return [read_got10k_sequence(d) for d in _subdirs(base) if _layout_of(d) == "got10k"]


def _list_lasot(root: Path, split: str | None) -> list[Sequence]:
    """LaSOT sequences under class folders (or directly under root), filtered by the split's list file."""
    if _layout_of(root) == "lasot":
        return [read_lasot_sequence(root)]
    dirs: dict[str, Path] = {}
    for d in _subdirs(root):
        if _layout_of(d) == "lasot":
            dirs[d.name] = d
        else:
            for s in _subdirs(d):
                if _layout_of(s) == "lasot":
                    dirs[s.name] = s
    names = list(dirs)
    if split:
        test = root / "testing_set.txt"
        train = root / "training_set.txt"
        if split == "test":
            if not test.is_file():
                raise InputError(test, "LaSOT test split list not found")
            names = _names_from(test)
        elif split == "train":
            names = _names_from(train) if train.is_file() else \
                [n for n in names if not test.is_file() or n not in set(_names_from(test))]
        else:
            raise ArgumentError(f"LaSOT split {split!r}: use 'train' or 'test'")
    missing = [n for n in names if n not in dirs]
    if missing:
        raise InputError(root / missing[0], "sequence listed in the split file not found")
    return [read_lasot_sequence(dirs[n]) for n in names]


def _list_vot(root: Path) -> list[Sequence]:
    """VOT sequences in `list.txt` order (or every VOT-style sub-folder)."""
    if _layout_of(root) == "vot":
        return [read_vot_sequence(root)]
    if (root / "list.txt").is_file():
        return [read_vot_sequence(root / n) for n in _names_from(root / "list.txt")]
    return [read_vot_sequence(d) for d in _subdirs(root) if _layout_of(d) == "vot"]


def _list_folder(root: Path) -> list[Sequence]:
    """Any recognised sequence folders under root (all OTB targets included), or root itself."""
    layout = _layout_of(root)
    if layout is not None:
        return _read_any(root, layout)
    seqs: list[Sequence] = []
    for d in _subdirs(root):
        lay = _layout_of(d)
        if lay is not None:
            seqs.extend(_read_any(d, lay))
    return seqs


def list_sequences(root: Path, dataset: str, split: str | None = None) -> list[Sequence]:
    """All sequences of a benchmark root in the given layout ('otb', 'got10k', 'lasot', 'vot', 'folder')."""
    root = Path(root)
    dataset = dataset.lower().replace("-", "")
    if dataset not in DATASETS:
        raise ArgumentError(f"unknown dataset {dataset!r}; use one of {', '.join(DATASETS)}")
    if not root.exists():
        raise InputError(root, "dataset root not found")
    if dataset == "otb":
        seqs = _list_otb(root, split)
    elif dataset == "got10k":
        seqs = _list_got10k(root, split)
    elif dataset == "lasot":
        seqs = _list_lasot(root, split)
    elif dataset == "vot":
        seqs = _list_vot(root)
    else:
        seqs = _list_folder(root)
    if not seqs:
        raise InputError(root, f"no {dataset} sequences found")
    return seqs


# ----------------------------------------------------------------------------------------------------------
# results


def result_path(dataset: str, out_root: Path, tracker: str, seq_name: str, repetition: int = 1) -> Path:
    """Where a benchmark's toolkit expects a tracker's result file for one sequence (and repetition)."""
    out_root = Path(out_root)
    dataset = dataset.lower().replace("-", "")
    if dataset == "got10k":
        return out_root / tracker / seq_name / f"{seq_name}_{repetition:03d}.txt"
    if dataset == "vot":
        return out_root / tracker / "baseline" / seq_name / f"{seq_name}_{repetition:03d}.txt"
    if dataset in ("otb", "lasot", "folder"):
        return out_root / tracker / f"{seq_name}.txt"
    raise ArgumentError(f"unknown dataset {dataset!r}; use one of {', '.join(DATASETS)}")


def time_path(out_root: Path, tracker: str, seq_name: str) -> Path:
    """GOT-10k per-frame timing file (`<seq>_time.txt`, one column per repetition)."""
    return Path(out_root) / tracker / seq_name / f"{seq_name}_time.txt"


def read_result(path: Path, *, one_based: bool = False) -> np.ndarray:
    """A result file as (N, 4) x,y,w,h; VOT code lines (0/1/2) become NaN rows, polygons their min/max box."""
    return read_box_file(path, one_based=one_based)


def read_vot_result(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A VOT result as (codes, polygons): codes[i] is 0/1/2 on code lines and -1 where polygons[i] is a region.

    Rectangles (4 values) become their 4-corner polygon; polygons are (N, 8), NaN on code lines.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    codes, polys = [], []
    for lineno, vals in number_rows(path):
        if len(vals) == 1:
            codes.append(int(vals[0]))
            polys.append([np.nan] * 8)
        elif len(vals) == 4:
            x, y, w, h = vals
            codes.append(-1)
            polys.append([x, y, x + w, y, x + w, y + h, x, y + h])
        elif len(vals) == 8:
            codes.append(-1)
            polys.append(vals)
        else:
            raise InputError(path, f"line {lineno}: expected a code, 4 (rect) or 8 (polygon) values")
    if not codes:
        raise InputError(path, "no lines in result file")
    return np.asarray(codes, dtype=np.int64), np.asarray(polys, dtype=np.float64)


def read_times(path: Path) -> np.ndarray:
    """All positive finite per-frame times (seconds) of a GOT-10k `_time.txt` (every repetition column)."""
    path = Path(path)
    vals = []
    for line in path.read_text(errors="replace").splitlines():
        for p in re.split(r"[,\s]+", line.strip()):
            if p:
                try:
                    vals.append(float(p))
                except ValueError:
                    raise InputError(path, "expected numbers (seconds per frame)") from None
    t = np.asarray(vals, dtype=np.float64)
    return t[np.isfinite(t) & (t > 0)]
