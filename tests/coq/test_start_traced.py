"""Starting traced theorems where they are: inside functor bodies and modules, after `Include`s and
notations that use functor output, declared by `Definition`/`Instance`, by traced position or by
qualified name (issue 16, item 4). Real stdlib files and small files written here, on real Coq."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from proofsmith.envs.base import EnvStartError, ProofFinished, TacticState, TheoremRef
from proofsmith.envs.coq import CoqEnvironment
from proofsmith.envs.coq.source import StartFailure, TheoremStartError, locate
from proofsmith.prover.benchmark import load_split

THEORIES = Path("/usr/lib/ocaml/coq/theories")

FUNCTOR_FILE = textwrap.dedent(
    """\
    Require Import Coq.Classes.RelationClasses.

    Module Type Sig.
      Parameter t : Type.
      Parameter le : t -> t -> Prop.
      Axiom refl : forall x, le x x.
    End Sig.

    Module Type Props (Import S : Sig).
      Lemma le_twice : forall x, le x x /\\ le x x.
      Proof. intros x. split; apply refl. Qed.
      #[global]
      Instance le_inst : Reflexive le.
      Proof. exact refl. Qed.
    End Props.

    Module NatS <: Sig.
      Definition t := nat.
      Definition le := @eq nat.
      Lemma refl : forall x, le x x.
      Proof. reflexivity. Qed.
    End NatS.

    Module NatP.
      Include NatS <+ Props.
      Notation twice_alias := le_twice (only parsing).
    End NatP.

    Module NatQ.
      Lemma le_twice : forall x : nat, x = x.
      Proof. intros x; exact (proj1 (NatP.twice_alias x)). Qed.
    End NatQ.

    Definition uses_include (n : nat) : NatP.le n n.
    Proof. exact (NatP.refl n). Qed.
    """
)


@pytest.fixture(scope="module")
def env():
    with CoqEnvironment(tactic_timeout=10) as e:
        yield e


@pytest.fixture()
def functor_file(tmp_path: Path) -> Path:
    p = tmp_path / "Functors.v"
    p.write_text(FUNCTOR_FILE, encoding="utf-8")
    return p


def _line_of(path: Path, needle: str, nth: int = 0) -> int:
    lines = [i + 1 for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()) if needle in line]
    return lines[nth]


def test_same_name_in_functor_body_and_module_picked_by_position(env, functor_file):
    body = TheoremRef.from_file(functor_file, "le_twice", position=(_line_of(functor_file, "Lemma le_twice", 0), 3))
    inst = TheoremRef.from_file(functor_file, "le_twice", position=(_line_of(functor_file, "Lemma le_twice", 1), 3))
    assert locate(body).open_blocks == (("Module Type", "Props"),)
    assert locate(inst).open_blocks == (("Module", "NatQ"),)
    s_body = env.start(body)
    s_inst = env.start(inst)
    assert s_body.pp == "⊢ forall x : t, le x x /\\ le x x"  # inside the functor: its parameters
    assert s_inst.pp == "⊢ forall x : nat, x = x"  # after `Include` and the notation on its output
    # the lemma in the functor body can be proved there, with the functor's parameter S
    done = env.run_tactic(s_body, "intros x; split; apply refl.")
    assert isinstance(done, ProofFinished)


def test_qualified_name_picks_the_module_without_position(functor_file):
    assert locate(TheoremRef.from_file(functor_file, "Functors.NatQ.le_twice")).module_path == ("NatQ",)
    assert locate(TheoremRef.from_file(functor_file, "Functors.Props.le_twice")).module_path == ("Props",)
    assert locate(TheoremRef.from_file(functor_file, "le_twice")).module_path == ("Props",)  # first one


def test_after_notation_on_functor_output_and_verify(env, functor_file):
    ref = TheoremRef.from_file(functor_file, "uses_include")  # a `Definition` that opens a proof
    s0 = env.start(ref)
    assert s0.pp == "n : nat\n⊢ NatP.le n n"
    assert isinstance(env.run_tactic(s0, "exact (NatQ.le_twice n)."), ProofFinished)
    assert env.verify(ref, ["exact (NatQ.le_twice n)."]).verified
    inst = env.start(TheoremRef.from_file(functor_file, "Functors.Props.le_inst"))  # `#[global] Instance`
    assert inst.pp == "⊢ Reflexive le"


def test_position_of_another_declaration_falls_back_to_the_name(env, functor_file):
    # a stale position (the file changed since it was traced) still finds the name
    ref = TheoremRef.from_file(functor_file, "uses_include", position=(1, 1))
    assert locate(ref).statement.text.startswith("Definition uses_include")
    missing = TheoremRef.from_file(functor_file, "no_such_lemma", position=(3, 1))
    with pytest.raises(TheoremStartError) as e:
        env.start(missing)
    assert e.value.reason is StartFailure.NOT_FOUND and "line 3" in str(e.value)
    assert isinstance(e.value, EnvStartError)


def test_failures_say_why(env, tmp_path):
    p = tmp_path / "Broken.v"
    p.write_text(
        "Definition ok := 1.\nRequire Import Coq.NoSuchLibrary.\n"
        "Lemma after : 1 = 1.\nProof. reflexivity. Qed.\n"
        "Lemma bad_statement : 1 = true.\nProof. Admitted.\n",
        encoding="utf-8",
    )
    with pytest.raises(TheoremStartError) as e:
        env.start(TheoremRef.from_file(p, "after"))
    assert e.value.reason is StartFailure.CONTEXT_FAILED and "NoSuchLibrary" in str(e.value)
    p.write_text(p.read_text().replace("Require Import Coq.NoSuchLibrary.", ""), encoding="utf-8")
    assert env.start(TheoremRef.from_file(p, "after")).pp == "⊢ 1 = 1"
    with pytest.raises(TheoremStartError) as e:
        env.start(TheoremRef.from_file(p, "bad_statement"))
    assert e.value.reason is StartFailure.STATEMENT_FAILED


def test_peano_nat_definitions_in_module_nat(env):
    """The issue's examples: `Definition ... : T.` proofs inside `Module Nat` of PeanoNat, after its
    `Include NBasicProp <+ UsualMinMaxLogicalProperties <+ ...`."""
    path = THEORIES / "Arith" / "PeanoNat.v"
    for name, goal in [
        ("Coq.Arith.PeanoNat.Nat.Even_Even_add", "Even n -> Even m -> Even (n + m)"),
        ("Coq.Arith.PeanoNat.Nat.div2_Odd", "S (div2 n) = div2 (S n) -> Odd n"),
    ]:
        ref = TheoremRef.from_file(path, name)
        assert locate(ref).module_path == ("Nat",)
        state = env.start(ref)
        assert isinstance(state, TacticState) and state.goals[0].conclusion == goal
    s = env.start(TheoremRef.from_file(path, "pow_0_r", position=(_line_of(path, "Lemma pow_0_r"), 1)))
    assert s.pp == "a : nat\n⊢ a ^ 0 = 1"  # a field of the included functors, restated in Nat


def test_same_definition_name_in_several_modules(env):
    path = THEORIES / "Structures" / "OrderedTypeEx.v"
    nat = TheoremRef.from_file(path, "compare", position=(_line_of(path, "Definition compare x y", 0), 3))
    z = TheoremRef.from_file(path, "compare", position=(_line_of(path, "Definition compare x y", 1), 3))
    assert locate(nat).module_path == ("Nat_as_OT",) and locate(z).module_path == ("Z_as_OT",)
    assert locate(TheoremRef.from_file(path, "Coq.Structures.OrderedTypeEx.Z_as_OT.compare")).index == locate(z).index
    assert env.start(nat).pp == "x, y : nat\n⊢ Compare lt eq x y"
    assert env.start(z).pp == "x, y : Z\n⊢ Compare lt eq x y"


def test_after_zgcd_notation_in_znumtheory(env):
    """`Notation Zgcd_is_pos := Z.gcd_nonneg (only parsing).`, then the theorems after it, start at their
    traced position (without `additional_imports`: see docs/benchmarks.md for the case with them)."""
    path = THEORIES / "ZArith" / "Znumtheory.v"
    ref = TheoremRef.from_file(path, "Zis_gcd_gcd", position=(_line_of(path, "Theorem Zis_gcd_gcd"), 1))
    assert _line_of(path, "Notation Zgcd_is_pos") < ref.position[0]  # type: ignore[index]
    state = env.start(ref)
    assert state.pp == "⊢ forall a b c : Z, 0 <= c -> Zis_gcd a b c -> Z.gcd a b = c"


def test_load_split_passes_the_traced_position(tmp_path, functor_file):
    line = _line_of(functor_file, "Lemma le_twice", 1)
    record = {
        "url": f"file://{functor_file.parent}",
        "commit": "",
        "file_path": "Functors.v",
        "full_name": "Functors.NatQ.le_twice",
        "start": [line, 3],
        "end": [line + 1, 60],
        "traced_tactics": [],
        "backend": "coq",
    }
    (tmp_path / "data" / "random").mkdir(parents=True)
    (tmp_path / "data" / "random" / "test.json").write_text(json.dumps([record]), encoding="utf-8")
    (thm,) = load_split(tmp_path / "data", "random/test")
    assert thm.ref.name == "le_twice" and thm.ref.position == (line, 3)
    assert locate(thm.ref).module_path == ("NatQ",)
    assert thm.key.endswith("::le_twice")  # a short name unique in the split keeps its key


def test_load_split_keys_a_short_name_stated_twice_by_its_modules(tmp_path, functor_file):
    """Results files are keyed by theorem: `Props.le_twice` and `NatQ.le_twice` must not share a key
    (one would be skipped on resume as done, or its row read as the other's)."""
    lines = [_line_of(functor_file, "Lemma le_twice", i) for i in (0, 1)]
    records = [
        {
            "url": f"file://{functor_file.parent}",
            "commit": "",
            "file_path": "Functors.v",
            "full_name": f"Functors.{module}.le_twice",
            "start": [line, 3],
            "end": [line + 1, 60],
            "traced_tactics": [],
            "backend": "coq",
        }
        for module, line in zip(("Props", "NatQ"), lines)
    ]
    (tmp_path / "data" / "random").mkdir(parents=True)
    (tmp_path / "data" / "random" / "test.json").write_text(json.dumps(records), encoding="utf-8")
    body, inst = load_split(tmp_path / "data", "random/test")
    assert body.key.endswith("::Props.le_twice") and inst.key.endswith("::NatQ.le_twice")
    assert body.ref.name == inst.ref.name == "le_twice"
    assert locate(body.ref).module_path == ("Props",) and locate(inst.ref).module_path == ("NatQ",)
