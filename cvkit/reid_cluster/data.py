"""Crop collections: Market-1501 / DukeMTMC-reID / plain-folder layouts, crops cut from a video with a boxes
file (PETS/CVML XML, MOT gt.txt, CSV), image loading into network batches, and the synthetic pedestrian
generator used by the training recipe of the shipped asset.

File-name conventions (identity and camera are parsed when present, used only for scoring):
Market `PPPP_cCsS_FFFFFF_NN.jpg` (PPPP = -1 junk, 0000 distractor), Duke `PPPP_cC_fFFFFFFF.jpg`. Crops cut
by `extract_crops` are named Duke-style `IIII_c1_fFFFFF.jpg` (IIII the box id, or 0000 when unknown).
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from ..errors import InputError
from ..io.atomic import atomic_path
from ..io.images import IMAGE_SUFFIXES, natural_key, read_image

MARKET_RE = re.compile(r"^(-?\d+)_c(\d+)s(\d+)_(\d+)_(\d+)")
DUKE_RE = re.compile(r"^(-?\d+)_c(\d+)_f(\d+)")
MARKET_SPLITS = ("bounding_box_train", "bounding_box_test", "query")


@dataclass(frozen=True)
class Crop:
    """One person crop: its file, and identity/camera/frame when the name carries them (else None/0/-1)."""

    path: Path
    pid: int | None = None
    camera: int = 0
    frame: int = -1


def parse_name(path: Path) -> Crop:
    """Identity, camera and frame from a Market/Duke-style file name; unknown fields stay None/0/-1."""
    name = Path(path).name
    m = MARKET_RE.match(name)
    if m:
        return Crop(Path(path), int(m.group(1)), int(m.group(2)), int(m.group(4)))
    m = DUKE_RE.match(name)
    if m:
        return Crop(Path(path), int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return Crop(Path(path))


def list_crops(root: str | Path, recursive: bool = True) -> list[Crop]:
    """The image files of a folder (recursive unless told; hidden files skipped) or of a glob pattern such as
    'cams/*/*.jpg' (`cvkit.io.batch.discover`), in natural order, with parsed labels; InputError when there are
    none."""
    from ..io.batch import discover

    if Path(root).is_file():
        raise InputError(root, "expected a folder of person crops (or a video with --boxes)")
    if not recursive and Path(root).is_dir():
        rels = [p.relative_to(root) for p in Path(root).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
        if not rels:
            raise InputError(root, "folder holds no crop image files")
        paths = [Path(root) / r for r in sorted(rels, key=lambda r: natural_key(r))]
        return [parse_name(p) for p in paths]
    items = discover(root, IMAGE_SUFFIXES, what="crop image").items
    return [parse_name(i.path) for i in sorted(items, key=lambda i: [natural_key(Path(p)) for p in i.rel.parts])]


def has_labels(crops: list[Crop]) -> bool:
    """True when every crop's name carries an identity (scores can be computed)."""
    return bool(crops) and all(c.pid is not None for c in crops)


def detect_layout(root: str | Path) -> str:
    """`market` when the Market/Duke split folders are there, else `folder`."""
    root = Path(root)
    return "market" if all((root / s).is_dir() for s in ("bounding_box_test", "query")) else "folder"


def market_split(root: str | Path, split: str) -> list[Crop]:
    """Crops of one split of a Market-1501/DukeMTMC-reID root (`bounding_box_train|bounding_box_test|query`)."""
    folder = Path(root) / split
    if not folder.is_dir():
        raise InputError(folder, f"missing split folder (a Market-1501 layout has {', '.join(MARKET_SPLITS)})")
    return list_crops(folder, recursive=False)


def load_crop(path: Path, size: tuple[int, int]) -> np.ndarray:
    """Read one crop and resize it to (H, W) as RGB uint8; InputError names an unreadable file."""
    img = read_image(path)
    if img.shape[0] < 2 or img.shape[1] < 2:
        raise InputError(path, f"image too small ({img.shape[1]}x{img.shape[0]} px)")
    h, w = size
    return cv2.cvtColor(cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB)


def read_crops(paths: list[Path], size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, list[InputError]]:
    """Every readable crop as one (K, H, W, 3) uint8 RGB array, the (N,) mask of which paths those are, and one
    InputError per unreadable file (so a run can go on without them and list them all at the end)."""
    out = np.empty((len(paths), size[0], size[1], 3), np.uint8)
    ok = np.zeros(len(paths), bool)
    bad: list[InputError] = []
    for i, p in enumerate(paths):
        try:
            out[i] = load_crop(p, size)
            ok[i] = True
        except InputError as e:
            bad.append(e)
    return out[ok], ok, bad


def unreadable(errors: list[InputError]) -> InputError:
    """One InputError (exit 3) that names every unreadable crop and why."""
    first = errors[0]
    rest = "".join(f"; {e.path}: {e.problem}" for e in errors[1:])
    more = f" ({len(errors)} unreadable crops)" if len(errors) > 1 else ""
    return InputError(first.path, f"{first.problem}{rest}{more}")


def load_crops(paths: list[Path], size: tuple[int, int]) -> np.ndarray:
    """All crops as one (N, H, W, 3) uint8 RGB array (they are small: 929 crops at 128x64 = 23 MB); an
    InputError names every unreadable file, not only the first."""
    images, _, bad = read_crops(paths, size)
    if bad:
        raise unreadable(bad)
    return images


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) uint8 RGB -> (N, 3, H, W) float in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)


# ---------------------------------------------------------------------------------------------- boxes files
@dataclass(frozen=True)
class Box:
    """One annotated or detected person box in a video frame (0-based frame, x,y,w,h pixels)."""

    frame: int
    pid: int
    x: float
    y: float
    w: float
    h: float


def read_cvml_xml(path: Path) -> list[Box]:
    """PETS/CVML XML: `<frame number><objectlist><object id><box h w xc yc>` (centre-based boxes)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise InputError(path, f"not valid XML ({e})") from None
    boxes = []
    for fr in root.iter("frame"):
        try:
            n = int(fr.get("number"))
            for obj in fr.iter("object"):
                b = obj.find("box")
                w, h = float(b.get("w")), float(b.get("h"))
                xc, yc = float(b.get("xc")), float(b.get("yc"))
                boxes.append(Box(n, int(obj.get("id")), xc - w / 2, yc - h / 2, w, h))
        except (TypeError, ValueError, AttributeError):
            raise InputError(path, f"frame {fr.get('number')!r}: malformed <object>/<box> element") from None
    if not boxes:
        raise InputError(path, "no <frame>/<object>/<box> elements (expected PETS/CVML XML)")
    return boxes


def read_box_rows(path: Path, one_based_frames: bool) -> list[Box]:
    """MOT `gt.txt`/`det.txt` (frame,id,x,y,w,h,...; 1-based frames) or a CSV with a frame,id,x,y,w,h header."""
    text = path.read_text(errors="replace").splitlines()
    boxes = []
    start = 0
    header = [t.strip().lower() for t in text[0].split(",")] if text else []
    cols = [0, 1, 2, 3, 4, 5]
    if header and all(k in header for k in ("frame", "x", "y", "w", "h")):
        cols = [header.index("frame"), header.index("id") if "id" in header else -1,
                header.index("x"), header.index("y"), header.index("w"), header.index("h")]
        start = 1
    for lineno, line in enumerate(text[start:], start + 1):
        parts = [p for p in re.split(r"[,\s]+", line.strip()) if p]
        if not parts:
            continue
        try:
            vals = [float(parts[c]) if c >= 0 else -1.0 for c in cols]
        except (ValueError, IndexError):
            raise InputError(path, f"line {lineno}: expected frame,id,x,y,w,h numbers") from None
        frame = int(vals[0]) - (1 if one_based_frames else 0)
        boxes.append(Box(frame, int(vals[1]), *vals[2:]))
    if not boxes:
        raise InputError(path, "no boxes in file")
    return boxes


def read_boxes(path: str | Path) -> list[Box]:
    """Read a boxes file by its format: .xml (PETS/CVML), MOT .txt (1-based frames) or .csv with a header."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "boxes file not found")
    if path.suffix.lower() == ".xml":
        return read_cvml_xml(path)
    if path.suffix.lower() in (".txt", ".csv"):
        return read_box_rows(path, one_based_frames=path.suffix.lower() == ".txt")
    raise InputError(path, "unknown boxes format (use PETS/CVML .xml, MOT gt.txt or .csv frame,id,x,y,w,h)")


def check_boxes_match(boxes: list[Box], n_frames: int, size: tuple[int, int], boxes_path: Path,
                      video: Path) -> None:
    """InputError when the boxes cannot belong to this video (frames past its end, boxes off the image)."""
    w, h = size
    last = max(b.frame for b in boxes)
    if min(b.frame for b in boxes) < 0:
        raise InputError(boxes_path, "negative frame number")
    if n_frames and last >= n_frames:
        raise InputError(boxes_path, f"boxes reach frame {last} but {video.name} has {n_frames} frames "
                                     "(boxes file does not match the video)")
    inside = [b.x < w and b.y < h and b.x + b.w > 0 and b.y + b.h > 0 and b.w > 0 and b.h > 0 for b in boxes]
    if np.mean(inside) < 0.5:
        raise InputError(boxes_path, f"most boxes lie outside the {w}x{h} frames of {video.name} "
                                     "(boxes file does not match the video)")


def extract_crops(video: str | Path, boxes_path: str | Path, out_dir: str | Path, every: int = 5,
                  min_size: tuple[int, int] = (12, 30), min_inside: float = 0.7, camera: int = 1,
                  on_progress: Callable[[int, int], None] | None = None) -> list[Crop]:
    """Cut person crops from a video: every `every`-th frame, boxes >= min_size (w,h) px and >= min_inside
    inside the image, clipped to the image; written as `IIII_cC_fFFFFF.jpg` under `out_dir`."""
    from ..io.video import FrameSource

    video, boxes_path, out_dir = Path(video), Path(boxes_path), Path(out_dir)
    source = FrameSource(video)
    boxes = read_boxes(boxes_path)
    check_boxes_match(boxes, source.n_frames, source.size, boxes_path, video)
    by_frame: dict[int, list[Box]] = {}
    for b in boxes:
        if b.frame % every == 0:
            by_frame.setdefault(b.frame, []).append(b)
    out_dir.mkdir(parents=True, exist_ok=True)
    crops: list[Crop] = []
    total = max(by_frame) + 1 if by_frame else 0
    for i, frame in enumerate(source):
        if i >= total:
            break
        if on_progress:
            on_progress(i + 1, total)
        H, W = frame.shape[:2]
        for b in by_frame.get(i, []):
            x0, y0 = max(0.0, b.x), max(0.0, b.y)
            x1, y1 = min(float(W), b.x + b.w), min(float(H), b.y + b.h)
            if b.w < min_size[0] or b.h < min_size[1] or x1 <= x0 or y1 <= y0:
                continue
            if (x1 - x0) * (y1 - y0) < min_inside * b.w * b.h:
                continue
            patch = frame[int(round(y0)):int(round(y1)), int(round(x0)):int(round(x1))]
            pid = max(b.pid, 0)
            target = out_dir / f"{pid:04d}_c{camera}_f{i:05d}.jpg"
            with atomic_path(target) as tmp:
                if not cv2.imwrite(str(tmp), patch):
                    raise InputError(target, "cannot write crop")
            crops.append(Crop(target, pid, camera, i))
    if not crops:
        raise InputError(boxes_path, f"no box of {video.name} passed the size/inside filters; nothing to crop")
    return crops


# ----------------------------------------------------------------------------------------- synthetic data
def _cloth_colour(rng: np.random.Generator) -> np.ndarray:
    """Street-clothing palette: mostly dark or desaturated (black coats, jeans, beige), some saturated."""
    r = rng.random()
    if r < 0.4:
        return rng.uniform(10, 70) + rng.normal(0, 8, 3)
    if r < 0.75:
        return rng.uniform(60, 190) + rng.normal(0, 18, 3)
    return rng.uniform(0, 255, 3)


def _texture_bank(size: tuple[int, int], rng: np.random.Generator) -> list[np.ndarray]:
    """Background textures (2H x 2W float RGB): scikit-image's bundled photos when available, else noise."""
    H, W = size
    bank = []
    try:
        import skimage.data as skd

        for name in ("brick", "grass", "gravel", "coffee", "rocket", "astronaut", "chelsea", "camera"):
            img = np.asarray(getattr(skd, name)())
            img = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img[..., :3]
            bank.append(img.astype(np.float32))
    except Exception:  # noqa: BLE001 - scikit-image is optional here: fall back to procedural textures
        pass
    out = []
    for k in range(max(8, len(bank))):
        if bank:
            src = bank[k % len(bank)]
            ch, cw = int(rng.integers(H // 2, src.shape[0] // 2 + 1)), int(rng.integers(W // 2, src.shape[1] // 2 + 1))
            y, x = int(rng.integers(0, src.shape[0] - ch + 1)), int(rng.integers(0, src.shape[1] - cw + 1))
            tex = cv2.resize(src[y:y + ch, x:x + cw], (2 * W, 2 * H))
        else:
            tex = rng.uniform(40, 200, 3) + cv2.GaussianBlur(rng.normal(0, 40, (2 * H, 2 * W, 3)).astype(np.float32),
                                                              (0, 0), 4)
        out.append(tex * rng.uniform(0.75, 1.15, 3))
    return out


def synthetic_pedestrians(n_ids: int, per_id: int, size: tuple[int, int] = (128, 64), n_cameras: int = 3,
                          seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Synthetic person crops for the training recipe: (images (N,H,W,3) RGB uint8, ids, cameras).

    Each identity has a fixed look (skin, hair, clothing colours from a street palette, shirt pattern, bag);
    each camera has its own background textures (scikit-image's bundled photos) and colour cast; each image
    varies pose, scale, position, neighbouring people, low-resolution blur and noise, so that the background,
    shared by all people of a camera, is the nuisance the paper's attention removes.
    """
    rng = np.random.default_rng(seed)
    H, W = size
    looks = []
    for _ in range(n_ids):
        looks.append({
            "skin": rng.uniform([60, 40, 30], [230, 190, 160]),
            "hair": rng.uniform(0, 120, 3),
            "shirt": _cloth_colour(rng), "shirt2": _cloth_colour(rng),
            "trousers": _cloth_colour(rng), "shoes": rng.uniform(0, 90, 3),
            "pattern": int(rng.integers(0, 3)), "bag": bool(rng.random() < 0.35), "bag_col": _cloth_colour(rng),
            "width": rng.uniform(0.32, 0.46), "height": rng.uniform(0.82, 0.95),
        })
    textures = _texture_bank(size, rng)
    cameras = [([textures[int(i)] for i in rng.choice(len(textures), 3, replace=False)], rng.uniform(0.8, 1.2, 3))
               for _ in range(n_cameras)]
    images = np.empty((n_ids * per_id, H, W, 3), np.uint8)
    ids = np.repeat(np.arange(n_ids), per_id)
    cams = rng.integers(0, n_cameras, n_ids * per_id)
    for k in range(n_ids * per_id):
        look, (bgs, tint) = looks[ids[k]], cameras[cams[k]]
        bg = bgs[int(rng.integers(0, len(bgs)))]
        oy, ox = int(rng.integers(0, H + 1)), int(rng.integers(0, W + 1))
        img = bg[oy:oy + H, ox:ox + W].copy()
        if rng.random() < 0.25:  # a neighbour walking past, cut by the crop's edge
            other = looks[int(rng.integers(0, n_ids))]
            side = -1 if rng.random() < 0.5 else 1
            s = rng.uniform(0.85, 1.05)
            _draw_person(img, other, W / 2 + side * W * rng.uniform(0.55, 0.8), (H - other["height"] * H * s) / 2,
                         other["height"] * H * s, other["width"] * W * s, other["width"] * W * s * 0.28,
                         rng.uniform(-1, 1), rng)
        s = rng.uniform(0.85, 1.05)
        ph, pw = look["height"] * H * s, look["width"] * W * s
        cx, top = W / 2 + rng.normal(0, W * 0.06), (H - ph) / 2 + rng.normal(0, H * 0.03)
        _draw_person(img, look, cx, top, ph, pw, pw * 0.28, rng.uniform(-1, 1), rng)
        img = img * tint * rng.uniform(0.75, 1.25) + rng.normal(0, 5, img.shape)
        f = rng.uniform(0.35, 0.8)  # small detections upscaled to the network size
        small = cv2.resize(np.clip(img, 0, 255).astype(np.float32), (max(8, int(W * f)), max(16, int(H * f))),
                           interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (W, H), interpolation=cv2.INTER_LINEAR)
        if rng.random() < 0.5:
            img = img[:, ::-1]
        images[k] = np.clip(img, 0, 255).astype(np.uint8)
    return images, ids, cams


def _draw_person(img: np.ndarray, look: dict, cx: float, top: float, ph: float, pw: float, head_r: float,
                 stride: float, rng: np.random.Generator) -> None:
    """Paint a simple articulated pedestrian (head, hair, torso with pattern, legs, shoes, optional bag)."""
    def pt(x: float, y: float) -> tuple[int, int]:
        return int(round(x)), int(round(y))

    hy = top + head_r
    torso_top, torso_bot = hy + head_r * 0.9, top + ph * 0.55
    leg_bot = top + ph
    lw = max(2, int(pw * 0.22))
    # legs (trousers) with a walking stride, then shoes
    for side in (-1, 1):
        hip = (cx + side * pw * 0.18, torso_bot)
        foot = (cx + side * pw * 0.18 + side * stride * pw * 0.25, leg_bot - lw * 0.5)
        cv2.line(img, pt(*hip), pt(*foot), look["trousers"].tolist(), lw)
        cv2.circle(img, pt(*foot), max(1, lw // 2), look["shoes"].tolist(), -1)
    # torso
    x0, x1 = cx - pw / 2, cx + pw / 2
    poly = np.array([pt(x0 + pw * 0.08, torso_top), pt(x1 - pw * 0.08, torso_top), pt(x1, torso_bot),
                     pt(x0, torso_bot)], np.int32)
    cv2.fillPoly(img, [poly], look["shirt"].tolist())
    if look["pattern"] == 1:  # horizontal stripes
        for yy in np.arange(torso_top + 3, torso_bot, max(3.0, (torso_bot - torso_top) / 5)):
            cv2.line(img, pt(x0 + 2, yy), pt(x1 - 2, yy), look["shirt2"].tolist(), max(1, lw // 3))
    elif look["pattern"] == 2:  # logo block on the chest
        cv2.rectangle(img, pt(cx - pw * 0.18, torso_top + 4), pt(cx + pw * 0.18, torso_top + 4 + pw * 0.3),
                      look["shirt2"].tolist(), -1)
    # arms
    for side in (-1, 1):
        cv2.line(img, pt(cx + side * pw * 0.48, torso_top + 2),
                 pt(cx + side * pw * 0.5 - side * stride * pw * 0.15, torso_bot - 2), look["shirt"].tolist(),
                 max(2, lw - 2))
    # head and hair
    cv2.circle(img, pt(cx, hy), max(2, int(head_r)), look["skin"].tolist(), -1)
    cv2.ellipse(img, pt(cx, hy - head_r * 0.3), (max(2, int(head_r)), max(1, int(head_r * 0.7))), 0, 180, 360,
                look["hair"].tolist(), -1)
    if look["bag"]:
        side = 1 if rng.random() < 0.5 else -1
        bx = cx + side * pw * 0.55
        cv2.rectangle(img, pt(bx - pw * 0.15, torso_bot - pw * 0.5), pt(bx + pw * 0.15, torso_bot),
                      look["bag_col"].tolist(), -1)


def write_crop_folder(images: np.ndarray, ids: np.ndarray, cams: np.ndarray, out_dir: Path) -> list[Path]:
    """Write generated crops as Duke-style `IIII_cC_fFFFFF.jpg` files (for CLI tests and demos)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, (img, pid, cam) in enumerate(zip(images, ids, cams, strict=True)):
        p = out_dir / f"{int(pid) + 1:04d}_c{int(cam) + 1}_f{k:05d}.jpg"
        cv2.imwrite(str(p), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        paths.append(p)
    return paths


def write_label_csv(path: Path, crops: list[Crop]) -> None:
    """A crops index (file, id, camera, frame) next to extracted crops, for people and spreadsheets."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "id", "camera", "frame"])
        for c in crops:
            w.writerow([c.path.name, c.pid, c.camera, c.frame])
