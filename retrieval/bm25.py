"""BM25 baseline (rank-bm25's Okapi model), restricted to accessible premises."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi

from proofsmith.dataset.schema import Pos, Premise
from proofsmith.retrieval.corpus import PremiseCorpus

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_']*|\d+|[^\sA-Za-z0-9_]+")


def tokenize(text: str) -> list[str]:
    """Identifiers are split at dots and underscores (keeping the whole part too), symbols kept as
    tokens; lower-cased. `Nat.add_0_r` -> nat, add_0_r, add, 0, r."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.replace("<a>", " ").replace("</a>", " ")):
        tok = tok.lower()
        for part in tok.split("."):
            if not part:
                continue
            out.append(part)
            if "_" in part.strip("_"):
                out.extend(x for x in part.split("_") if x)
    return out


class BM25Retriever:
    """`rank_bm25.BM25Okapi` fitted on the serialized premises. Scoring is done from its statistics
    with postings lists (same numbers as `get_scores`, which loops over every document in Python)."""

    def __init__(self, corpus: PremiseCorpus, k1: float = 1.5, b: float = 0.75):
        self.corpus = corpus
        docs = [tokenize(t) for t in corpus.texts]
        self.model = BM25Okapi(docs, k1=k1, b=b)
        dl = np.asarray(self.model.doc_len, dtype=np.float64)
        norm = k1 * (1 - b + b * dl / self.model.avgdl)
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for d, freqs in enumerate(self.model.doc_freqs):
            for term, tf in freqs.items():
                ids, ws = postings.setdefault(term, ([], []))
                ids.append(d)
                ws.append(tf * (k1 + 1) / (tf + norm[d]))
        self._postings = {
            t: (np.asarray(ids, dtype=np.int64), self.model.idf.get(t, 0.0) * np.asarray(ws))
            for t, (ids, ws) in postings.items()
        }

    @classmethod
    def from_corpus_file(cls, path: Path | str, **kw) -> BM25Retriever:
        return cls(PremiseCorpus.from_jsonl(path), **kw)

    def scores(self, state: str) -> np.ndarray:
        s = np.zeros(len(self.corpus), dtype=np.float64)
        for term, n in Counter(tokenize(state)).items():
            hit = self._postings.get(term)
            if hit is not None:
                s[hit[0]] += n * hit[1]
        return s

    def retrieve_ids(self, state: str, file_path: str | None, pos: Pos | None, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Premise ids and scores of the top `k` accessible premises, best first (`file_path=None`: no filter)."""
        ids = self.corpus.accessible_ids(file_path, pos)
        if len(ids) == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        sub = self.scores(state)[ids]
        kk = min(k, len(ids))
        top = np.argpartition(-sub, kk - 1)[:kk]
        top = top[np.lexsort((ids[top], -sub[top]))]  # by score, ties by id: deterministic
        return ids[top], sub[top]

    def retrieve(self, state: str, file_path: str, pos: Pos | None, k: int) -> list[tuple[Premise, float]]:
        ids, scores = self.retrieve_ids(state, file_path, pos, k)
        return [(self.corpus.premises[int(i)], float(s)) for i, s in zip(ids, scores)]

    def retrieve_batch(
        self, states: Sequence[str], file_paths: Sequence[str], positions: Sequence[Pos | None], k: int
    ) -> list[list[tuple[Premise, float]]]:
        return [self.retrieve(s, f, p, k) for s, f, p in zip(states, file_paths, positions)]
