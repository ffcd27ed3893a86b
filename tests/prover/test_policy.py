"""The learned portfolio policy (prover/policy.py): fit on attempt logs, re-rank and drop candidates,
save/load, the `rerank:` spec, and a real search that it makes cheaper."""

from __future__ import annotations

from pathlib import Path

import pytest

from proofsmith.envs.base import TheoremRef
from proofsmith.prover.generators.automation import AutomationGenerator
from proofsmith.prover.generators.factory import GeneratorSpecError, check_spec, make_generator
from proofsmith.prover.policy import (
    AttemptRecord,
    PolicyConfig,
    PortfolioPolicy,
    RerankedGenerator,
    attempts_from_rows,
)
from proofsmith.prover.search import BestFirstSearch, SearchConfig
from proofsmith.prover.status import is_timeout

SPIN = "intros; let rec spin x := spin x in spin 0"  # never ends: always a timeout

LINEAR = [
    "⊢ forall a b : R, a < b -> a + 3 < b + 4",
    "⊢ forall x y : R, x <= y -> 2 * x <= 2 * y + 1",
    "⊢ forall u v w : R, u < v -> v < w -> u < w + 1",
    "⊢ forall p q : R, p + q = 3 -> p - q = 1 -> p = 2",
    "⊢ forall s t : R, s <= t -> s - 1 < t",
    "⊢ forall m n : R, 0 < m -> m + n > n",
    "⊢ forall x : R, x + x = 2 * x",
    "⊢ forall a c : R, a < c -> a / 2 < c / 2 + 1",
]
NONLINEAR_NAT = [
    "⊢ forall n m : nat, n * m = m * n",
    "⊢ forall a b : nat, a * (b + 1) = a * b + a",
    "⊢ forall n : nat, n * n >= 0",
    "⊢ forall x y : nat, x <= y -> x * x <= y * y",
    "⊢ forall k : nat, k * (k + 1) >= k * k",
    "⊢ forall a b c : nat, a * (b * c) = (a * b) * c",
]


def synthetic_log() -> list[AttemptRecord]:
    """lra proves the linear real goals fast; nia (and the spinning tactic) time out on them;
    on non-linear nat goals nia proves and lra fails fast."""
    recs = []
    for s in LINEAR:
        recs += [
            AttemptRecord(s, "intros; lra", "proof", 0.08),
            AttemptRecord(s, "intros; nia", "error", 5.0, timed_out=True),
            AttemptRecord(s, SPIN, "error", 5.0, timed_out=True),
            AttemptRecord(s, "intros", "state", 0.01),
        ]
    for s in NONLINEAR_NAT:
        recs += [
            AttemptRecord(s, "intros; lra", "error", 0.05),
            AttemptRecord(s, "intros; nia", "proof", 0.4),
            AttemptRecord(s, "intros", "state", 0.01),
        ]
    return recs


@pytest.fixture(scope="module")
def policy() -> PortfolioPolicy:
    return PortfolioPolicy.fit(synthetic_log())


NEW_LINEAR = "⊢ forall x y : R, x < y -> x + 1 < y + 2"
NEW_NAT = "⊢ forall i j : nat, i * j + i = i * (j + 1)"


def test_ranks_lra_first_and_drops_nia_on_a_linear_real_goal(policy):
    cands = [("intros; nia", 0.0), ("intros; lra", -0.7), ("intros", -1.1)]
    ranked = policy.rerank(NEW_LINEAR, cands, 10)
    tactics = [t for t, _ in ranked]
    assert tactics[0] == "intros; lra"
    assert "intros; nia" not in tactics  # hopeless and slow: dropped
    preds = {p.tactic: p for p in policy.predict(NEW_LINEAR, [c for c, _ in cands])}
    assert preds["intros; nia"].dropped and preds["intros; nia"].p_success < 0.1
    assert preds["intros; lra"].p_success > 0.8 and preds["intros; lra"].seconds < 1.0
    # scores are log-probabilities over the kept candidates
    assert all(s <= 0 for _, s in ranked)
    assert abs(sum(__import__("math").exp(s) for _, s in ranked) - 1.0) < 1e-6


def test_neighbours_decide_nia_on_a_nonlinear_nat_goal(policy):
    preds = {p.tactic: p for p in policy.predict(NEW_NAT, ["intros; lra", "intros; nia"])}
    assert preds["intros; nia"].p_success > 0.5 > preds["intros; lra"].p_success
    assert not preds["intros; nia"].dropped  # it works here: kept
    # by success alone (no time term) nia goes first; with it, lra's fast failure may go first
    ranked = policy.with_config(time_weight=0.0).rerank(NEW_NAT, [("intros; lra", 0.0), ("intros; nia", -0.7)], 10)
    assert [t for t, _ in ranked] == ["intros; nia", "intros; lra"]


def test_unknown_tactics_keep_the_inner_order_and_no_drop_without_evidence(policy):
    ranked = policy.rerank(NEW_LINEAR, [("field", -0.1), ("ring", -0.5), ("easy", -0.9)], 10)
    assert [t for t, _ in ranked] == ["field", "ring", "easy"]
    empty = PortfolioPolicy.fit([])
    cands = [("nia", 0.0), ("lra", -1.0)]
    assert [t for t, _ in empty.rerank(NEW_LINEAR, cands, 10)] == ["nia", "lra"]


def test_time_weight_zero_ranks_by_success_only():
    recs = []
    for s in LINEAR:
        recs += [AttemptRecord(s, "slow_sure", "proof", 4.0), AttemptRecord(s, "fast_maybe", "proof", 0.05)]
        recs += [AttemptRecord(s, "fast_maybe", "error", 0.05)]
    pol = PortfolioPolicy.fit(recs)
    cands = [("slow_sure", 0.0), ("fast_maybe", 0.0)]
    assert pol.rerank(NEW_LINEAR, cands, 5)[0][0] == "fast_maybe"  # p/t: 0.5/0.05 beats 0.9/4
    assert pol.with_config(time_weight=0.0).rerank(NEW_LINEAR, cands, 5)[0][0] == "slow_sure"


def test_save_load_round_trip_gives_the_same_scores(policy, tmp_path):
    cfg_policy = policy.with_config(drop_below=0.05)
    cfg_policy.save(tmp_path / "pol")
    assert {p.name for p in (tmp_path / "pol").iterdir()} == {"policy.json", "tfidf.json", "arrays.npz"}
    loaded = PortfolioPolicy.load(tmp_path / "pol")
    assert loaded.config == cfg_policy.config
    cands = [("intros; nia", 0.0), ("intros; lra", -0.7), ("intros", -1.1), ("field", -2.0)]
    for state in (NEW_LINEAR, NEW_NAT):
        a, b = loaded.rerank(state, cands, 10), cfg_policy.rerank(state, cands, 10)
        assert [t for t, _ in a] == [t for t, _ in b]
        assert [s for _, s in a] == pytest.approx([s for _, s in b], abs=1e-9)


def test_attempts_from_search_tree_rows():
    row = {
        "tree": {
            "nodes": [{"id": 0, "pp": "⊢ 1 = 1", "score": 0.0}],
            "attempts": [
                {"parent": 0, "tactic": "nia", "outcome": "error", "message": "Timeout! did not finish", "seconds": 5},
                {"parent": 0, "tactic": "hammer", "outcome": "crash", "message": "exceeded its limit", "seconds": 7},
                {"parent": 0, "tactic": "lra", "outcome": "proof", "message": "", "seconds": 0.1},
            ],
        }
    }
    recs = attempts_from_rows([row, {"status": "proved"}])
    assert [(r.tactic, r.timed_out, r.success) for r in recs] == [
        ("nia", True, False),
        ("hammer", True, False),
        ("lra", False, True),
    ]
    assert not is_timeout("error", "Error: lra failed")
    assert is_timeout("error", "CoqHammer bug: please report: Control.Timeout")
    assert is_timeout("crash", "coqidetop did not answer within its 3.8s limit; process killed")


def test_spec_validates(policy, tmp_path):
    with pytest.raises(GeneratorSpecError, match="no such directory") as e:
        check_spec(f"rerank:{tmp_path / 'missing'}:auto")
    assert "\n" not in str(e.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(GeneratorSpecError, match="not a fitted portfolio policy"):
        check_spec(f"rerank:{tmp_path / 'empty'}")
    with pytest.raises(GeneratorSpecError, match="needs a policy"):
        check_spec("rerank:")
    policy.save(tmp_path / "pol")
    with pytest.raises(GeneratorSpecError, match="unknown generator"):
        check_spec(f"rerank:{tmp_path / 'pol'}:nope")
    assert check_spec(f"rerank:{tmp_path / 'pol'}") == f"rerank:{(tmp_path / 'pol').resolve()}:auto"
    gen = make_generator(f"rerank:{tmp_path / 'pol'}:auto")
    assert isinstance(gen, RerankedGenerator) and isinstance(gen.inner, AutomationGenerator)
    assert gen.required_imports == gen.inner.required_imports
    assert check_spec(f"ensemble:auto+rerank:{tmp_path / 'pol'}:auto").startswith("ensemble:auto+rerank:/")


def test_reranked_search_proves_with_fewer_calls_and_less_time(policy):
    from proofsmith.envs.coq import CoqEnvironment

    thm = TheoremRef.from_statement(
        "Theorem lin : forall x y : R, x < y -> x + 1 < y + 2.",
        "lin",
        header="Require Import Reals Lra Psatz. Open Scope R_scope.",
    )
    # The inner order puts a tactic that spins first and lra last.
    inner = AutomationGenerator(closers=("let rec spin x := spin x in spin 0", "nia", "lra"), steps=())
    cfg = SearchConfig(theorem_timeout=30, tactic_timeout=1.0, keep_tree=True)
    with CoqEnvironment(tactic_timeout=1.0) as env:
        plain = BestFirstSearch(inner, cfg).search(env, thm)
        reranked = BestFirstSearch(RerankedGenerator(inner, policy), cfg).search(env, thm)
    assert plain.status == "proved" and reranked.status == "proved"
    assert plain.env_calls == 3 and reranked.env_calls == 1
    assert [a["tactic"] for a in reranked.tree["attempts"]] == ["intros; lra"]
    assert reranked.env_seconds < plain.env_seconds - 0.5  # the plain search waited out the spin's 1 s limit


def test_spin_helper_matches_generator_text():
    # the synthetic log's spinning tactic is exactly what AutomationGenerator proposes after intros
    gen = AutomationGenerator(closers=("let rec spin x := spin x in spin 0",), steps=())
    assert gen.generate(NEW_LINEAR, [], 5)[0][0] == SPIN


def test_policy_config_from_dict_ignores_unknown_keys():
    cfg = PolicyConfig.from_dict({"neighbours": "8", "drop_below": 0.1, "future_option": 1})
    assert cfg.neighbours == 8 and cfg.drop_below == 0.1


def test_fit_from_results_files(tmp_path: Path):
    import json

    row = {
        "key": "k",
        "status": "proved",
        "tree": {
            "nodes": [{"id": 0, "pp": LINEAR[0], "score": 0.0}],
            "attempts": [{"parent": 0, "tactic": "intros; lra", "outcome": "proof", "message": "", "seconds": 0.1}],
        },
    }
    f = tmp_path / "r.jsonl"
    f.write_text(json.dumps(row) + "\n")
    from proofsmith.prover.policy import read_attempts

    pol = PortfolioPolicy.fit(read_attempts([f]))
    assert pol.tactics == ["intros; lra"] and pol.tactic_table()[0]["proof_rate"] == 1.0
