"""Run one item: features [L, D] (+ duration) -> ranked proposals in seconds, with BC-GNN or the prior.

ActivityNet mode rescales the whole video to the model's `tscale` positions (one window); THUMOS mode slides
windows of `tscale` snippets (stride `window_stride`) over the native sequence and pools their candidates.
Scores are p_s * p_e * p_c (paper Eq. 8); an optional candidate filter keeps starts/ends that are local peaks or
above half the maximum (BSN/BMN); Soft-NMS (or NMS) keeps `top_k`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import InputError
from .features import rescale
from .model import BCGNN
from .postprocess import suppress
from .prior import PriorModel
from .train import prepare_input


@dataclass
class Proposals:
    """Ranked proposals of one video: [n, 2] seconds, scores, and per-proposal boundary/content probabilities."""

    video: str
    duration: float
    segments: np.ndarray
    scores: np.ndarray
    extra: dict = field(default_factory=dict)  # p_start, p_end, p_content arrays (BC-GNN)


@dataclass
class PostConfig:
    """Post-processing: suppression method and parameters, candidate filter, how many to keep."""

    nms: str = "soft"
    top_k: int = 100
    alpha: float = 0.4
    low: float = 0.5
    high: float = 0.9
    nms_thr: float = 0.65
    candidate_filter: bool = True


def _peaks(p: np.ndarray) -> np.ndarray:
    """Local maxima or above half the maximum (BSN/BMN boundary candidates)."""
    left = np.r_[-np.inf, p[:-1]]
    right = np.r_[p[1:], -np.inf]
    return ((p > left) & (p > right)) | (p > 0.5 * p.max())


@torch.inference_mode()
def score_window(model: BCGNN, x: np.ndarray, device: torch.device) -> tuple[np.ndarray, ...]:
    """Model probabilities of one window input [C, T]: (p_s [T], p_e [T], p_c [E])."""
    ps, pe, pc = model(torch.from_numpy(x[None]).to(device))
    return ps[0].float().cpu().numpy(), pe[0].float().cpu().numpy(), pc[0].float().cpu().numpy()


def _candidates(model: BCGNN, ps: np.ndarray, pe: np.ndarray, pc: np.ndarray, filt: bool
                ) -> tuple[np.ndarray, ...]:
    ei = model.ei.cpu().numpy()
    ej = model.ej.cpu().numpy()
    keep = np.ones(len(ei), dtype=bool)
    if filt:
        keep = _peaks(ps)[ei] & _peaks(pe)[ej]
    ei, ej = ei[keep], ej[keep]
    return ei, ej, ps[ei] * pe[ej] * pc[keep], ps[ei], pe[ej], pc[keep]


def propose_bcgnn(model: BCGNN, feats: np.ndarray, duration: float, input_kind: str, video: str = "",
                  post: PostConfig | None = None, mode: str = "anet", window_stride: int = 64,
                  device: torch.device | None = None) -> Proposals:
    """BC-GNN proposals of one video (seconds)."""
    post = post or PostConfig()
    device = device or torch.device("cpu")
    t = model.cfg.tscale
    if mode == "anet":
        seq = rescale(feats, t) if len(feats) != t else np.asarray(feats, dtype=np.float64)
        ps, pe, pc = score_window(model, prepare_input(seq, input_kind), device)
        ei, ej, sc, a, b, c = _candidates(model, ps, pe, pc, post.candidate_filter)
        segs = np.stack([(ei + 0.5) / t, (ej + 0.5) / t], axis=1)
        unit = 1.0
    else:  # thumos: windows over native snippets, positions in snippets
        n = len(feats)
        parts = []
        for w0 in range(0, max(1, n - t + window_stride), window_stride):
            win = feats[w0:w0 + t]
            if len(win) < t:
                win = np.concatenate([win, np.repeat(win[-1:], t - len(win), axis=0)])
            ps, pe, pc = score_window(model, prepare_input(win, input_kind), device)
            ei, ej, sc, a, b, c = _candidates(model, ps, pe, pc, post.candidate_filter)
            inside = ej + w0 < n
            parts.append((ei[inside] + w0, ej[inside] + w0, sc[inside], a[inside], b[inside], c[inside]))
        ei, ej, sc, a, b, c = (np.concatenate([p[k] for p in parts]) for k in range(6))
        segs = np.stack([ei + 0.5, ej + 0.5], axis=1) / n
        unit = 1.0
    order = np.argsort(-sc, kind="stable")
    segs, sc, a, b, c = segs[order], sc[order], a[order], b[order], c[order]
    kept, kscore = suppress(segs, sc, post.nms, post.top_k, post.alpha, post.low, post.high, post.nms_thr,
                            adaptive=(mode == "anet"))
    # map kept rows back to their boundary/content probabilities (first exact match)
    idx = [int(np.flatnonzero((segs[:, 0] == s0) & (segs[:, 1] == s1))[0]) for s0, s1 in kept]
    out = np.clip(kept, 0, 1) * duration * unit
    return Proposals(video, duration, out, kscore, {"xmin": kept[:, 0], "xmax": kept[:, 1],
                                                    "p_start": a[idx], "p_end": b[idx], "p_content": c[idx]})


def propose_prior(prior: PriorModel, duration: float, video: str = "", top_k: int = 100) -> Proposals:
    """The prior's proposals for a video of `duration` seconds."""
    segs, sc = prior.propose(duration, top_k)
    return Proposals(video, duration, segs, sc, {"xmin": segs[:, 0] / max(duration, 1e-9),
                                                 "xmax": segs[:, 1] / max(duration, 1e-9)})


def sliding_windows(duration: float, video: str = "", top_k: int = 100,
                    scales: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0),
                    overlap: float = 0.5) -> Proposals:
    """Content-free multi-scale sliding windows (normalised lengths `scales`, stride (1 - overlap) * length),
    longest first and left to right within a scale; the classical proposal baseline."""
    segs = []
    for s in sorted(scales, reverse=True):
        step = max(s * (1 - overlap), 1e-3)
        starts = np.arange(0, 1 - s + 1e-9, step)
        segs += [(a, a + s) for a in starts]
    segs_a = np.asarray(segs)[:top_k]
    sc = np.linspace(1.0, 0.01, len(segs_a))
    return Proposals(video, duration, segs_a * duration, sc, {"xmin": segs_a[:, 0], "xmax": segs_a[:, 1]})


def check_features(path: object, feats: np.ndarray, expect_dim: int | None) -> None:
    """Refuse features the model cannot read (width mismatch for raw-input models)."""
    if expect_dim is not None and feats.shape[1] != expect_dim:
        raise InputError(path, f"features have {feats.shape[1]} columns but the model expects {expect_dim}")
