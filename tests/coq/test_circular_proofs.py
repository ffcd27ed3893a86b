"""A library theorem may not be proved with its own library's compiled copy (`envs.coq.circularity`).

Started from its traced position, `Zmod_le` of the stdlib's Zdiv.v is replayed, not loaded; but the
automation's imports (`From Coq Require Import ZArith`) load the compiled `Coq.ZArith.Zdiv`, so
`exact Coq.ZArith.Zdiv.Zmod_le` closes the goal and coqc accepts it. The verifier refuses it; the
library's own proof idea (`Z.mod_le`, from another file) is accepted. Real Coq throughout."""

from __future__ import annotations

from pathlib import Path

import pytest

from proofsmith.envs.base import ProofFinished, TheoremRef
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
    assert isinstance(env.run_tactic(root, circular[0]), ProofFinished)  # Coq itself accepts it
    verdict = env.verify(ref, circular)
    assert not verdict.verified and "circular" in verdict.reasons[0] and "Coq.ZArith.Zdiv.Zmod_le" in verdict.reasons[0]
    # a later lemma of the same file, by a short name the import made visible: caught in Coq
    later = ["intros; pose proof (Zmod_mod a b) as Hm; apply Z.mod_le; auto."]
    assert circular_reference(later[0], "Zmod_le", (), "Coq.ZArith.Zdiv") is None
    assert isinstance(env.run_tactic(root, later[0]), ProofFinished)
    verdict = env.verify(ref, later)
    assert not verdict.verified and "Coq.ZArith.Zdiv.Zmod_mod" in verdict.reasons[0], verdict.reasons
    honest = ["intros; apply Z.mod_le; auto."]
    assert isinstance(env.run_tactic(root, honest[0]), ProofFinished)
    assert env.verify(ref, honest).verified


def test_dependency_names_and_later_declarations():
    from proofsmith.envs.coq.circularity import dependency_names, later_declarations
    from proofsmith.envs.coq.source import locate

    printed = "Transparent constants:\nZ.add : Z -> Z -> Z\nOpaque constants:\nNat.A'A_left : forall (A : nat -> Prop)\n  (z : nat), A z\n"
    assert dependency_names(printed) == ["Z.add", "Nat.A'A_left"]
    source = locate(TheoremRef("Zmod_le", file_path=ZDIV, position=(310, 1)))
    later = later_declarations(source)
    assert {"Zmod_le", "Zmod_mod", "Zplus_mod"} <= later and "Z_mod_lt" not in later  # Z_mod_lt comes earlier
