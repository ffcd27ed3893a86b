"""Premise retrieval inside search: BM25 over a premise corpus, restricted to what the theorem's
file loads; `apply L` with a retrieved L (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.schema import CorpusFile, Premise
from proofsmith.envs.base import ProofFinished, TheoremRef
from proofsmith.envs.coq import CoqEnvironment
from proofsmith.prover.distributed import JobConfig
from proofsmith.prover.generators.actions import ActionGenerator
from proofsmith.prover.generators.factory import make_generator
from proofsmith.prover.generators.goal_shape import GoalShape
from proofsmith.prover.premise_lookup import (
    BM25PremiseLookup,
    matching_files,
    required_libraries,
    spelled_notations,
    state_query,
)
from proofsmith.prover.search import BestFirstSearch, SearchConfig
from proofsmith.prover.status import SearchStatus


def _p(name: str, code: str, line: int, kind: str = "lemma") -> Premise:
    return Premise(name, code, (line, 1), (line, len(code)), kind)


def make_corpus(tmp_path: Path) -> Path:
    """A small corpus of real standard-library declarations (names and statements as in Coq 8.16),
    with the stdlib's import structure, written as `proofsmith trace` writes corpus.jsonl."""
    files = [
        CorpusFile(
            "Coq/Reals/Rdefinitions.v",
            (),
            (
                _p(
                    "Coq.Reals.Rdefinitions.Rle",
                    "Definition Rle (r1 r2:R) : Prop := r1 < r2 \\/ r1 = r2.",
                    1,
                    "definition",
                ),
            ),
        ),
        CorpusFile(
            "Coq/Reals/Rbasic_fun.v",
            ("Coq/Reals/Rdefinitions.v",),
            (
                _p("Coq.Reals.Rbasic_fun.Rabs_pos", "Lemma Rabs_pos : forall x:R, 0 <= Rabs x.", 1),
                _p(
                    "Coq.Reals.Rbasic_fun.Rabs_mult",
                    "Lemma Rabs_mult : forall x y:R, Rabs (x * y) = Rabs x * Rabs y.",
                    2,
                ),
                _p(
                    "Coq.Reals.Rbasic_fun.Rabs_triang",
                    "Lemma Rabs_triang : forall a b:R, Rabs (a + b) <= Rabs a + Rabs b.",
                    3,
                ),
            ),
        ),
        CorpusFile(
            "Coq/Reals/R_sqrt.v",
            ("Coq/Reals/Rbasic_fun.v",),
            (
                _p("Coq.Reals.R_sqrt.sqrt_pos", "Lemma sqrt_pos : forall x : R, 0 <= sqrt x.", 1),
                _p("Coq.Reals.R_sqrt.sqrt_sqrt", "Lemma sqrt_sqrt : forall x:R, 0 <= x -> sqrt x * sqrt x = x.", 2),
                _p(
                    "Coq.Reals.R_sqrt.sqrt_mult",
                    "Lemma sqrt_mult : forall x y:R, 0 <= x -> 0 <= y -> sqrt (x * y) = sqrt x * sqrt y.",
                    3,
                ),
            ),
        ),
        CorpusFile("Coq/Reals/Reals.v", ("Coq/Reals/R_sqrt.v",), ()),
        CorpusFile(
            "Coq/Arith/PeanoNat.v",
            (),
            (
                _p("Coq.Arith.PeanoNat.Nat.add_0_r", "Lemma add_0_r : forall n, n + 0 = n.", 1),
                _p("Coq.Arith.PeanoNat.Nat.sqrt_square", "Lemma sqrt_square : forall a, sqrt (a * a) = a.", 2),
            ),
        ),
    ]
    out = tmp_path / "data"
    out.mkdir()
    Corpus(files).write_jsonl(out / "corpus.jsonl")
    return out


SQRT = """Require Import Reals.
Open Scope R_scope.

Theorem sq : forall x : R, 0 <= x -> sqrt x * sqrt x = x.
Proof.
Admitted.
"""


def test_required_libraries_and_matching():
    text = "(* Require Import Nope. *)\nRequire Import Reals Lra.\nFrom Stdlib Require Import ZArith.\nRequire Import Coq.Arith.PeanoNat Nat.\n"
    assert required_libraries(text) == ["Reals", "Lra", "Coq.ZArith", "Coq.Arith.PeanoNat", "Nat"]
    paths = ["Coq/Reals/Reals.v", "Coq/Reals/R_sqrt.v", "Coq/ZArith/ZArith.v", "Coq/Arith/PeanoNat.v"]
    assert matching_files(["Reals", "Coq.ZArith", "PeanoNat"], paths) == [
        "Coq/Reals/Reals.v",
        "Coq/ZArith/ZArith.v",
        "Coq/Arith/PeanoNat.v",
    ]
    assert state_query("x : R\nH : 0 <= x\n⊢ sqrt x * sqrt x = x").split() == "0 <= sqrt * sqrt =".split()


def test_lookup_returns_relevant_accessible_lemmas(tmp_path):
    data = make_corpus(tmp_path)
    lookup = BM25PremiseLookup.from_path(data, k=3)
    thm = tmp_path / "sq.v"
    thm.write_text(SQRT)
    ref = TheoremRef("sq", file_path=thm)
    state = "x : R\nH : 0 <= x\n⊢ sqrt x * sqrt x = x"
    names = lookup(ref, state)
    assert "Coq.Reals.R_sqrt.sqrt_sqrt" in names[:2] and all(n.startswith("Coq.Reals.") for n in names)
    # only what `Require Import Reals.` loads: not PeanoNat's sqrt_square; no definitions
    ids = lookup.accessible_ids(ref)
    accessible = {lookup.corpus.premises[int(i)].full_name for i in ids}
    assert "Coq.Reals.Rbasic_fun.Rabs_pos" in accessible
    assert "Coq.Arith.PeanoNat.Nat.sqrt_square" not in accessible
    assert "Coq.Reals.Rdefinitions.Rle" not in accessible
    assert lookup(ref, "x, y : R\n⊢ Rabs (x * y) = Rabs x * Rabs y")[0] == "Coq.Reals.Rbasic_fun.Rabs_mult"
    # a file loading nothing the corpus knows: everything is accessible
    other = TheoremRef("t", statement="Theorem t : True.", header="Require Import Unknown.")
    assert len(lookup.accessible_ids(other)) == 8  # the lemma-like premises: no definition


class _WithoutSqrtFacts(ActionGenerator):
    """The action space less its square-root facts, which prove this goal on their own
    (`pose proof (sqrt_sqrt x ...)`, then `psatz`): here the retrieved lemma must do it."""

    def sqrt_facts(self, g: GoalShape) -> list[str]:
        return []


def test_search_applies_a_retrieved_lemma(tmp_path):
    """`apply sqrt_sqrt`, retrieved: the closers (lra, nra, field, auto) do not finish this goal."""
    lookup = BM25PremiseLookup.from_path(make_corpus(tmp_path))
    thm = tmp_path / "sq.v"
    thm.write_text(SQRT)
    ref = TheoremRef("sq", file_path=thm)
    env = CoqEnvironment(additional_imports=make_generator("actions").required_imports)
    try:
        st = env.start(ref)
        st = env.run_tactic(st, "intros")
        for closer in ("lra", "nra", "field", "auto with *"):
            assert not isinstance(env.run_tactic(st, closer, timeout=5), ProofFinished), closer
        cfg = SearchConfig(theorem_timeout=25, tactic_timeout=1.0)
        res = BestFirstSearch(_WithoutSqrtFacts(), cfg, premises=lookup).search(env, ref)
        assert res.status == SearchStatus.PROVED, res
        assert any("Coq.Reals.R_sqrt.sqrt_sqrt" in t for t in res.proof or []), res.proof
        assert env.verify(ref, res.proof or []).verified
    finally:
        env.close()


def test_job_config_records_premises(tmp_path):
    assert "premises" not in JobConfig().results_config()
    cfg = JobConfig(premises=str(tmp_path / "corpus.jsonl"))
    assert cfg.results_config()["premises"] == str(tmp_path / "corpus.jsonl")


@pytest.mark.parametrize("bad", ["missing", "dir_without_corpus"])
def test_prove_validates_premises_path(tmp_path, bad, capsys):
    from proofsmith.cli.main import main

    bench = tmp_path / "b.v"
    bench.write_text(SQRT)
    target = tmp_path / bad
    if bad == "dir_without_corpus":
        target.mkdir()
    rc = main(["prove", str(bench), "--out", str(tmp_path / "r.jsonl"), "--premises", str(target)])
    assert rc != 0
    out = capsys.readouterr()
    assert "--premises" in out.out + out.err
    assert not (tmp_path / "r.jsonl").exists()


def test_dense_lookup_scores_by_the_encoder_among_accessible_premises(tmp_path):
    """`--premises INDEX_DIR` (a `proofsmith index` output): the learned retriever inside search.
    Same accessibility rule as BM25; the ranking is the encoder's cosine (checked against a direct
    computation); `build_lookup` picks the kind from the path."""
    import numpy as np

    from proofsmith.prover.premise_lookup import DensePremiseLookup, build_lookup, is_dense_index
    from proofsmith.retrieval.corpus import PremiseCorpus
    from proofsmith.retrieval.dense import DenseRetriever
    from proofsmith.retrieval.encoder import Encoder, SmallEncoderConfig, build_small_encoder

    data = make_corpus(tmp_path)
    corpus = PremiseCorpus.from_jsonl(data / "corpus.jsonl")
    tiny = SmallEncoderConfig(
        vocab_size=300, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, max_len=48
    )
    enc_dir = build_small_encoder(corpus.texts * 4, tmp_path / "enc", tiny)
    index_dir = tmp_path / "index"
    DenseRetriever.build(Encoder(enc_dir, device="cpu"), corpus).save(index_dir, data / "corpus.jsonl")
    assert is_dense_index(index_dir) and not is_dense_index(data)
    lookup = build_lookup(index_dir, k=3)
    assert isinstance(lookup, DensePremiseLookup)
    assert isinstance(build_lookup(data), BM25PremiseLookup)

    thm = tmp_path / "sq.v"
    thm.write_text(SQRT)
    ref = TheoremRef("sq", file_path=thm)
    state = "x : R\nH : 0 <= x\n⊢ sqrt x * sqrt x = x"
    got = lookup.retrieve(ref, state)
    ids = lookup.accessible_ids(ref)
    q = lookup.retriever.encoder.embed([state_query(state)], queries=True)[0]
    cos = lookup.retriever.index.embeddings[ids] @ q
    want = [lookup.corpus.premises[int(ids[i])].full_name for i in np.argsort(-cos, kind="stable")[:3]]
    assert [n for n, _ in got] == want
    accessible = {lookup.corpus.premises[int(i)].full_name for i in ids}
    assert "Coq.Arith.PeanoNat.Nat.sqrt_square" not in accessible and all(n in accessible for n in want)


def test_a_library_theorem_sees_its_own_file_up_to_its_statement(tmp_path):
    """ReProver's accessibility for a theorem of a corpus file (the real R_sqrt.v of Coq's stdlib):
    the premises of what the file imports and its own premises that end before the statement, the
    latter named relative to the file, which is replayed, not loaded."""
    from proofsmith.envs.coq.libraries import coqlib
    from proofsmith.prover.premise_lookup import corpus_file

    lookup = BM25PremiseLookup.from_path(make_corpus(tmp_path), k=8)
    source = Path(coqlib()) / "theories" / "Reals" / "R_sqrt.v"
    # the corpus's premises of R_sqrt.v sit on lines 1-3 (`make_corpus`); sqrt_mult starts line 3
    ref = TheoremRef("sqrt_mult", file_path=source, position=(3, 1))
    assert corpus_file(ref, lookup.corpus.ranges) == "Coq/Reals/R_sqrt.v"
    accessible = {lookup.corpus.premises[int(i)].full_name for i in lookup.accessible_ids(ref)}
    assert {"Coq.Reals.R_sqrt.sqrt_pos", "Coq.Reals.R_sqrt.sqrt_sqrt", "Coq.Reals.Rbasic_fun.Rabs_pos"} <= accessible
    assert "Coq.Reals.R_sqrt.sqrt_mult" not in accessible  # itself (and anything later in the file)
    assert "Coq.Arith.PeanoNat.Nat.add_0_r" not in accessible  # R_sqrt.v does not import it
    names = lookup(ref, "x : R\nH : 0 <= x\n⊢ sqrt x * sqrt x = x")
    assert names[0] == "sqrt_sqrt" and "Coq.Reals.Rbasic_fun.Rabs_pos" not in names[:1]
    early = TheoremRef("sqrt_pos", file_path=source, position=(1, 1))
    assert not {"Coq.Reals.R_sqrt.sqrt_pos", "Coq.Reals.R_sqrt.sqrt_sqrt"} & {
        lookup.corpus.premises[int(i)].full_name for i in lookup.accessible_ids(early)
    }


def test_the_query_spells_its_notations_out():
    assert spelled_notations("H : m < n\nm + p < n + p") == "H : m < n\nm + p < n + p lt add plus"
    assert spelled_notations("(- x) * y >= 0 /\\ x <> 0").endswith(" sub minus opp mul mult ge le and neq")
    assert spelled_notations("forall n, P n") == "forall n, P n"  # no notation, nothing added
    assert spelled_notations("a->b") == "a->b"  # `->` is no notation of a lemma's name


def test_a_lemma_stated_by_its_function_names_is_found_from_the_notation(tmp_path):
    """`n + m = m + n` shares no token with `Nat.add n m = Nat.add m n`; the spelled-out `+` finds it."""
    files = [
        CorpusFile(
            "Coq/Init/Nat.v",
            (),
            (
                _p("Coq.Init.Nat.mul_comm", "Lemma mul_comm : forall n m : nat, Nat.mul n m = Nat.mul m n.", 1),
                _p("Coq.Init.Nat.add_comm", "Lemma add_comm : forall n m : nat, Nat.add n m = Nat.add m n.", 2),
                # more documents: BM25's idf is 0 for a word in half of a two-document corpus
                _p("Coq.Init.Nat.le_refl", "Lemma le_refl : forall n : nat, Nat.le n n.", 3),
                _p("Coq.Init.Nat.pred_succ", "Lemma pred_succ : forall n : nat, Nat.pred (S n) = n.", 4),
                _p(
                    "Coq.Init.Nat.double_S",
                    "Lemma double_S : forall n : nat, Nat.double (S n) = S (S (Nat.double n)).",
                    5,
                ),
            ),
        )
    ]
    Corpus(files).write_jsonl(tmp_path / "corpus.jsonl")
    lookup = BM25PremiseLookup.from_path(tmp_path / "corpus.jsonl", k=2)
    ref = TheoremRef("t", statement="Theorem t : forall n m : nat, n + m = m + n.", header="")
    assert lookup(ref, "n, m : nat\n⊢ n + m = m + n")[0] == "Coq.Init.Nat.add_comm"
    assert lookup(ref, "n, m : nat\n⊢ n * m = m * n")[0] == "Coq.Init.Nat.mul_comm"
