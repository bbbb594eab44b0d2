"""Run one query on one video ("run one item"): pick the model, score candidate windows, rank them.

Models: `prior` (blind temporal prior), `concepts` (ImageNet concept bank alone), `concepts+prior`, a VLANet asset
name (`vlanet-small-synth`) or weights path, and `auto` (= concepts+prior, see docs/retrieve-moment.md for why)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import ArgumentError, InputError, ModelError
from ..io.batch import Inputs, Item
from .concepts import ConceptBank, window_contrast
from .model import VLANet, VLANetConfig
from .prior import TemporalPrior, load_prior
from .rank import rank_windows
from .text import TextEncoder, clean_query
from .visual import DEFAULT_RATE, EffNetExtractor, VideoFeatures, extract

TASK = "retrieve-moment"
BUILTIN = ("auto", "prior", "concepts", "concepts+prior")
DEFAULT_PRIOR = "charades-sta-published"
MIN_DURATION = 1.0     # shortest clip the grid-based models accept (s)
GRID = 40              # candidate windows: all spans on a 40-step grid of the video
CONCEPT_WEIGHT = 1.0   # log prior + CONCEPT_WEIGHT * concept contrast (fixed a priori, not tuned on any clip)


@dataclass
class Moment:
    """One ranked window in seconds."""

    start: float
    end: float
    score: float
    rank: int


def load_vlanet(name: str, device: str = "cpu") -> VLANet:
    """A shipped VLANet asset by name, or a weights path (card.json beside it for the config)."""
    from ..assets import load_into
    from ..registry import find_weights

    asset = find_weights(TASK, name, f"unknown model {name!r}: use one of {', '.join(BUILTIN)}, vlanet-small-synth, "
                         "or a weights path (train one with `cvkit train retrieve-moment`)")
    asset.verify()
    if "config" not in asset.card:
        raise ModelError(f"{asset.weights}: no card.json with the VLANet config beside the weights")
    model = VLANet(VLANetConfig.from_dict(asset.card["config"]))
    load_into(model, asset.state_dict(), asset.weights)
    return model.eval().to(device)


class Retriever:
    """Loads the encoders once; `features(video)` (cached) then `query(features, sentence)` many times."""

    def __init__(self, model: str = "auto", prior: str = DEFAULT_PRIOR, device: str = "cpu",
                 cache_dir: str | Path | None = None, top: int = 5, nms: float = 0.5, rate: float = DEFAULT_RATE,
                 use_prior_with_vlanet: bool = False) -> None:
        if top < 1:
            raise ArgumentError(f"--top {top}: must be at least 1")
        if not 0 <= nms <= 1:
            raise ArgumentError(f"--nms {nms}: must be in [0, 1]")
        self.model_name = "concepts+prior" if model == "auto" else model
        self.device = device
        self.cache_dir = cache_dir
        self.top, self.nms, self.rate = top, nms, rate
        self.prior: TemporalPrior = load_prior(prior)
        self.vlanet = None if self.model_name in BUILTIN else load_vlanet(self.model_name, device)
        self.use_prior_with_vlanet = use_prior_with_vlanet
        self._encoder: TextEncoder | None = None
        self._bank: ConceptBank | None = None
        self._extractor: EffNetExtractor | None = None

    @property
    def encoder(self) -> TextEncoder:
        """The sentence encoder (loaded on first use)."""
        if self._encoder is None:
            self._encoder = TextEncoder(self.device)
        return self._encoder

    @property
    def bank(self) -> ConceptBank:
        """The concept bank (embedded on first use, cached on disk)."""
        if self._bank is None:
            self._bank = ConceptBank(self.encoder, self.cache_dir)
        return self._bank

    def min_window(self) -> float:
        """Shortest window (s) of the model: a shorter clip is refused."""
        if self.vlanet is None:
            return MIN_DURATION
        return min(self.vlanet.cfg.windows) / self.vlanet.cfg.feature_rate

    def features(self, video: str | Path) -> tuple[VideoFeatures, bool]:
        """Visual features of a video (extracted once, cached by content hash); checks the clip length."""
        if self.model_name == "prior":
            vf = _duration_only(video)
            hit = False
        else:
            if self._extractor is None:
                self._extractor = EffNetExtractor(self.device)
            vf, hit = extract(video, self.rate, self.cache_dir, self._extractor)
        if vf.duration < self.min_window():
            raise InputError(video, f"clip is {vf.duration:.2f} s, shorter than the smallest window "
                                    f"({self.min_window():.2f} s) of model {self.model_name}")
        return vf, hit

    def features_into(self, video: Path, store: dict[Path, VideoFeatures]) -> dict:
        """`features(video)` kept in `store`; the batch record: duration and whether the cache answered."""
        store[video], hit = self.features(video)
        return {"duration": round(store[video].duration, 1), "cached": hit}

    def query(self, vf: VideoFeatures, sentence: str, top: int | None = None) -> list[Moment]:
        """Ranked moments for one sentence."""
        q = clean_query(sentence)
        top = top or self.top
        if self.vlanet is not None:
            return self._vlanet(vf, q, top)
        cand = self.prior.candidates(vf.duration, GRID)
        scores = np.zeros(len(cand))
        if "prior" in self.model_name:
            scores += np.log(self.prior.density(cand, vf.duration) + 1e-9)
        if "concepts" in self.model_name:
            curve = self.bank.relevance(vf.logits, q)
            scores += CONCEPT_WEIGHT * window_contrast(curve, vf.effnet_rate, cand)
        return _moments(rank_windows(cand, scores, top, self.nms))

    def _vlanet(self, vf: VideoFeatures, q: str, top: int) -> list[Moment]:
        from .train import localise, make_item

        cfg = self.vlanet.cfg
        kind = cfg.extra.get("features", "effnet")
        feats, rate = (vf.cheap, vf.rate) if kind == "cheap" else (vf.effnet, vf.effnet_rate)
        if feats.shape[1] != cfg.video_dim:
            raise ModelError(f"model expects {cfg.video_dim}-d features, the video gives {feats.shape[1]}-d")
        if abs(rate - cfg.feature_rate) > 1e-6:   # resample the feature grid to the model's rate
            idx = np.minimum((np.arange(int(vf.duration * cfg.feature_rate)) * rate / cfg.feature_rate)
                             .astype(int), len(feats) - 1)
            feats = feats[idx]
        item = make_item(feats, cfg, [q], [(0.0, 0.0)], vf.duration)
        if item is None:
            raise InputError("video", "clip shorter than the smallest window")
        tokens = self.encoder.tokens([q])[0]
        extra = (lambda spans: np.log(self.prior.density(spans, vf.duration) + 1e-9)) \
            if self.use_prior_with_vlanet else None
        with torch.inference_mode():
            return _moments(localise(self.vlanet, item, tokens, top, self.nms, extra))


def _moments(ranked: list[tuple[float, float, float]]) -> list[Moment]:
    return [Moment(round(s, 3), round(e, 3), round(sc, 5), i + 1) for i, (s, e, sc) in enumerate(ranked)]


def _duration_only(video: str | Path) -> VideoFeatures:
    """Duration and fps without decoding pixels beyond the header (the prior needs nothing else)."""
    import cv2

    path = Path(video)
    if not path.is_file():
        raise InputError(path, "file not found")
    if path.stat().st_size == 0:
        raise InputError(path, "zero-length file")
    cap = cv2.VideoCapture(str(path))
    ok = cap.isOpened() and cap.grab()
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    n = cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    cap.release()
    if not ok or n <= 0:
        raise InputError(path, "cannot decode video (corrupt, empty or unsupported format)")
    z = np.zeros((0, 0), np.float32)
    return VideoFeatures(z, z, z, float(n / fps), DEFAULT_RATE, float(fps), size)


def record(video: str | Path, sentence: str, duration: float, model: str, moments: list[Moment]) -> dict:
    """The JSON Lines record of one (video, query)."""
    return {"video": str(video), "query": sentence, "duration": round(duration, 3), "model": model,
            "moments": [{"start": m.start, "end": m.end, "score": m.score, "rank": m.rank} for m in moments]}


def list_videos(folder: str | Path) -> list[Path]:
    """Video files under a folder (recursive, sorted)."""
    from ..io.video import VIDEO_SUFFIXES

    vids = sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
    if not vids:
        raise InputError(folder, "folder contains no videos")
    return vids


def read_queries(path: str | Path) -> list[str]:
    """One query per non-empty line (lines starting with # are comments)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(path, f"cannot read queries ({e})") from None
    qs = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not qs:
        raise InputError(path, "no queries in file")
    return qs


def query_list(query: str | None, queries: str | Path | None) -> list[str]:
    """The QUERY argument or the --queries file (exactly one of them), each query checked before any video is
    read."""
    if (query is None) == (queries is None):
        raise ArgumentError("give one QUERY argument or --queries FILE")
    return [clean_query(q) for q in (read_queries(queries) if queries else [query])]


def video_inputs(video: str | Path) -> Inputs:
    """A video file, or a folder of videos (recursive, sorted), as batch items; a batch when more than one video
    (a single video's error is its own, not exit 6)."""
    video = Path(video)
    if not video.is_dir():
        return Inputs([Item(video, Path(video.name))], False, video.parent)
    items = [Item(v, v.relative_to(video)) for v in list_videos(video)]
    return Inputs(items, len(items) > 1, video)


def video_features(retriever: Retriever, inputs: Inputs, quiet: bool = False
                   ) -> tuple[dict[Path, VideoFeatures], list[tuple[str, str]]]:
    """The features of every input video (cached by content hash), with a progress line each; the videos that
    fail are left out and returned as (path, why), so that the others are still ranked (exit 6 at the end)."""
    from ..errors import BatchError
    from ..io.batch import run_batch

    feats: dict[Path, VideoFeatures] = {}
    try:
        run_batch(inputs, lambda it: retriever.features_into(it.path, feats), lambda it: [], quiet=quiet,
                  describe=lambda it, rec: f"{it.path}: {rec['duration']} s"
                                           f"{' (cached features)' if rec['cached'] else ''}")
    except BatchError as e:
        return feats, e.failures
    return feats, []


def rank_queries(retriever: Retriever, feats: dict[Path, VideoFeatures], queries: list[str], top: int,
                 single: bool) -> list[dict]:
    """A record per query: the moments of the one video (`single`), or those of all `feats` videos ranked
    together (each moment names its video)."""
    records = []
    for q in (clean_query(q) for q in queries):
        if single:
            v, vf = next(iter(feats.items()))
            records.append(record(v, q, vf.duration, retriever.model_name, retriever.query(vf, q, top)))
            continue
        pool = [(m, v) for v, vf in feats.items() for m in retriever.query(vf, q, top)]
        pool.sort(key=lambda mv: -mv[0].score)
        records.append({"query": q, "videos": len(feats), "model": retriever.model_name, "moments": [
            {"video": str(v), "start": m.start, "end": m.end, "score": m.score, "rank": i + 1}
            for i, (m, v) in enumerate(pool[:top])]})
    return records
