"""Best-first search on real Coq with scripted generators."""

import pytest

from proofsmith.envs.base import ProofFinished, TacticError, TheoremRef
from proofsmith.envs.coq import CoqEnvironment
from proofsmith.prover.generators import AutomationGenerator, EnsembleGenerator
from proofsmith.prover.generators.factory import make_generator
from proofsmith.prover.search import BestFirstSearch, Frontier, SearchConfig, best_of_n, tactic_key
from proofsmith.prover.status import is_timeout

THM = TheoremRef.from_statement(
    "Theorem s3 : forall a b : nat, a = b -> b + 0 = a.", "s3", header="Require Import Arith."
)


class Scripted:
    """Proposes tactics by the state's text: a map from a substring of pp to candidates."""

    def __init__(self, table, default=()):
        self.table, self.default, self.calls = table, list(default), []

    def generate(self, state_pp, premises, num):
        self.calls.append(state_pp)
        for key, cands in self.table.items():
            if key in state_pp:
                return cands[:num]
        return self.default[:num]

    def generate_batch(self, states, premises, num):
        return [self.generate(s, p, num) for s, p in zip(states, premises)]


@pytest.fixture(scope="module")
def env():
    with CoqEnvironment(tactic_timeout=5) as e:
        yield e


def test_search_finds_three_step_proof_best_first(env):
    gen = Scripted(
        {
            "⊢ forall a b": [("intros a b H.", -0.1), ("idtac.", -0.05)],
            "H : a = b\n⊢ b + 0 = a": [("rewrite Nat.add_0_r.", -0.2), ("apply nope.", -0.01)],
            "⊢ b = a": [("symmetry.", -0.3), ("exact H.", -5.0)],
            "⊢ a = b": [("exact H.", -0.1)],
        }
    )
    result = BestFirstSearch(gen, SearchConfig(theorem_timeout=60, keep_tree=True)).search(env, THM)
    assert result.status == "proved"
    assert result.proof == ["intros a b H.", "rewrite Nat.add_0_r.", "symmetry.", "exact H."]
    outcomes = [a["outcome"] for a in result.tree["attempts"]]
    assert "error" in outcomes and "duplicate" in outcomes  # apply nope; idtac gives the same pp
    assert result.verify_reasons and result.env_calls == len(outcomes)


def test_tactic_frontier_follows_the_likely_step_down_before_unlikely_siblings(env):
    """The root offers one likely step and slow, unlikely closers. NODE runs every root candidate
    before looking at the child; TACTIC runs the child's likely candidate first and never reaches
    the slow closers."""
    slow = [(f"idtac; do 3000000 idtac; fail {i}.", -6.0 - i) for i in range(3)]
    table = {"⊢ forall a b": [("intros a b H.", -0.1), *slow], "H : a = b": [("rewrite Nat.add_0_r; auto.", -0.1)]}
    runs = {}
    for frontier in Frontier:
        cfg = SearchConfig(theorem_timeout=60, tactic_timeout=1, keep_tree=True, frontier=frontier)
        result = BestFirstSearch(Scripted(table), cfg).search(env, THM)
        assert result.status == "proved" and result.proof == ["intros a b H.", "rewrite Nat.add_0_r; auto."], frontier
        # In order of first attempt: on a loaded machine an interrupted slow closer can take its
        # coqidetop down, and the search runs it once more on the respawned one (a second attempt).
        runs[frontier] = list(dict.fromkeys(a["tactic"] for a in result.tree["attempts"]))
    assert runs[Frontier.TACTIC] == ["intros a b H.", "rewrite Nat.add_0_r; auto."]
    assert runs[Frontier.NODE] == ["intros a b H.", *(t for t, _ in slow), "rewrite Nat.add_0_r; auto."]
    assert SearchConfig(frontier="tactic").frontier is Frontier.TACTIC  # JSON configs give strings


def test_search_respects_expansion_budget_and_dedupes_cycles(env):
    gen = Scripted({}, default=[("idtac.", -0.1), ("intros.", -0.2), ("revert a b.", -0.3)])
    result = BestFirstSearch(gen, SearchConfig(max_expansions=3, theorem_timeout=60, keep_tree=True)).search(env, THM)
    assert result.status == "failed" and result.expansions <= 3
    pps = [n["pp"] for n in result.tree["nodes"]]
    assert len(pps) == len(set(pps))  # states deduped by pp: intros/revert cycle back to seen states


def test_search_empty_queue_fails_cleanly(env):
    result = BestFirstSearch(Scripted({}, default=[("apply nope.", -1.0)]), SearchConfig(theorem_timeout=30)).search(
        env, THM
    )
    assert result.status == "failed" and result.message == "search space exhausted" and result.proof is None


class LyingEnv:
    """Reports a finished proof that is not one: search must trust only verify."""

    def __init__(self, inner):
        self.inner = inner

    def start(self, thm):
        return self.inner.start(thm)

    def run_tactic(self, state, tactic, timeout=None):
        if tactic == "cheat.":
            return ProofFinished(10**6, ("exact I.",))
        return self.inner.run_tactic(state, tactic, timeout)

    def verify(self, thm, proof):
        return self.inner.verify(thm, proof)

    def close(self):
        pass


def test_search_never_reports_a_proof_verify_rejects(env):
    gen = Scripted({}, default=[("cheat.", -0.1)])
    result = BestFirstSearch(gen, SearchConfig(theorem_timeout=60, keep_tree=True)).search(LyingEnv(env), THM)
    assert result.status == "failed" and result.proof is None
    assert result.tree["attempts"][0]["outcome"] == "rejected_proof"


def test_search_invalid_statement_is_not_a_failure(env):
    bad = TheoremRef.from_statement("Theorem bad : forall x : undefined_type, x = x.", "bad")
    result = BestFirstSearch(AutomationGenerator(), SearchConfig(theorem_timeout=30)).search(env, bad)
    assert result.status == "invalid_statement" and "undefined_type" in result.message


def test_search_timeout_status(env):
    gen = Scripted({}, default=[(f"do {i} idtac.", -0.1) for i in range(1, 40)])
    result = BestFirstSearch(gen, SearchConfig(theorem_timeout=0.5)).search(env, THM)
    assert result.status in ("timeout", "failed") and result.seconds < 10


def test_automation_and_ensemble_generators_prove():
    with CoqEnvironment() as plain:  # without the generator's imports, its closers are unknown to Coq
        r = plain.run_tactic(plain.start(THM), "intros; lia.")
        assert isinstance(r, TacticError) and "lia" in r.message
    for gen in (
        AutomationGenerator(),
        make_generator("ensemble:auto+auto"),
        EnsembleGenerator([AutomationGenerator()]),
    ):
        with CoqEnvironment(additional_imports=gen.required_imports) as env:  # lia etc. in scope
            r = BestFirstSearch(gen, SearchConfig(theorem_timeout=60)).search(env, THM)
            assert r.status == "proved", r
            assert env.verify(THM, r.proof).verified


def test_best_of_n_whole_proofs():
    gen = AutomationGenerator()
    with CoqEnvironment(additional_imports=gen.required_imports) as env:
        r = best_of_n(env, THM, gen, n=5)
    assert r.status == "proved" and r.proof[0].startswith("intros;")


class CrashOnceEnv(LyingEnv):
    """Kills nothing, but reports a prover crash on the first run of `lia.`, as a killed coqidetop would."""

    crashed = False

    def run_tactic(self, state, tactic, timeout=None):
        if tactic == "lia." and not self.crashed:
            from proofsmith.envs.base import EnvCrashError

            self.crashed = True
            raise EnvCrashError("prover process closed its output (exit status -9)")
        return self.inner.run_tactic(state, tactic, timeout)


def test_search_reruns_a_tactic_whose_prover_crashed_and_does_not_charge_the_budget():
    gen = Scripted({"⊢ forall": [("intros a b H.", -0.1)], "H : a = b": [("lia.", -0.1)]})
    with CoqEnvironment(additional_imports=("From Coq Require Import Lia.",)) as inner:
        result = BestFirstSearch(gen, SearchConfig(theorem_timeout=60, keep_tree=True)).search(CrashOnceEnv(inner), THM)
    outcomes = [(a["tactic"], a["outcome"]) for a in result.tree["attempts"]]
    assert result.status == "proved" and ("lia.", "crash") in outcomes and ("lia.", "proof") in outcomes


def test_search_tells_the_generator_which_theorem_before_it_asks_for_tactics(env):
    """The online k-NN picks the examples a theorem may see in `for_theorem`; the search calls it first."""
    events = []

    class Aware(Scripted):
        def for_theorem(self, theorem):
            events.append(("theorem", theorem.name))

        def generate(self, state_pp, premises, num):
            events.append(("generate", state_pp[:9]))
            return super().generate(state_pp, premises, num)

    gen = Aware({"⊢ forall a b": [("intros a b H; subst; apply Nat.add_0_r.", -0.1)]})
    result = BestFirstSearch(EnsembleGenerator([gen]), SearchConfig(theorem_timeout=60)).search(env, THM)
    assert result.status == "proved"
    assert events[0] == ("theorem", "s3") and events[1][0] == "generate"


SPIN = "let rec spin x := spin x in spin 0."  # never ends: always hits its time limit


def timeouts_with_and_without_penalty(env, gen, frontier, proof) -> tuple[int, int]:
    """Attempts that hit their limit with the timeout penalty at 4 and at 0; both searches find `proof`."""
    counts = []
    for penalty in (4.0, 0.0):
        cfg = SearchConfig(
            theorem_timeout=60, tactic_timeout=1, keep_tree=True, frontier=frontier, timeout_penalty=penalty
        )
        result = BestFirstSearch(gen, cfg).search(env, THM)
        assert result.status == "proved" and result.proof == proof, penalty
        counts.append(sum(is_timeout(a["outcome"], a["message"]) for a in result.tree["attempts"]))
    return counts[0], counts[1]


@pytest.mark.parametrize("frontier", [Frontier.NODE, Frontier.TACTIC])
def test_a_tactic_that_timed_out_on_a_state_is_tried_after_the_others_below_it(env, frontier):
    """The root's `spin` hits its limit; the child proposes it again, ranked above the closer. With the
    timeout penalty the closer runs first (in the tactic frontier the child's `spin` was queued before
    the root's timed out, so it is re-queued lower when popped); without it, `spin` times out twice."""
    gen = Scripted(
        {
            "H : a = b": [(f"intros; {SPIN}", -0.3), ("subst; auto.", -0.5)],
            "⊢ forall a b": [("intros a b H.", -0.1), (SPIN, -0.2)],
        }
    )
    assert timeouts_with_and_without_penalty(env, gen, frontier, ["intros a b H.", "subst; auto."]) == (1, 2)


@pytest.mark.parametrize("frontier", [Frontier.NODE, Frontier.TACTIC])
def test_a_tactic_that_timed_out_on_a_sibling_is_tried_after_the_others(env, frontier):
    """Two ways to introduce give two sibling states; `spin` times out on the first, so on the second
    the closer runs before it."""
    gen = Scripted(
        {
            "H : a = b": [(SPIN, -0.1), ("fail.", -0.2)],
            "E : x = y": [(SPIN, -0.1), ("subst; auto.", -0.5)],
            "⊢ forall a b": [("intros a b H.", -0.1), ("intros x y E.", -0.25)],
        }
    )
    assert timeouts_with_and_without_penalty(env, gen, frontier, ["intros x y E.", "subst; auto."]) == (1, 2)


def test_a_timeout_is_remembered_up_to_spacing_the_period_and_a_leading_intros():
    assert tactic_key("intros;  sauto.") == tactic_key("sauto") == "sauto"
    assert tactic_key("intros. sauto.") != "sauto"


def test_a_reconstruction_times_out_as_one_tactic_whatever_premises_it_uses():
    """Each state retrieves its own premise list: `hauto use:` that timed out with one list is remembered
    for the next; a closer's key for circular proofs keeps the list (one premise makes a proof circular)."""
    from proofsmith.prover.search import closer_key

    assert tactic_key("intros; hauto use: Coq.A.l1, l2'.") == tactic_key("hauto use: l3") == "hauto use: _"
    assert tactic_key("eauto using a, b.c") == "eauto using _"
    assert tactic_key("apply l1") != tactic_key("apply l2")
    assert closer_key("intros; hauto use: l1, l2") == "hauto use: l1, l2"
