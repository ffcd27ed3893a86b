"""k-NN prefixes of compound library tactics in real search (issue 15): a neighbour's one-sentence
proof fails on the new goal, its first step still applies, and the search finishes with other steps."""

from __future__ import annotations

from pathlib import Path

import pytest

from proofsmith.envs.base import TheoremRef
from proofsmith.envs.coq import CoqEnvironment
from proofsmith.prover.generators.knn import KNNConfig, KNNTacticGenerator
from proofsmith.prover.search import BestFirstSearch, SearchConfig
from proofsmith.prover.status import SearchStatus

PAIRS = [
    # The library proved a conjunction of two reflexivities in one sentence...
    {"state": "⊢ 0 = 0 /\\ 1 = 1", "tactic": "split; reflexivity."},
    # ...and a commuted sum with lia.
    {"state": "m, n : nat\n⊢ m + n = n + m", "tactic": "lia."},
    {"state": "⊢ forall m n : nat, m + n = n + m", "tactic": "intros."},
    {"state": "⊢ (0 :: nil) = (0 :: nil)", "tactic": "reflexivity."},
]


@pytest.fixture(scope="module")
def env():
    e = CoqEnvironment()
    yield e
    e.close()


def _search(env: CoqEnvironment, tmp_path: Path, prefix_weight: float):
    path = tmp_path / "conj.v"
    path.write_text(
        "Require Import Lia List.\nTheorem conj_comm : forall a b : nat, a + b = b + a /\\ (a :: nil) = (a :: nil).\nProof.\nAdmitted.\n"
    )
    knn = KNNTacticGenerator.from_pairs(PAIRS, config=KNNConfig(prefix_weight=prefix_weight))
    cfg = SearchConfig(theorem_timeout=60.0, num_sampled_tactics=8)
    return BestFirstSearch(knn, cfg).search(env, TheoremRef("conj_comm", file_path=path))


def test_knn_prefix_of_a_failed_compound_tactic_opens_a_multi_step_proof(env, tmp_path):
    # `split; reflexivity` fails on `a + b = b + a /\ [a] = [a]`
    # (the left conjunct is not reflexive), nor does lia (a list equation is not arithmetic).
    without = _search(env, tmp_path, 0.0)
    assert without.status != SearchStatus.PROVED
    found = _search(env, tmp_path, 0.25)
    assert found.status == SearchStatus.PROVED, found.message
    assert "split" in [t.rstrip(".") for t in found.proof]
    assert len(found.proof) >= 3  # intros, split, then closers for both conjuncts: verified by search
