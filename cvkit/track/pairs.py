"""SiamFC training pairs (template crop, search crop, label map) from synthetic clips or real-layout sequences.

`PairSampler` is the seeded, endless stream every tracker family's recipe draws from; `parse_data` reads the
`--data` spec (`synthetic`, `synthetic:digits-s+sprites`, `got10k:DIR`, `lasot:DIR`). The clips themselves come
from `synthetic.py`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .crops import crop_square, mean_colour, template_side
from .synthetic import DEFAULT_FRAMES, DEFAULT_SIZE, HELDOUT_SEED_BASE, SyntheticClip, canonical_kind, synthetic_clip


@dataclass(frozen=True)
class PairConfig:
    """SiamFC pair geometry and augmentation (defaults: our lite recipe; see PairSampler)."""

    template_size: int = 127
    search_size: int = 255
    context: float = 0.5
    max_gap: int = 50  # template and search frames at most this many frames apart (SiamFC: 100 on VID)
    shift: float = 48.0  # max |shift| of the search crop, in search-crop pixels (uniform per axis)
    scale_jitter: float = 0.05  # search crop side times exp(U(-log(1+j), log(1+j)))
    search_scale: str = "own"  # "own": crop sized from the search frame's box (SiamFC); "template": from z's
    radius: float = 16.0  # positives within this distance (search-crop pixels) of the true centre
    stride: int = 16  # response-map cell size in search-crop pixels
    response_size: int = 9
    brightness: float = 0.05  # max |log gain| of a photometric jitter on the search crop
    min_visible: float = 0.5  # synthetic frames with less of the target visible are not used
    min_side: float = 4.0  # real frames whose box is smaller than this are skipped
    # scale-aware label (off by default): positives get exp(-e^2 / (2 scale_label^2)) instead of 1, where e is
    # the search crop's |log scale error| against the size that shows the target as large as in the template
    scale_label: float = 0.0  # sigma of that decay in |log scale|; 0: binary 0/1 labels (SiamFC)
    scale_wide_frac: float = 0.0  # fraction of pairs whose search scale error is drawn from scale_wide instead
    scale_wide: tuple[float, float] = (0.05, 0.25)  # relative |scale error| range of those pairs (random sign)


@dataclass
class Pair:
    """One training pair: template crop, search crop, label map and balanced BCE weights."""

    z: np.ndarray  # (127, 127, 3) uint8 BGR
    x: np.ndarray  # (255, 255, 3) uint8 BGR
    label: np.ndarray  # (r, r) float32 0/1
    weight: np.ndarray  # (r, r) float32, positives sum to 0.5 and negatives to 0.5
    offset: tuple[float, float] = (0.0, 0.0)  # target centre minus search-crop centre, search-crop pixels
    source: str = ""
    # target boxes x1,y1,x2,y2 in template-crop / search-crop pixels (box regression heads, e.g. AutoMatch)
    z_box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    x_box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


def siamfc_label(
    offset: tuple[float, float], response_size: int, stride: float, radius: float, peak: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """SiamFC label map and balanced BCE weights for a target `offset` (px) from the search-crop centre.

    Cell (i, j) looks at displacement ((j - (r-1)/2) * stride, (i - (r-1)/2) * stride), the same mapping
    SiamFCTracker uses to read the response; cells within `radius` px of the offset are positive.
    Weights are 0.5/#pos on positives and 0.5/#neg on negatives (SiamFC's balanced logistic loss).
    `peak` < 1 gives the positives a soft target of that value (the scale-aware label, `scale_label_value`).
    """
    r = response_size
    c = (np.arange(r) - (r - 1) / 2) * stride
    dx = c[None, :] - offset[0]
    dy = c[:, None] - offset[1]
    label = (np.sqrt(dx * dx + dy * dy) <= radius).astype(np.float32)
    if not label.any():  # the centre fell between cells further than radius from all: take the nearest
        label[np.unravel_index(int(np.argmin(dx * dx + dy * dy)), label.shape)] = 1.0
    n_pos = label.sum()
    n_neg = label.size - n_pos
    weight = np.where(label > 0, 0.5 / n_pos, 0.5 / max(n_neg, 1)).astype(np.float32)
    if peak != 1.0:
        label = label * np.float32(peak)
    return label, weight


def scale_label_value(log_scale_error: float, sigma: float) -> float:
    """Positive-label value for a search crop off by `log_scale_error`: exp(-e^2 / 2 sigma^2), 1 if sigma <= 0."""
    if sigma <= 0:
        return 1.0
    return float(math.exp(-0.5 * (float(log_scale_error) / sigma) ** 2))


def search_log_scale(rng: np.random.Generator, cfg: PairConfig) -> float:
    """The search crop's log scale factor: U(+-log(1+scale_jitter)), or for a `scale_wide_frac` share of the pairs
    +-U(log(1+lo), log(1+hi)) with (lo, hi) = `scale_wide` (no extra random draw when scale_wide_frac is 0)."""
    if cfg.scale_wide_frac > 0 and rng.uniform() < cfg.scale_wide_frac:
        lo, hi = (math.log1p(v) for v in cfg.scale_wide)
        return float(rng.uniform(lo, hi)) * (1.0 if rng.uniform() < 0.5 else -1.0)
    j = math.log1p(cfg.scale_jitter)
    return float(rng.uniform(-j, j))


def make_pair(
    frame_z: np.ndarray, box_z: Sequence[float], frame_x: np.ndarray, box_x: Sequence[float],
    rng: np.random.Generator, config: PairConfig = PairConfig(), source: str = "",
) -> Pair:
    """Crop a SiamFC pair (template around box_z, shifted/scaled search window around box_x) and label it."""
    cfg = config
    xz, yz, wz, hz = (float(v) for v in box_z)
    xx, yx, wx, hx = (float(v) for v in box_x)
    s_z = template_side(wz, hz, cfg.context)
    z = crop_square(frame_z, xz + (wz - 1) / 2, yz + (hz - 1) / 2, s_z, cfg.template_size, mean_colour(frame_z))
    base = s_z if cfg.search_scale == "template" else template_side(wx, hx, cfg.context)
    s_x = base * cfg.search_size / cfg.template_size * math.exp(search_log_scale(rng, cfg))
    off = rng.uniform(-cfg.shift, cfg.shift, 2)  # where the target lands, relative to the crop centre
    k = s_x / cfg.search_size
    cx, cy = xx + (wx - 1) / 2 - off[0] * k, yx + (hx - 1) / 2 - off[1] * k
    x = crop_square(frame_x, cx, cy, s_x, cfg.search_size, mean_colour(frame_x))
    if cfg.brightness > 0:
        g = math.exp(rng.uniform(-cfg.brightness, cfg.brightness))
        x = np.clip(x.astype(np.float32) * g + 0.5, 0, 255).astype(np.uint8)
    peak = 1.0
    if cfg.scale_label > 0:  # scale error against the crop that shows the target at the template's size
        own = template_side(wx, hx, cfg.context) * cfg.search_size / cfg.template_size
        peak = scale_label_value(math.log(s_x / own), cfg.scale_label)
    label, weight = siamfc_label((float(off[0]), float(off[1])), cfg.response_size, cfg.stride, cfg.radius, peak)
    cz, cs = (cfg.template_size - 1) / 2, (cfg.search_size - 1) / 2
    kz = cfg.template_size / s_z
    z_box = (cz - wz * kz / 2, cz - hz * kz / 2, cz + wz * kz / 2, cz + hz * kz / 2)
    x_box = (cs + off[0] - wx / k / 2, cs + off[1] - hx / k / 2, cs + off[0] + wx / k / 2, cs + off[1] + hx / k / 2)
    return Pair(z, x, label, weight, (float(off[0]), float(off[1])), source,
                tuple(float(v) for v in z_box), tuple(float(v) for v in x_box))


def parse_data(data: str) -> list[tuple[str, str, float]]:
    """Parse a training-data spec into (kind, location, weight) sources.

    `synthetic` = digits-s and sprites, half each; `synthetic:digits-s+sprites`, `synthetic:sprites`,
    `digits-t`...; `got10k:DIR`, `lasot:DIR` (real layouts, train split); several joined by `,`.
    """
    out: list[tuple[str, str, float]] = []
    for part in (p.strip() for p in data.split(",") if p.strip()):
        head, _, rest = part.partition(":")
        head = head.lower()
        if head in ("got10k", "lasot"):
            if not rest:
                raise ValueError(f"data {part!r}: give the dataset root, e.g. {head}:/data/{head}")
            out.append((head, rest, 1.0))
        elif head == "synthetic":
            kinds = rest.split("+") if rest else ["digits-s", "sprites"]
            out += [(canonical_kind(k), "", 1.0 / len(kinds)) for k in kinds]
        else:
            kinds = part.split("+")
            out += [(canonical_kind(k), "", 1.0 / len(kinds)) for k in kinds]
    if not out:
        raise ValueError("empty training-data spec")
    return out


class _RealSource:
    """Frames of real-layout sequences (GOT-10k / LaSOT train split) usable for pairs."""

    def __init__(self, dataset: str, root: str, split: str = "train") -> None:
        from .datasets import list_sequences

        self.name = f"{dataset}:{root}"
        self.seqs = []
        for seq in list_sequences(root, dataset, split):
            ok = self.valid_frames(seq)
            if len(ok) >= 1:
                self.seqs.append((seq, ok))
        if not self.seqs:
            raise ValueError(f"{dataset} at {root} ({split}): no sequence with a usable annotated frame")

    @staticmethod
    def valid_frames(seq: object, min_side: float = 4.0) -> np.ndarray:
        """Indices of frames whose box is valid, present (absence != 1) and not fully covered (cover != 0)."""
        gt = np.asarray(seq.gt, dtype=np.float64)
        n = min(len(gt), len(seq.frames))
        gt = gt[:n]
        ok = np.isfinite(gt).all(1) & (gt[:, 2] >= min_side) & (gt[:, 3] >= min_side)
        extras = getattr(seq, "extras", None) or {}
        absence = extras.get("absence")
        if absence is not None:
            a = np.asarray(absence)[:n]
            ok[: len(a)] &= a != 1
        cover = extras.get("cover")
        if cover is not None:
            c = np.asarray(cover)[:n]
            ok[: len(c)] &= c != 0
        for key in ("full_occlusion", "out_of_view"):  # LaSOT flags
            flag = extras.get(key)
            if flag is not None:
                f = np.asarray(flag)[:n]
                ok[: len(f)] &= f != 1
        return np.flatnonzero(ok)

    def frames(self, rng: np.random.Generator, cfg: PairConfig
               ) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """A usable frame pair at most `max_gap` apart: (source tag, box_z, box_x, frame_z, frame_x)."""
        from ..io.images import read_image

        seq, ok = self.seqs[int(rng.integers(len(self.seqs)))]
        i = int(ok[int(rng.integers(len(ok)))])
        near = ok[np.abs(ok - i) <= cfg.max_gap]
        j = int(near[int(rng.integers(len(near)))])
        gt = np.asarray(seq.gt, dtype=np.float64)
        fz = read_image(seq.frames[i])
        fx = fz if j == i else read_image(seq.frames[j])
        return f"{self.name}/{seq.name}:{i}->{j}", gt[i], gt[j], fz, fx

    def sample(self, rng: np.random.Generator, cfg: PairConfig) -> Pair:
        source, box_z, box_x, fz, fx = self.frames(rng, cfg)
        return make_pair(fz, box_z, fx, box_x, rng, cfg, source)


class PairSampler:
    """Endless, seeded stream of SiamFC training pairs from synthetic clips and/or real-layout sequences.

    Synthetic clips use seeds drawn below HELDOUT_SEED_BASE (so evaluation clips are never trained on);
    `pairs_per_clip` pairs are drawn from each generated clip before a new one is made. Template and search
    frames are at most `config.max_gap` apart; frames where the target is mostly occluded (synthetic) or
    absent/fully covered (GOT-10k `absence`/`cover`, LaSOT occlusion/out-of-view) are skipped. The same
    seed gives the same pairs in the same order.
    """

    def __init__(
        self, data: str = "synthetic", seed: int = 0, config: PairConfig | None = None,
        clip_frames: dict[str, int] | None = None, clip_size: dict[str, tuple[int, int]] | None = None,
        pairs_per_clip: int = 2,
    ) -> None:
        self.config = config or PairConfig()
        self.rng = np.random.default_rng([0x9A125, int(seed)])
        self.sources: list[tuple[str, object]] = []
        weights = []
        for kind, where, w in parse_data(data):
            src = _RealSource(kind, where) if kind in ("got10k", "lasot") else kind
            self.sources.append((kind, src))
            weights.append(w)
        self.weights = np.asarray(weights) / np.sum(weights)
        self.clip_frames = {**DEFAULT_FRAMES, **(clip_frames or {})}
        self.clip_size = {**DEFAULT_SIZE, **(clip_size or {})}
        self.pairs_per_clip = max(int(pairs_per_clip), 1)
        self._clip: SyntheticClip | None = None
        self._clip_uses = 0

    def _synthetic_pair(self, kind: str) -> Pair:
        clip, i, j, fz, fx = self.synthetic_frames(kind)
        return make_pair(fz, clip.box(i), fx, clip.box(j), self.rng, self.config, f"{kind}#{clip.seed}:{i}->{j}")

    def synthetic_frames(self, kind: str) -> tuple[SyntheticClip, int, int, np.ndarray, np.ndarray]:
        """Template and search frame indices (both with enough of the target visible) and their renders."""
        rng, cfg = self.rng, self.config
        if self._clip is None or self._clip.kind != kind or self._clip_uses >= self.pairs_per_clip:
            self._clip = synthetic_clip(kind, int(rng.integers(0, HELDOUT_SEED_BASE)), self.clip_frames[kind],
                                        self.clip_size[kind])
            self._clip_uses = 0
        clip = self._clip
        self._clip_uses += 1
        n = clip.n_frames
        for _ in range(10):
            i = int(rng.integers(n))
            if clip.visible_fraction(i) >= cfg.min_visible:
                break
        lo, hi = max(0, i - cfg.max_gap), min(n - 1, i + cfg.max_gap)
        for _ in range(10):
            j = int(rng.integers(lo, hi + 1))
            if clip.visible_fraction(j) >= cfg.min_visible:
                break
        fz = clip.render(i)
        fx = fz if j == i else clip.render(j)
        return clip, i, j, fz, fx

    def sample(self) -> Pair:
        """The next pair."""
        s = int(self.rng.choice(len(self.sources), p=self.weights))
        kind, src = self.sources[s]
        if isinstance(src, str):
            return self._synthetic_pair(src)
        return src.sample(self.rng, self.config)

    def __iter__(self) -> Iterator[Pair]:
        while True:
            yield self.sample()

    def batch(self, n: int) -> dict[str, object]:
        """n pairs stacked as torch tensors: z (n,127,127,3) u8, x (n,255,255,3) u8, label, weight (n,r,r)."""
        import torch

        pairs = [self.sample() for _ in range(n)]
        return {
            "z": torch.from_numpy(np.stack([p.z for p in pairs])),
            "x": torch.from_numpy(np.stack([p.x for p in pairs])),
            "label": torch.from_numpy(np.stack([p.label for p in pairs])),
            "weight": torch.from_numpy(np.stack([p.weight for p in pairs])),
            "z_box": torch.tensor([p.z_box for p in pairs], dtype=torch.float32),
            "x_box": torch.tensor([p.x_box for p in pairs], dtype=torch.float32),
            "sources": [p.source for p in pairs],
        }
