"""A library theorem may not be proved with its own library's compiled copy (`envs.coq.circularity`).

Started from its traced position, `Zmod_le` of the stdlib's Zdiv.v is replayed, not loaded; but the
automation's imports (`From Coq Require Import ZArith`) load the compiled `Coq.ZArith.Zdiv`, so
`exact Coq.ZArith.Zdiv.Zmod_le` closes the goal and coqc accepts it. The verifier refuses it; the
library's own proof idea (`Z.mod_le`, from another file) is accepted. Real Coq throughout."""

from __future__ import annotations

from pathlib import Path

import pytest

from proofsmith.envs.base import CircularProof, ProofFinished, TacticError, TheoremRef
from proofsmith.envs.coq import CoqEnvironment
from proofsmith.envs.coq.circularity import circular_reference
from proofsmith.envs.coq.libraries import coqlib, library_name

ZDIV = Path(coqlib()) / "theories" / "ZArith" / "Zdiv.v"


def test_library_name_reads_the_load_paths(tmp_path):
    assert library_name(ZDIV, ()) == "Coq.ZArith.Zdiv"
    assert library_name(Path(coqlib()) / "user-contrib" / "Coquelicot" / "RInt.v", ()) == "Coquelicot.RInt"
    (tmp_path / "sub").mkdir()
    assert library_name(tmp_path / "sub" / "F.v", ((str(tmp_path), "My.Lib"),)) == "My.Lib.sub.F"
    assert library_name(tmp_path / "F.v", ()) is None  # a benchmark statement's file: no library


@pytest.mark.parametrize(
    "proof, found",
    [
        ("exact Coq.ZArith.Zdiv.Zmod_le.", "Coq.ZArith.Zdiv.Zmod_le"),
        ("intros; apply Zmod_le; lia.", "Zmod_le"),
        ("apply Coq.ZArith.Zdiv.Z_mod_lt.", "Coq.ZArith.Zdiv.Z_mod_lt"),  # a later lemma, by full name
        ("intros; apply Z.mod_le; auto.", None),
        ("intros; apply Zmod_le'; auto.", None),  # another name that merely starts the same
        ("apply Coq.ZArith.Zdivisibility.foo.", None),
    ],
)
def test_circular_reference(proof, found):
    assert circular_reference(proof, "Zmod_le", (), "Coq.ZArith.Zdiv") == found


def test_module_qualified_self_reference():
    assert circular_reference("now apply Z.land_spec.", "land_spec", ("Z",), "Coq.ZArith.BinInt") == "Z.land_spec"
    assert circular_reference("now apply N.land_spec.", "land_spec", ("Z",), "Coq.ZArith.BinInt") is None
    assert circular_reference("exact thm.", "thm", (), None) == "thm"


@pytest.fixture(scope="module")
def env():
    with CoqEnvironment(tactic_timeout=20, additional_imports=("From Coq Require Import ZArith Lia.",)) as e:
        yield e


def test_a_proof_by_the_compiled_copy_is_refused(env):
    ref = TheoremRef("Zmod_le", file_path=ZDIV, position=(310, 1))
    root = env.start(ref)
    circular = ["exact Coq.ZArith.Zdiv.Zmod_le."]
    # Coq closes the goal, but the live environment checks the dependencies at its Qed and refuses it
    refused = env.run_tactic(root, circular[0])
    assert isinstance(refused, CircularProof) and "circular" in refused.message, refused
    assert "Coq.ZArith.Zdiv.Zmod_le" in refused.message
    verdict = env.verify(ref, circular)  # the re-check refuses it on its own
    assert not verdict.verified and "circular" in verdict.reasons[0] and "Coq.ZArith.Zdiv.Zmod_le" in verdict.reasons[0]
    # a later lemma of the same file, by a short name the import made visible: caught in Coq
    later = ["intros; pose proof (Zmod_mod a b) as Hm; apply Z.mod_le; auto."]
    assert circular_reference(later[0], "Zmod_le", (), "Coq.ZArith.Zdiv") is None
    refused = env.run_tactic(root, later[0])
    assert isinstance(refused, TacticError) and "Coq.ZArith.Zdiv.Zmod_mod" in refused.message, refused
    verdict = env.verify(ref, later)
    assert not verdict.verified and "Coq.ZArith.Zdiv.Zmod_mod" in verdict.reasons[0], verdict.reasons
    honest = ["intros; apply Z.mod_le; auto."]
    assert isinstance(env.run_tactic(root, honest[0]), ProofFinished)  # the state stays usable after a refusal
    assert env.verify(ref, honest).verified


def test_a_search_spends_no_recheck_on_a_circular_closer(env):
    """A closer that reaches a later lemma of the theorem's own file is refused live, as a failed
    tactic: the search goes on to the honest proof without spending a re-check on it."""
    from proofsmith.prover.search import BestFirstSearch, SearchConfig
    from proofsmith.prover.status import AttemptOutcome

    class Fixed:  # the circular closer first, as a generator's top candidate
        def generate(self, state_pp, premises, num):
            return [("exact Coq.ZArith.Zdiv.Zmod_le.", -0.1), ("intros; apply Z.mod_le; auto.", -1.0)]

        def generate_batch(self, states, premises, num):
            return [self.generate(s, p, num) for s, p in zip(states, premises)]

    ref = TheoremRef("Zmod_le", file_path=ZDIV, position=(310, 1))
    gen = Fixed()
    result = BestFirstSearch(gen, SearchConfig(theorem_timeout=60, keep_tree=True)).search(env, ref)
    assert result.status.value == "proved" and result.proof == ["intros; apply Z.mod_le; auto."], result
    outcomes = [a["outcome"] for a in result.to_json()["tree"]["attempts"]]
    assert AttemptOutcome.REJECTED_PROOF not in outcomes and AttemptOutcome.CIRCULAR in outcomes


def test_dependency_names_and_later_declarations():
    from proofsmith.envs.coq.circularity import dependency_names, later_declarations
    from proofsmith.envs.coq.source import locate

    printed = "Transparent constants:\nZ.add : Z -> Z -> Z\nOpaque constants:\nNat.A'A_left : forall (A : nat -> Prop)\n  (z : nat), A z\n"
    assert dependency_names(printed) == ["Z.add", "Nat.A'A_left"]
    source = locate(TheoremRef("Zmod_le", file_path=ZDIV, position=(310, 1)))
    later = later_declarations(source)
    assert {"Zmod_le", "Zmod_mod", "Zplus_mod"} <= later and "Z_mod_lt" not in later  # Z_mod_lt comes earlier


def test_closer_key_is_the_last_part_outside_brackets():
    from proofsmith.prover.search import closer_key

    assert closer_key("intros; subst; lra.") == "lra"
    assert closer_key("psatz R 2") == "psatz R 2"
    assert closer_key("split; try solve [ lia | nia; lia ]") == "try solve [ lia | nia; lia ]"


@pytest.mark.parametrize("frontier", ["node", "tactic"])
def test_a_closer_refused_as_circular_is_tried_after_the_others(env, frontier):
    """The root's one-sentence proof ends in `assumption` and is refused as circular; below `intros`
    the same closer is proposed first again. With the circular penalty the honest proof runs first;
    without it the circular one is refused twice."""
    from proofsmith.prover.search import BestFirstSearch, SearchConfig
    from proofsmith.prover.status import AttemptOutcome

    circular = "pose proof (Zmod_mod a b) as Hm; apply Z.mod_le; assumption."
    table = {
        "Hb : 0 < b": [(circular, -0.1), ("apply Z.mod_le; auto with zarith.", -0.5)],
        "forall a b": [(f"intros a b Hb Ha; {circular}", -0.1), ("intros a b Hb Ha.", -0.2)],
    }

    class Table:
        def generate(self, state_pp, premises, num):
            return next((c for k, c in table.items() if k in state_pp), [])

        def generate_batch(self, states, premises, num):
            return [self.generate(s, p, num) for s, p in zip(states, premises)]

    ref = TheoremRef("Zmod_le", file_path=ZDIV, position=(310, 1))
    counts = []
    for penalty in (4.0, 0.0):
        cfg = SearchConfig(theorem_timeout=60, keep_tree=True, frontier=frontier, circular_penalty=penalty)
        result = BestFirstSearch(Table(), cfg).search(env, ref)
        assert result.proof == ["intros a b Hb Ha.", "apply Z.mod_le; auto with zarith."], result
        counts.append(sum(a["outcome"] == AttemptOutcome.CIRCULAR for a in result.tree["attempts"]))
    assert counts == [1, 2]
