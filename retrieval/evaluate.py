"""R@1, R@10 and MRR as ReProver's `retrieval/evaluate.py` computes them: per tactic that uses at least
one located premise, recall@k = |top-k ∩ positives| / |positives|, reciprocal rank of the first positive
in the retrieved list (0 if none); averaged over tactics."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from proofsmith.dataset.schema import Pos, TheoremRecord
from proofsmith.retrieval.corpus import PremiseCorpus
from proofsmith.retrieval.train import tactic_queries


class IdRetriever(Protocol):
    def retrieve_ids(
        self, state: str, file_path: str | None, pos: Pos | None, k: int
    ) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass
class RetrievalMetrics:
    r1: float
    r10: float
    mrr: float
    num_queries: int
    seconds: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)


def recall_at_k(ranked: Sequence[int], positives: Sequence[int], k: int) -> float:
    pos = set(positives)
    return len(pos.intersection(ranked[:k])) / len(pos) if pos else 0.0


def reciprocal_rank(ranked: Sequence[int], positives: Sequence[int]) -> float:
    pos = set(positives)
    for j, p in enumerate(ranked):
        if p in pos:
            return 1.0 / (j + 1)
    return 0.0


def aggregate(
    rankings: Sequence[Sequence[int]], positives: Sequence[Sequence[int]], seconds: float = 0.0
) -> RetrievalMetrics:
    n = len(rankings)
    if n == 0:
        return RetrievalMetrics(0.0, 0.0, 0.0, 0, seconds)
    return RetrievalMetrics(
        r1=float(np.mean([recall_at_k(r, p, 1) for r, p in zip(rankings, positives)])),
        r10=float(np.mean([recall_at_k(r, p, 10) for r, p in zip(rankings, positives)])),
        mrr=float(np.mean([reciprocal_rank(r, p) for r, p in zip(rankings, positives)])),
        num_queries=n,
        seconds=seconds,
    )


def evaluate(
    retriever: IdRetriever,
    corpus: PremiseCorpus,
    records: Sequence[TheoremRecord],
    k: int = 100,
    progress: bool = False,
) -> RetrievalMetrics:
    queries = tactic_queries(records, corpus)
    t0 = time.monotonic()
    rankings, positives = [], []
    batched = getattr(retriever, "encoder", None) is not None
    if batched:  # dense: encode all states in batches, then search one by one
        embs = retriever.encoder.embed([q[0] for q in queries], queries=True)  # type: ignore[attr-defined]
    it: Iterable[int] = range(len(queries))
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="eval", unit="query")
    for j in it:
        state, path, pos, ids = queries[j]
        if batched:
            got, _ = retriever.retrieve_ids_from_embedding(embs[j], path, pos, k)  # type: ignore[attr-defined]
        else:
            got, _ = retriever.retrieve_ids(state, path, pos, k)
        rankings.append([int(x) for x in got])
        positives.append(ids)
    return aggregate(rankings, positives, time.monotonic() - t0)


def markdown_table(results: dict[str, dict[str, RetrievalMetrics]]) -> str:
    """`results[retriever][split]` -> one table, a row per (split, retriever)."""
    lines = ["| split | retriever | R@1 | R@10 | MRR | queries |", "|---|---|---|---|---|---|"]
    splits = sorted({s for per in results.values() for s in per}, key=lambda s: (s != "random", s))
    for split in splits:
        for name, per in results.items():
            m = per.get(split)
            if m is not None:
                lines.append(f"| {split} | {name} | {m.r1:.3f} | {m.r10:.3f} | {m.mrr:.3f} | {m.num_queries} |")
    return "\n".join(lines)


def write_results(
    results: dict[str, dict[str, RetrievalMetrics]], out_json: Path | str, extra: dict | None = None
) -> None:
    data = {
        "metrics": {name: {s: m.to_json() for s, m in per.items()} for name, per in results.items()},
        "markdown": markdown_table(results),
        **(extra or {}),
    }
    Path(out_json).parent.mkdir(parents=True, exist_ok=True)
    Path(out_json).write_text(json.dumps(data, indent=1))
