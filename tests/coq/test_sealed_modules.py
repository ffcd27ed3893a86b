"""A theorem inside a module with a signature (`Module Nat <: NAxiomsSig <: ...`: all of PeanoNat, BinInt,
BinNat, BinPos) is re-checked in its module without the signature (`declarations.unsealed_module`). The
verifier cuts the file after the theorem and closes the module there, and Coq checks a signature at
`End`: with it, every proof of such a theorem was refused ("The field lt_strorder is missing"), 30 of
the 580 random/test theorems of the math corpus. Real Coq and the installed standard library."""

from __future__ import annotations

from pathlib import Path

from proofsmith.envs.base import TheoremRef
from proofsmith.envs.coq.declarations import unsealed_module
from proofsmith.envs.coq.libraries import coqlib
from proofsmith.envs.coq.source import locate
from proofsmith.envs.coq.verify import verify_theorem

THEORIES = Path(coqlib()) / "theories"
SEALED = """Module Type Sig.
  Parameter t : nat.
  Axiom t_is_zero : t = 0.
End Sig.

Module M <: Sig.
  Definition t := 0.
  Lemma first : t + 0 = t.
  Proof. reflexivity. Qed.
  Lemma t_is_zero : t = 0.
  Proof. reflexivity. Qed.
End M.
"""


def test_the_signature_is_dropped_and_functor_parameters_kept():
    assert unsealed_module("Module Nat <: NAxiomsSig <: UsualDecidableTypeFull <: OrderedTypeFull.") == "Module Nat."
    assert unsealed_module("Module RbaseSymbolsImpl : RbaseSymbolsSig.") == "Module RbaseSymbolsImpl."
    assert unsealed_module("Module Ops (Import I:Int)(X:OrderedType) <: MSetInterface.Ops X.") == (
        "Module Ops (Import I:Int)(X:OrderedType)."
    )
    assert unsealed_module("Module Import M.") == "Module Import M."
    assert unsealed_module("Module Type T <: S.") == "Module Type T."
    assert unsealed_module("Section S.") == "Section S."
    assert unsealed_module("Module M := F X.") == "Module M := F X."  # defines a module, opens nothing


def test_only_the_open_modules_lose_their_signature_in_the_re_check(tmp_path):
    (tmp_path / "sealed.v").write_text(SEALED, encoding="utf-8")
    source = locate(TheoremRef.from_file(tmp_path / "sealed.v", "first"))
    context = source.context_text()
    assert "Module Type Sig." in context and "Module M.\n" in context and "<: Sig" not in context
    verdict = verify_theorem(source, ["reflexivity."])
    assert verdict.verified, verdict.reasons
    assert not verify_theorem(source, ["exact I."]).verified  # still checked: a wrong proof is refused


def test_a_peano_nat_theorem_re_checks_inside_its_sealed_module():
    """`Nat.max_r` (PeanoNat, `Module Nat <: NAxiomsSig ...`) proved from `Peano.max_r`, which precedes it."""
    source = locate(TheoremRef.from_file(THEORIES / "Arith" / "PeanoNat.v", "max_r"))
    assert source.module_path == ("Nat",)
    verdict = verify_theorem(source, ["intros.", "apply Coq.Init.Peano.max_r.", "assumption."], timeout=120)
    assert verdict.verified, verdict.reasons
