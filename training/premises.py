"""Which `PremiseRetriever` training and evaluation use (`--retriever none|bm25|dense:DIR|MODULE:FACTORY`).

`bm25` prefers the retrieval package's BM25 retriever; until that exists this module carries a
minimal stand-in (BM25 over the corpus, filtered by ReProver's accessibility rule)."""

from __future__ import annotations

import importlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.schema import Pos, Premise

_WORD = re.compile(r"[A-Za-z_][\w'.]*|\d+|[^\s\w]")


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


class CorpusBM25:
    """BM25 (k1=1.5, b=0.75) over every premise's code, with an inverted index so a query costs
    only its terms' postings; keeps the best `k` accessible at (file_path, pos)."""

    def __init__(self, corpus: Corpus, k1: float = 1.5, b: float = 0.75):
        import numpy as np

        self.corpus = corpus
        self.premises: list[Premise] = [p for f in corpus.files.values() for p in f.premises if p.code.strip()]
        self.path_of = [path for path, f in corpus.files.items() for p in f.premises if p.code.strip()]
        docs = [Counter(_words(p.code)) for p in self.premises]
        lengths = np.array([sum(d.values()) for d in docs], dtype=np.float32)
        avg = float(lengths.mean()) if len(docs) else 1.0
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for j, d in enumerate(docs):
            norm = k1 * (1 - b + b * lengths[j] / avg)
            for term, tf in d.items():
                postings[term].append((j, tf * (k1 + 1) / (tf + norm)))
        n = len(docs)
        self.index = {
            t: (
                np.array([j for j, _ in ps]),
                np.array([w for _, w in ps], dtype=np.float32)
                * np.float32(math.log((n - len(ps) + 0.5) / (len(ps) + 0.5) + 1)),
            )
            for t, ps in postings.items()
        }

    def scores(self, query: str):
        import numpy as np

        out = np.zeros(len(self.premises), dtype=np.float32)
        for term, qtf in Counter(_words(query)).items():
            if term in self.index:
                ids, w = self.index[term]
                out[ids] += w * qtf
        return out

    def retrieve(self, state: str, file_path: str, pos: Pos | None, k: int) -> list[tuple[Premise, float]]:
        import numpy as np

        scores = self.scores(state)
        allowed = None
        if file_path in self.corpus.files:
            allowed = self.corpus.imported(file_path) | {file_path}
        out = []
        for j in np.argsort(-scores, kind="stable"):
            if scores[j] <= 0:
                break
            p, path = self.premises[j], self.path_of[j]
            if allowed is not None and (path not in allowed or (path == file_path and pos and p.end > tuple(pos))):
                continue
            out.append((p, float(scores[j])))
            if len(out) >= k:
                break
        return out

    def retrieve_batch(
        self, states: Sequence[str], file_paths: Sequence[str], positions: Sequence[Pos | None], k: int
    ) -> list[list[tuple[Premise, float]]]:
        return [self.retrieve(s, f, p, k) for s, f, p in zip(states, file_paths, positions)]


def make_retriever(spec: str, data_dir: Path) -> Any:
    """`none`; `bm25` over DATA/corpus.jsonl; `dense:INDEX_DIR`; or `package.module:factory` (called
    with the data dir)."""
    if spec in ("", "none"):
        return None
    if spec == "bm25":
        try:
            mod = importlib.import_module("proofsmith.retrieval.bm25")
            if hasattr(mod, "BM25Retriever") and hasattr(mod.BM25Retriever, "from_corpus_file"):
                return mod.BM25Retriever.from_corpus_file(Path(data_dir) / "corpus.jsonl")
        except ImportError:
            pass
        return CorpusBM25(Corpus.read_jsonl(Path(data_dir) / "corpus.jsonl"))
    if spec.startswith("dense:"):  # a dense index built by `proofsmith index`
        from proofsmith.retrieval.pipeline import load_dense

        return load_dense(spec[len("dense:") :], Path(data_dir) / "corpus.jsonl")
    module, _, factory = spec.partition(":")
    return getattr(importlib.import_module(module), factory or "make_retriever")(data_dir)
