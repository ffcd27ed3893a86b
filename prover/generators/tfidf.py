"""A state representation with no training: TF-IDF over canonical state tokens (the top `max_features`
terms by document frequency), as sparse rows (`encode_sparse`, what the k-NN index stores: a state has
tens of distinct tokens out of thousands) or dense ones (`encode`, the `StateEncoder` protocol).

With `oov_buckets` > 0, a token outside the vocabulary is not dropped but hashed (CRC-32) into one of
that many extra columns, as Tactician's features are: the names of a library the vocabulary was never
fitted on (a new package's definitions and lemmas) still make two of its states alike. A bucket's IDF
is its document frequency at fit time, so a token never seen then weighs the most."""

from __future__ import annotations

import json
import math
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from scipy import sparse

from proofsmith.prover.generators.state_text import canonical_tokens


def bucket(token: str, buckets: int) -> int:
    """A hash bucket stable across processes and runs (Python's `hash` of a str is salted)."""
    return zlib.crc32(token.encode("utf-8")) % buckets


@runtime_checkable
class StateEncoder(Protocol):
    def encode(self, states: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per state."""
        ...


class TfidfEncoder:
    kind = "tfidf"

    def __init__(self, vocab: dict[str, int], idf: np.ndarray, oov_buckets: int = 0):
        if len(idf) != len(vocab) + oov_buckets:
            raise ValueError(f"{len(idf)} IDF weights for {len(vocab)} terms and {oov_buckets} buckets")
        self.vocab = vocab
        self.idf = idf.astype(np.float32)
        self.oov_buckets = oov_buckets

    @property
    def dim(self) -> int:
        return len(self.vocab) + self.oov_buckets

    def column(self, token: str) -> int | None:
        """The token's column: its vocabulary index, else its hash bucket (None without buckets)."""
        j = self.vocab.get(token)
        if j is None and self.oov_buckets:
            j = len(self.vocab) + bucket(token, self.oov_buckets)
        return j

    @classmethod
    def fit(
        cls, states: Sequence[str], max_features: int = 4096, min_df: int = 1, oov_buckets: int = 0
    ) -> TfidfEncoder:
        df: Counter[str] = Counter()
        for s in states:
            df.update(set(canonical_tokens(s)))
        terms = sorted([t for t, c in df.most_common() if c >= min_df][:max_features])
        vocab = {t: i for i, t in enumerate(terms)}
        n = max(len(states), 1)
        counts = [float(df[t]) for t in terms]
        if oov_buckets:
            # a bucket's document frequency: the sum of its tokens' (two of them in one state, rare
            # among 2^18 buckets, count twice)
            bucket_df = np.zeros(oov_buckets, dtype=np.float64)
            for t, c in df.items():
                if t not in vocab:
                    bucket_df[bucket(t, oov_buckets)] += c
            counts += bucket_df.tolist()
        idf = np.array([math.log((1 + n) / (1 + c)) + 1.0 for c in counts], dtype=np.float32)
        return cls(vocab, idf, oov_buckets)

    def encode_sparse(self, states: Sequence[str]) -> sparse.csr_matrix:
        """One L2-normalised float32 row per state, sparse."""
        indptr: list[int] = [0]
        indices: list[int] = []
        data: list[float] = []
        for s in states:
            cols: Counter[int] = Counter()
            for tok, c in Counter(canonical_tokens(s)).items():
                if (j := self.column(tok)) is not None:
                    cols[j] += c
            row = sorted((j, (1.0 + math.log(c)) * float(self.idf[j])) for j, c in cols.items())
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
        meta = {"terms": terms, "idf": self.idf.tolist(), "oov_buckets": self.oov_buckets}
        Path(path).write_text(json.dumps(meta, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> TfidfEncoder:
        d = json.loads(Path(path).read_text())
        vocab = {t: i for i, t in enumerate(d["terms"])}
        return cls(vocab, np.array(d["idf"], dtype=np.float32), int(d.get("oov_buckets", 0)))
