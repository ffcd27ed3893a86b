"""Dense retrieval: FAISS index kinds, save/load, accessibility filtering, the two filter strategies."""

import numpy as np
import pytest

from proofsmith.retrieval.base import PremiseRetriever
from proofsmith.retrieval.dense import DenseRetriever
from proofsmith.retrieval.encoder import Encoder
from proofsmith.retrieval.faiss_index import PremiseIndex

from .conftest import PER_FILE, premise_name


def _unit(n, d, seed):
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _clustered(n, d, seed, centers=60, noise=0.35):
    """Embeddings with cluster structure, as trained encoders produce (uniform noise is IVF's worst case)."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centers, d))
    x = (c[rng.integers(0, centers, n)] + noise * rng.standard_normal((n, d))).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def dense(tiny_encoder_dir, toy_corpus):
    return DenseRetriever.build(Encoder(tiny_encoder_dir, device="cpu"), toy_corpus, kind="flat")


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_faiss_index_save_load_round_trip_identical(tmp_path, kind):
    emb, q = _unit(2000, 32, 0), _unit(20, 32, 1)
    idx = PremiseIndex.build(emb, "model-x", kind=kind)
    s1, i1 = idx.search(q, 10)
    idx.save(tmp_path)
    back = PremiseIndex.load(tmp_path, expect_model_id="model-x")
    s2, i2 = back.search(q, 10)
    assert back.meta.kind == kind and back.meta.num == 2000
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(s1, s2)
    with pytest.raises(ValueError, match="built with"):
        PremiseIndex.load(tmp_path, expect_model_id="another-model")


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_faiss_exact_and_approximate_indexes_agree(kind):
    data = _clustered(3050, 32, 2)
    emb, q = data[:3000], data[3000:]
    _, exact = PremiseIndex.build(emb, "m", kind="flat").search(q, 10)
    _, approx = PremiseIndex.build(emb, "m", kind=kind, nprobe=16).search(q, 10)
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, approx)])
    assert overlap >= 0.9, overlap
    assert (exact[:, 0] == approx[:, 0]).mean() >= 0.9


def test_faiss_auto_kind_switches_at_threshold():
    emb = _unit(500, 16, 4)
    assert PremiseIndex.build(emb, "m", kind="auto", flat_threshold=1000).meta.kind == "flat"
    assert PremiseIndex.build(emb, "m", kind="auto", flat_threshold=100).meta.kind == "hnsw"


def test_dense_retriever_save_load_round_trip(tmp_path, dense, toy_corpus, tiny_encoder_dir):
    dense.save(tmp_path / "idx")
    back = DenseRetriever.load(tmp_path / "idx", corpus=toy_corpus, device="cpu")
    assert isinstance(back, PremiseRetriever) and back.encoder.model_id == str(tiny_encoder_dir)
    states = ["⊢ fb3 n = g n", "n : nat\n⊢ ft1 (S n) = g (S n)"]
    a = dense.retrieve_batch(states, ["Top.v"] * 2, [(25, 1)] * 2, 10)
    b = back.retrieve_batch(states, ["Top.v"] * 2, [(25, 1)] * 2, 10)
    assert [[p.full_name for p, _ in r] for r in a] == [[p.full_name for p, _ in r] for r in b]
    np.testing.assert_allclose([s for r in a for _, s in r], [s for r in b for _, s in r], rtol=1e-5)


@pytest.mark.parametrize("strategy", ["overfetch", "subindex"])
def test_dense_retriever_accessibility_never_returns_later_premise(dense, toy_corpus, strategy):
    dense.strategy = strategy
    try:
        for j in range(PER_FILE):
            pos = (10 * j + 5, 1)
            later = {premise_name("Top.v", i) for i in range(j + 1, PER_FILE)}
            for i in range(PER_FILE):
                # the state *is* a later premise's statement: the most similar text must still be filtered out
                got = [
                    p.full_name
                    for p, _ in dense.retrieve(
                        toy_corpus.premises[toy_corpus.ranges["Top.v"][0] + i].code, "Top.v", pos, k=len(toy_corpus)
                    )
                ]
                assert not later.intersection(got)
                assert not any(n.startswith("Toy.Other.") for n in got)
                assert len(got) == len(toy_corpus.accessible_ids("Top.v", pos))
    finally:
        dense.strategy = "overfetch"


def test_dense_retriever_filter_strategies_agree(dense, toy_corpus):
    states = [f"⊢ f{c}{i} n = g n" for c in "bmt" for i in range(PER_FILE)]
    for path, pos in [("Top.v", (35, 1)), ("Mid.v", (5, 1)), ("Other.v", (80, 1))]:
        for s in states:
            dense.strategy = "overfetch"
            a_ids, a_s = dense.retrieve_ids(s, path, pos, 7)
            dense.strategy = "subindex"
            b_ids, b_s = dense.retrieve_ids(s, path, pos, 7)
            dense.strategy = "overfetch"
            np.testing.assert_allclose(a_s, b_s, rtol=1e-5, atol=1e-6)
            assert set(a_ids.tolist()) <= set(toy_corpus.accessible_ids(path, pos).tolist())


def test_dense_retriever_rejects_index_of_other_corpus(dense, toy_corpus):
    from proofsmith.dataset.corpus import Corpus
    from proofsmith.retrieval.corpus import PremiseCorpus

    smaller = PremiseCorpus(Corpus([f for p, f in toy_corpus.corpus.files.items() if p != "Other.v"]))
    with pytest.raises(ValueError, match="premises"):
        DenseRetriever(dense.encoder, smaller, dense.index)
