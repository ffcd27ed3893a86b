"""PremiseCorpus accessibility, premise location and serialization; the BM25 baseline."""

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from proofsmith.dataset.schema import Provenance
from proofsmith.retrieval.base import PremiseRetriever
from proofsmith.retrieval.bm25 import BM25Retriever, tokenize
from proofsmith.retrieval.corpus import serialize_premise

from .conftest import IMPORTED, PER_FILE, make_corpus, premise_name


def test_retrieval_corpus_accessible_ids_match_dataset_rule(toy_corpus):
    raw = make_corpus()
    for path in ("Top.v", "Mid.v", "Base.v", "Other.v"):
        for pos in [(1, 1), (14, 4), (15, 1), (45, 2), (999, 1)]:
            got = {toy_corpus.premises[i].full_name for i in toy_corpus.accessible_ids(path, pos)}
            want = {p.full_name for p in raw.accessible_premises(path, pos)}
            assert got == want, (path, pos)
            mask = toy_corpus.accessible_mask(path, pos)
            assert set(np.flatnonzero(mask)) == set(toy_corpus.accessible_ids(path, pos).tolist())


def test_retrieval_corpus_transitive_imports(toy_corpus):
    files = {toy_corpus.file_of[i] for i in toy_corpus.imported_ids("Top.v")}
    assert files == set(IMPORTED["Top.v"])  # Base.v only through Mid.v
    assert len(toy_corpus.imported_ids("Other.v")) == 0


def test_retrieval_locate_positive_premises(toy_corpus):
    i = toy_corpus.locate(Provenance("Toy.Mid.op3", "Mid.v", (31, 7)))
    assert toy_corpus.premises[i].full_name == "Toy.Mid.op3"
    # no position (Coq names from functor instances): found by name in the file
    j = toy_corpus.locate(Provenance("Toy.Base.op2", "Base.v", None))
    assert toy_corpus.premises[j].full_name == "Toy.Base.op2"
    assert toy_corpus.locate(Provenance("Toy.Nowhere.x", "Nowhere.v", None)) is None


def test_retrieval_serialize_marks_full_name(toy_corpus):
    p = toy_corpus.premises[0]
    s = serialize_premise(p)
    assert s.startswith(f"Lemma <a>{p.full_name}</a> :") and s.count("<a>") == 1


def test_bm25_postings_match_rank_bm25_scores(toy_corpus):
    bm = BM25Retriever(toy_corpus)
    ref = BM25Okapi([tokenize(t) for t in toy_corpus.texts])
    for q in ["n : nat\n⊢ fb3 (S n) = g (S n)", "forall n, fm1 n = g n", "nothing matches zzz"]:
        np.testing.assert_allclose(bm.scores(q), ref.get_scores(tokenize(q)), rtol=1e-9, atol=1e-12)


def test_bm25_ranks_matching_premise_first_and_follows_protocol(toy_corpus):
    bm = BM25Retriever(toy_corpus)
    assert isinstance(bm, PremiseRetriever)
    got = bm.retrieve("n : nat\n⊢ fb5 (S n) = g (S n)", "Top.v", (5, 1), k=5)
    assert got[0][0].full_name == "Toy.Base.op5"
    assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
    batch = bm.retrieve_batch(["⊢ fb5 n = g n", "⊢ fm2 n = g n"], ["Top.v", "Top.v"], [(5, 1), (5, 1)], 3)
    assert [b[0][0].full_name for b in batch] == ["Toy.Base.op5", "Toy.Mid.op2"]


@pytest.mark.parametrize("j", range(PER_FILE))
def test_bm25_retriever_never_returns_later_same_file_premise(toy_corpus, j):
    bm = BM25Retriever(toy_corpus)
    pos = (10 * j + 5, 1)  # after Top.opj, before Top.op(j+1)
    later = {premise_name("Top.v", i) for i in range(j + 1, PER_FILE)}
    for i in range(PER_FILE):  # the state names each Top premise's symbol exactly
        names = [p.full_name for p, _ in bm.retrieve(f"⊢ ft{i} n = g n", "Top.v", pos, k=len(toy_corpus))]
        assert not later.intersection(names)
        assert not any(n.startswith("Toy.Other.") for n in names)
        assert (premise_name("Top.v", i) in names) == (i <= j)
