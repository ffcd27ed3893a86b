"""A sparse-style state representation with no training: TF-IDF over canonical state tokens, kept
dense (top `max_features` terms by document frequency) so FAISS can search it exactly."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from proofsmith.prover.generators.state_text import canonical_tokens


@runtime_checkable
class StateEncoder(Protocol):
    def encode(self, states: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per state."""
        ...


class TfidfEncoder:
    kind = "tfidf"

    def __init__(self, vocab: dict[str, int], idf: np.ndarray):
        self.vocab = vocab
        self.idf = idf.astype(np.float32)

    @property
    def dim(self) -> int:
        return len(self.vocab)

    @classmethod
    def fit(cls, states: Sequence[str], max_features: int = 4096, min_df: int = 1) -> TfidfEncoder:
        df: Counter[str] = Counter()
        for s in states:
            df.update(set(canonical_tokens(s)))
        terms = [t for t, c in df.most_common() if c >= min_df][:max_features]
        vocab = {t: i for i, t in enumerate(sorted(terms))}
        n = max(len(states), 1)
        idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in sorted(terms)], dtype=np.float32)
        return cls(vocab, idf)

    def encode(self, states: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(states), max(self.dim, 1)), dtype=np.float32)
        for row, s in enumerate(states):
            for tok, c in Counter(canonical_tokens(s)).items():
                j = self.vocab.get(tok)
                if j is not None:
                    out[row, j] = (1.0 + math.log(c)) * self.idf[j]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def save(self, path: Path) -> None:
        terms = sorted(self.vocab, key=lambda t: self.vocab[t])
        Path(path).write_text(json.dumps({"terms": terms, "idf": self.idf.tolist()}, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> TfidfEncoder:
        d = json.loads(Path(path).read_text())
        return cls({t: i for i, t in enumerate(d["terms"])}, np.array(d["idf"], dtype=np.float32))
