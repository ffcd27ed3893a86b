"""A state representation with no training: TF-IDF over canonical state tokens (the top `max_features`
terms by document frequency), as sparse rows (`encode_sparse`, what the k-NN index stores: a state has
tens of distinct tokens out of thousands) or dense ones (`encode`, the `StateEncoder` protocol)."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from scipy import sparse

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

    def encode_sparse(self, states: Sequence[str]) -> sparse.csr_matrix:
        """One L2-normalised float32 row per state, sparse."""
        indptr: list[int] = [0]
        indices: list[int] = []
        data: list[float] = []
        for s in states:
            row = sorted(
                (j, (1.0 + math.log(c)) * float(self.idf[j]))
                for tok, c in Counter(canonical_tokens(s)).items()
                if (j := self.vocab.get(tok)) is not None
            )
            norm = math.sqrt(sum(w * w for _, w in row)) or 1.0
            indices.extend(j for j, _ in row)
            data.extend(w / norm for _, w in row)
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.asarray(data, np.float32), np.asarray(indices, np.int32), np.asarray(indptr, np.int64)),
            shape=(len(states), max(self.dim, 1)),
        )

    def encode(self, states: Sequence[str]) -> np.ndarray:
        return self.encode_sparse(states).toarray()

    def save(self, path: Path) -> None:
        terms = sorted(self.vocab, key=lambda t: self.vocab[t])
        Path(path).write_text(json.dumps({"terms": terms, "idf": self.idf.tolist()}, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> TfidfEncoder:
        d = json.loads(Path(path).read_text())
        return cls({t: i for i, t in enumerate(d["terms"])}, np.array(d["idf"], dtype=np.float32))
