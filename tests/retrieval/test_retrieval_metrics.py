"""R@k / MRR on hand-made rankings, and the evaluation loop on a scripted retriever."""

import json

import numpy as np
import pytest

from proofsmith.retrieval.evaluate import (
    aggregate,
    evaluate,
    markdown_table,
    recall_at_k,
    reciprocal_rank,
    write_results,
)


def test_retrieval_metrics_hand_made():
    ranked = [7, 3, 9, 1, 4]
    assert recall_at_k(ranked, [3, 4], 1) == 0.0
    assert recall_at_k(ranked, [3, 4], 2) == 0.5
    assert recall_at_k(ranked, [3, 4], 5) == 1.0
    assert recall_at_k(ranked, [7], 1) == 1.0
    assert reciprocal_rank(ranked, [9, 4]) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, [42]) == 0.0
    m = aggregate([[1, 2, 3], [5, 6, 7], [9, 8]], [[1], [7, 100], [0]])
    # R@1: 1, 0, 0 ; R@10: 1, 1/2, 0 ; RR: 1, 1/3, 0
    assert (m.r1, m.r10, m.mrr, m.num_queries) == (
        pytest.approx(1 / 3),
        pytest.approx(0.5),
        pytest.approx((1 + 1 / 3) / 3),
        3,
    )


class Scripted:
    """Returns the accessible premises in id order and records where it was asked."""

    def __init__(self, corpus):
        self.corpus, self.calls = corpus, []

    def retrieve_ids(self, state, file_path, pos, k):
        self.calls.append((file_path, pos))
        ids = [int(i) for i in self.corpus.accessible_ids(file_path, pos)]
        return np.array(ids[:k]), np.zeros(min(k, len(ids)))


def test_retrieval_evaluate_loop_uses_theorem_position(toy_corpus, toy_records):
    r = Scripted(toy_corpus)
    m = evaluate(r, toy_corpus, toy_records[:4], k=100)
    n_tactics = sum(len(t.traced_tactics) for t in toy_records[:4])
    assert m.num_queries == n_tactics == len(r.calls)
    assert set(r.calls) == {(rec.file_path, rec.start) for rec in toy_records[:4]}
    # every positive is accessible and k covers the corpus: the full list always contains it
    assert m.mrr > 0 and all(v <= 1 for v in (m.r1, m.r10, m.mrr))


def test_retrieval_results_table_and_json(tmp_path):
    res = {
        "bm25": {"random": aggregate([[1]], [[1]]), "novel_premises": aggregate([[2]], [[1]])},
        "dense": {"random": aggregate([[3, 1]], [[1]])},
    }
    md = markdown_table(res)
    assert "| random | bm25 | 1.000 | 1.000 | 1.000 | 1 |" in md
    assert "| random | dense | 0.000 | 1.000 | 0.500 | 1 |" in md
    assert "| novel_premises | bm25 | 0.000 | 0.000 | 0.000 | 1 |" in md
    write_results(res, tmp_path / "m.json")
    data = json.loads((tmp_path / "m.json").read_text())
    assert data["metrics"]["dense"]["random"]["mrr"] == 0.5 and data["markdown"] == md
