"""The concept bank: a text-visual bridge without caption training. The 1000 ImageNet class names are embedded
with the same sentence encoder as the query; the query's nearest class names weight the per-frame ImageNet
log-probabilities of EfficientNet-Lite0, giving a per-frame relevance curve; a window scores the two-sample z
statistic of the relevance inside it against outside it (a plain mean difference lets a window covering all but
one frame win on noise)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .text import TextEncoder

CLASS_FILE = Path(__file__).resolve().parent / "imagenet_classes.txt"
# the class names embedded once by experiments/retrieve_moment/embed_classes.py (float16, 1000 x 384, 0.8 MB):
# saves ~10 s of MiniLM time on every fresh cache; recomputed when absent
CLASS_EMB_FILE = Path(__file__).resolve().parent / "imagenet_classes_minilm.npy"


def class_names() -> list[str]:
    """ImageNet-1k class names in logit order, underscores as spaces."""
    return [n.replace("_", " ") for n in CLASS_FILE.read_text().split()]


class ConceptBank:
    """Class-name embeddings (1000 x 384), computed once per process (and cached on disk when a folder is given)."""

    def __init__(self, encoder: TextEncoder, cache_dir: str | Path | None = None, top_k: int = 5,
                 temperature: float = 0.05) -> None:
        self.encoder = encoder
        self.top_k = top_k
        self.temperature = temperature
        cache = Path(cache_dir) / "imagenet-classes-minilm.npy" if cache_dir else None
        if CLASS_EMB_FILE.is_file():
            self.emb = torch.nn.functional.normalize(torch.from_numpy(np.load(CLASS_EMB_FILE).astype(np.float32)),
                                                     dim=-1)
        elif cache is not None and cache.is_file():
            self.emb = torch.from_numpy(np.load(cache))
        else:
            self.emb = encoder.sentence(class_names())
            if cache is not None:
                from ..io.atomic import atomic_path

                with atomic_path(cache) as tmp, open(tmp, "wb") as f:
                    np.save(f, self.emb.numpy())

    def query_weights(self, query: str) -> tuple[np.ndarray, list[tuple[str, float]]]:
        """Weights over the 1000 classes (softmax of the top-k cosine similarities) and the named top-k."""
        sim = (self.emb @ self.encoder.sentence([query])[0]).numpy()
        top = np.argsort(-sim)[: self.top_k]
        w = np.zeros_like(sim)
        e = np.exp((sim[top] - sim[top].max()) / self.temperature)
        w[top] = e / e.sum()
        names = class_names()
        return w, [(names[i], float(sim[i])) for i in top]

    def relevance(self, logits: np.ndarray, query: str) -> np.ndarray:
        """Per-frame relevance: weighted ImageNet log-probabilities of the query's nearest classes."""
        w, _ = self.query_weights(query)
        lp = torch.log_softmax(torch.from_numpy(logits.astype(np.float32)), -1).numpy()
        return lp @ w


def window_contrast(curve: np.ndarray, rate: float, windows: np.ndarray) -> np.ndarray:
    """For each (start, end) window in seconds: (mean inside - mean outside) * sqrt(n_in n_out / n) / std."""
    c = np.concatenate([[0.0], np.cumsum(curve, dtype=np.float64)])
    n = len(curve)
    s = np.clip(np.floor(windows[:, 0] * rate).astype(int), 0, n - 1)
    e = np.clip(np.ceil(windows[:, 1] * rate).astype(int), s + 1, n)
    n_in = e - s
    n_out = n - n_in
    inside = (c[e] - c[s]) / n_in
    outside = (c[n] - (c[e] - c[s])) / np.maximum(n_out, 1)
    z = (inside - outside) * np.sqrt(n_in * n_out / n) / max(float(np.std(curve)), 1e-6)
    return np.where(n_out > 0, z, 0.0)
