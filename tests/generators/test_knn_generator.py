import math

from gen_fixtures import synthetic_theorems

from proofsmith.dataset.loading import tactic_pairs
from proofsmith.prover.generators.base import TacticGenerator
from proofsmith.prover.generators.knn import KNNConfig, KNNTacticGenerator, split_sequence, tactic_prefixes
from proofsmith.prover.generators.state_text import canonical_tokens, hypothesis_names


def _knn() -> KNNTacticGenerator:
    return KNNTacticGenerator.from_pairs(tactic_pairs(synthetic_theorems()))


def test_knn_generator_identical_state_first():
    g = _knn()
    assert isinstance(g, TacticGenerator)
    for rec in synthetic_theorems():
        for t in rec.traced_tactics:
            top, score = g.generate(t.state_before, [], 5)[0]
            assert top == t.tactic
            assert score <= 0.0


def test_knn_generator_adapts_hypothesis_names():
    g = _knn()
    out = g.generate("u, v : nat\nHuv : u = v\n⊢ v = u", [], 3)
    assert out[0][0] == "symmetry; exact Huv."


def test_knn_generator_scores_sorted_distinct_and_batched():
    g = _knn()
    states = ["z : nat\n⊢ z * 1 = z", "⊢ forall q : nat, q + 0 = q"]
    batch = g.generate_batch(states, [[], []], 4)
    assert [c[0][0] for c in batch] == ["lia.", "intros q."]
    for cands in batch:
        scores = [s for _, s in cands]
        assert scores == sorted(scores, reverse=True)
        assert len({t for t, _ in cands}) == len(cands) == 4


def test_knn_generator_save_load_round_trip(tmp_path):
    g = _knn()
    g.save(tmp_path / "idx")
    h = KNNTacticGenerator.load(tmp_path / "idx")
    s = "c : nat\n⊢ c + 0 = c"
    assert g.generate(s, [], 4) == h.generate(s, [], 4)


def test_knn_sparse_search_finds_the_same_neighbours_as_exact_dense_search():
    import faiss
    import numpy as np

    g = _knn()
    assert g.index is None and g._by_term is not None  # TF-IDF rows are kept sparse
    dense = faiss.IndexFlatIP(g.encoder.dim)
    dense.add(g.encoder.encode(g.states))
    queries = ["c : nat\n⊢ c + 0 = c", "⊢ forall q : nat, q + 0 = q", "x : nat\nH : x = 1\n⊢ 1 = x"]
    k = min(8, len(g))
    sims, ids = g._search(queries, k)
    want_sims, want_ids = dense.search(g.encoder.encode(queries), k)
    np.testing.assert_allclose(sims, want_sims, atol=1e-6)
    for got, want, s in zip(ids, want_ids, want_sims):
        strict = s > s[-1] + 1e-6  # neighbours above the k-th similarity are the same; ties may swap
        assert set(got[strict]) == set(want[strict])


def test_knn_index_saved_as_sparse_vectors_and_an_older_dense_index_still_loads(tmp_path):
    import faiss

    g = _knn()
    saved = g.save(tmp_path / "idx")
    assert (saved / "vectors.npz").is_file() and not (saved / "index.faiss").exists()
    # an index saved before the sparse vectors: index.faiss beside the examples and the encoder
    (saved / "vectors.npz").unlink()
    faiss.write_index(faiss.IndexFlatIP(g.encoder.dim), str(saved / "index.faiss"))
    old = KNNTacticGenerator.load(saved)
    s = "u, v : nat\nHuv : u = v\n⊢ v = u"
    assert old.generate(s, [], 4) == g.generate(s, [], 4)


def test_state_text_generator_helpers():
    s = "a, b : nat\nHab : a <= b\n⊢ a <= b + 1"
    assert hypothesis_names(s) == ["a", "b", "Hab"]
    assert canonical_tokens(s) == canonical_tokens("c, b : nat\nH0 : c <= b\n⊢ c <= b + 1")


def test_knn_split_sequence_respects_brackets_strings_and_match():
    assert split_sequence("apply injective_projections ; simpl ; ring.") == [
        "apply injective_projections",
        "simpl",
        "ring",
    ]
    assert split_sequence("destruct n; [ simpl; auto | lia ]") == ["destruct n", "[ simpl; auto | lia ]"]
    assert split_sequence('idtac "a;b"; lia') == ['idtac "a;b"', "lia"]
    m = "repeat match goal with H : _ /\\ _ |- _ => destruct H; clear H end"
    assert split_sequence(f"intros; {m}; lra") == ["intros", m, "lra"]
    assert split_sequence("try (split; lia)") == ["try (split; lia)"]
    assert tactic_prefixes("a; b; c.") == ["a", "a; b"]
    assert tactic_prefixes("lia.") == []


def test_knn_compound_tactics_vote_for_their_prefixes():
    pairs = [{"state": "⊢ 0 = 0 /\\ 1 = 1", "tactic": "split; reflexivity."}]
    on = KNNTacticGenerator.from_pairs(pairs)
    off = KNNTacticGenerator.from_pairs(pairs, config=KNNConfig(prefix_weight=0.0))
    state = "⊢ 0 = 0 /\\ 1 = 1"
    assert [t for t, _ in off.generate(state, [], 4)] == ["split; reflexivity."]
    cands = dict(on.generate(state, [], 4))
    assert list(cands) == ["split; reflexivity.", "split"]
    assert abs((cands["split"] - cands["split; reflexivity."]) - math.log(0.25)) < 1e-6


def test_knn_spec_indexes_one_split_file(tmp_path):
    """`knn:DIR/novel_packages/train.json`: the k-NN a novel_packages evaluation needs (the dataset
    directory form indexes random/train, which holds the held-out packages' theorems)."""
    import json

    from proofsmith.prover.generators.factory import check_spec, spec_members
    from proofsmith.prover.generators.knn import from_spec

    records = synthetic_theorems()
    split = tmp_path / "novel_packages" / "train.json"
    split.parent.mkdir()
    split.write_text(json.dumps([r.to_json() for r in records[:1]]))
    g = from_spec(str(split))
    assert len(g.tactics) == len(records[0].traced_tactics) < len(_knn().tactics)
    spec = check_spec(f"ensemble:auto+knn:{split}")
    assert spec_members(spec) == ["auto", f"knn:{split.resolve()}"]
