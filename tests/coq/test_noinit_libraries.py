"""HoTT and UniMath in the corpus (issue 16): libraries compiled with their own Coq flags (`-noinit
-indices-matter`, and `-type-in-type` for UniMath). The package list names the flags (`coq_flags`), the
tracer passes them and records them with each theorem, and the environment and the verifier pass them
again when a traced theorem is started or re-checked. Real Coq and the installed Debian packages
throughout: one small file of each library is traced with the corpus machinery."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from proofsmith.dataset.packages import (
    DEFAULT_PACKAGE_LIST,
    PackageListError,
    coq_flags_of,
    load_package_list,
)
from proofsmith.dataset.schema import TheoremRecord
from proofsmith.envs.base import ProofFinished, TacticState, TheoremRef
from proofsmith.envs.coq import CoqEnvironment
from proofsmith.envs.coq.corpus import CorpusOptions, build_corpus, package_file
from proofsmith.envs.coq.flags import CoqFlagsError, check_coq_flags
from proofsmith.envs.coq.libraries import coqlib
from proofsmith.envs.coq.source import StartFailure, TheoremStartError, coq_project_flags, locate
from proofsmith.envs.coq.verify import parse_print_assumptions, verify_theorem
from proofsmith.prover.benchmark import BenchTheorem, load_split

USER_CONTRIB = Path(coqlib()) / "user-contrib"
HOTT_FLAGS = ("-noinit", "-indices-matter")
UNIMATH_FLAGS = ("-noinit", "-indices-matter", "-type-in-type")
# two small files (about a second each to trace): HoTT's contractible types, UniMath's double negation
HOTT_FILE = "HoTT.Basics.Contractible"
UNIMATH_FILE = "UniMath.MoreFoundations.DoubleNegation"


# --------------------------------------------------------------------------- the package list
def _write(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "list.toml"
    p.write_text(body, encoding="utf-8")
    return p


def test_the_package_list_parses_coq_flags(tmp_path):
    lst = _write(
        tmp_path,
        '[packages.libcoq-x]\nversion = "1"\nroots = ["X"]\ncoq_flags = ["-noinit", "-indices-matter"]\n\n'
        '[packages.libcoq-y]\nversion = "1"\nroots = ["Y"]\n',
    )
    x, y = load_package_list(lst)
    assert x.coq_flags == HOTT_FLAGS and y.coq_flags == ()
    assert coq_flags_of("X.Sub.File", lst) == HOTT_FLAGS and coq_flags_of("Y.File", lst) == ()
    assert coq_flags_of("XY.File", lst) == ()  # a root is a whole dotted prefix


@pytest.mark.parametrize(
    "value, message",
    [
        ('"-noinit"', "must be a list of flags"),
        ('["-load-vernac-source", "evil.v"]', "'-load-vernac-source' is not an accepted Coq flag"),
        ('["-noinit", "-noinit"]', "-noinit is given twice"),
        ("[1]", "1 is not an accepted Coq flag"),
        ('{ flag = "-noinit" }', "must be a list of flags"),
    ],
)
def test_a_malformed_coq_flags_is_refused(tmp_path, value, message):
    lst = _write(tmp_path, f'[packages.libcoq-x]\nversion = "1"\nroots = ["X"]\ncoq_flags = {value}\n')
    with pytest.raises(PackageListError, match=r"\[packages\.libcoq-x\] coq_flags") as e:
        load_package_list(lst)
    assert message in str(e.value)


def test_hott_and_unimath_are_in_the_committed_list_with_their_flags():
    entries = {e.name: e for e in load_package_list(DEFAULT_PACKAGE_LIST)}
    hott, unimath = entries["libcoq-hott"], entries["libcoq-unimath"]
    assert hott.include and hott.roots == ("HoTT",) and hott.coq_flags == HOTT_FLAGS
    assert unimath.include and unimath.roots == ("UniMath",) and unimath.coq_flags == UNIMATH_FLAGS
    assert [e.name for e in entries.values() if e.coq_flags] == ["libcoq-hott", "libcoq-unimath"]
    assert coq_flags_of("Coq.Init.Logic") == () and coq_flags_of(HOTT_FILE) == HOTT_FLAGS


def test_flags_are_checked_wherever_they_come_from(tmp_path):
    assert check_coq_flags(["-type-in-type"]) == ("-type-in-type",)
    with pytest.raises(CoqFlagsError):
        check_coq_flags(("-I", "/tmp"))
    # a _CoqProject's `-arg` lines: only the accepted flags are flags of the library
    (tmp_path / "_CoqProject").write_text("-R . P\n-arg -noinit\n-arg -w -arg -notation-overridden\n")
    (tmp_path / "A.v").write_text("Lemma a : True.\nProof. exact I. Qed.\n")
    assert coq_project_flags(tmp_path / "A.v") == ("-noinit",)
    # a theorem that carries a flag outside the list is refused before Coq runs, live and in verify
    bad = TheoremRef.from_statement("Theorem t : True.", "t", coq_flags=("-load-vernac-source",))
    with pytest.raises(TheoremStartError) as e:
        locate(bad)
    assert e.value.reason is StartFailure.BAD_FLAGS
    source = dataclasses.replace(locate(TheoremRef.from_statement("Theorem t : True.", "t")), coq_flags=("-I",))
    verdict = verify_theorem(source, ["exact I."])
    assert not verdict.verified and "not an accepted Coq flag" in verdict.reasons[0]


def test_records_carry_their_flags_and_omit_none():
    rec = TheoremRecord(
        "u", "", "HoTT/A.v", "HoTT.A.t", (1, 1), (2, 4), (), "Lemma t : T.", "coq", coq_flags=HOTT_FLAGS
    )
    assert rec.to_json()["coq_flags"] == list(HOTT_FLAGS)
    assert TheoremRecord.from_json(json.loads(json.dumps(rec.to_json()))) == rec
    plain = dataclasses.replace(rec, coq_flags=())
    assert "coq_flags" not in plain.to_json()  # LeanDojo-shaped records stay as they were


def test_an_unsafe_hierarchy_is_never_an_axiom():
    sections, closed = parse_print_assumptions(
        "Axioms:\nUU relies on an unsafe hierarchy.\nfunext : forall A, A\nthm relies on an unsafe hierarchy.\n"
    )
    assert not closed
    assert sections == {
        "Axioms": ["funext"],
        "Constants relying on an unsafe hierarchy": ["UU", "thm"],
    }


# --------------------------------------------------------------------------- traced with the corpus machinery
@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("noinit") / "corpus"
    packages = [package_file("libcoq-hott", HOTT_FILE), package_file("libcoq-unimath", UNIMATH_FILE)]
    assert [p.coq_flags for p in packages] == [HOTT_FLAGS, UNIMATH_FLAGS]
    stats = build_corpus(packages, out, CorpusOptions(workers=1, progress=False))
    assert stats["files_failed"] == 0, stats
    return out


def _theorems(corpus: Path) -> dict[str, tuple[BenchTheorem, TheoremRecord]]:
    from proofsmith.dataset.loading import read_split

    out = {}
    for part in ("train", "val", "test"):
        path = corpus / "random" / f"{part}.json"
        for thm, rec in zip(load_split(corpus, f"random/{part}"), read_split(path)):
            out[rec.full_name] = (thm, rec)
    return out


def test_both_files_trace_with_their_flags(corpus):
    stats = json.loads((corpus / "trace_stats.json").read_text())
    for name in ("libcoq-hott", "libcoq-unimath"):
        package = json.loads((corpus / "packages" / name / "package.json").read_text())
        assert package["stats"]["failures"] == 0, name
        assert package["stats"]["traced_theorems"] >= 4 and package["stats"]["traced_tactics"] >= 10, name
        assert package["source"]["coq_flags"] == list(HOTT_FLAGS if name == "libcoq-hott" else UNIMATH_FLAGS)
    assert stats["traced_theorems"] >= 8
    theorems = _theorems(corpus)
    hott = [r for _, r in theorems.values() if r.package == "libcoq-hott"]
    unimath = [r for _, r in theorems.values() if r.package == "libcoq-unimath"]
    assert hott and all(r.coq_flags == HOTT_FLAGS and r.file_path == "HoTT/Basics/Contractible.v" for r in hott)
    assert unimath and all(r.coq_flags == UNIMATH_FLAGS for r in unimath)
    # the load_split refs carry the traced flags
    assert all(t.ref.coq_flags == r.coq_flags for t, r in theorems.values())
    basedpaths = theorems["HoTT.Basics.Contractible.contr_basedpaths"][1]
    assert [t.tactic for t in basedpaths.traced_tactics] == ["exists (x ; 1).", "intros [y p]; apply path_basedpaths."]


@pytest.fixture(scope="module")
def env():
    with CoqEnvironment(tactic_timeout=20) as e:
        yield e


def test_a_traced_hott_theorem_starts_runs_its_first_tactic_and_verifies(corpus, env):
    thm, rec = _theorems(corpus)["HoTT.Basics.Contractible.contr_basedpaths"]
    first = rec.traced_tactics[0]
    s0 = env.start(thm.ref)
    assert s0.pp == first.state_before == "X : Type\nx : X\n⊢ Contr {y : X & x = y}"
    s1 = env.run_tactic(s0, first.tactic)
    assert isinstance(s1, TacticState) and s1.pp == first.state_after
    done = env.run_tactic(s1, rec.traced_tactics[1].tactic)
    assert isinstance(done, ProofFinished)
    verdict = env.verify(thm.ref, done.proof)  # coqc -noinit -indices-matter, then the audit
    assert verdict.verified and "closed under the global context" in verdict.reasons[0], verdict.reasons
    wrong = env.verify(thm.ref, [first.tactic, "exact (fun _ => idpath)."])
    assert not wrong.verified and wrong.reasons[0].startswith("coqc rejected")


def test_without_its_flags_the_hott_file_does_not_load(corpus, env):
    """The flags are what makes it work: without `-noinit`, Coq's prelude clashes with HoTT's."""
    thm, _ = _theorems(corpus)["HoTT.Basics.Contractible.contr_basedpaths"]
    # no flags on the ref: they are found from the package list (an installed library's file) ...
    assert locate(dataclasses.replace(thm.ref, coq_flags=())).coq_flags == HOTT_FLAGS
    source = dataclasses.replace(locate(thm.ref), coq_flags=())
    # ... and a source without them fails in coqc
    verdict = verify_theorem(source, ["exists (x ; 1).", "intros [y p]; apply path_basedpaths."])
    assert not verdict.verified and verdict.reasons[0].startswith("coqc rejected")


def test_states_of_a_hott_theorem_survive_a_start_without_flags(corpus, env):
    """A theorem with other flags (or load paths) restarts coqidetop; a state of the earlier one still runs."""
    thm, rec = _theorems(corpus)["HoTT.Basics.Contractible.path_basedpaths"]
    s0 = env.start(thm.ref)
    other = env.start(TheoremRef.from_statement("Theorem plain : 1 + 1 = 2.", "plain"))
    assert isinstance(env.run_tactic(other, "reflexivity."), ProofFinished)
    assert isinstance(env.run_tactic(s0, rec.traced_tactics[0].tactic), ProofFinished)


def test_a_traced_unimath_theorem_starts_but_no_proof_passes_the_audit(corpus, env):
    """UniMath is compiled with `-type-in-type`: its theorems start as traced, but every proof relies on an
    unsafe (inconsistent) universe hierarchy, and the audit says so."""
    thm, rec = _theorems(corpus)["UniMath.MoreFoundations.DoubleNegation.dneg_decidable"]
    first = rec.traced_tactics[0]
    s0 = env.start(thm.ref)
    assert s0.pp == first.state_before
    s1 = env.run_tactic(s0, first.tactic)
    assert isinstance(s1, TacticState) and s1.pp == first.state_after
    verdict = env.verify(thm.ref, [t.tactic for t in rec.traced_tactics])
    assert not verdict.verified
    assert any("relying on an unsafe hierarchy" in r for r in verdict.reasons), verdict.reasons


def test_the_card_names_the_flags(corpus):
    card = json.loads((corpus / "dataset_card.json").read_text())
    flags = {p["name"]: p["coq_flags"] for p in card["packages"]}
    assert flags == {"libcoq-hott": list(HOTT_FLAGS), "libcoq-unimath": list(UNIMATH_FLAGS)}
    assert "- libcoq-hott: `-noinit -indices-matter`" in (corpus / "DATASET.md").read_text()


NOINIT_PROJECT = """\
Require Import Coq.Init.Ltac.
Inductive eq {A : Type} (x : A) : forall _ : A, Prop := refl : eq x x.
(* at level 50: Coq's prelude has `_ = _` at level 70, so this file only compiles with -noinit *)
Notation "x = y" := (eq x y) (at level 50).
Inductive nat : Set := O | S (n : nat).
Lemma refl_nat : forall n : nat, n = n.
Proof. intros n. exact (refl n). Qed.
"""


def test_a_project_with_noinit_in_its_coqproject_is_built_traced_started_and_verified(tmp_path):
    """`proofsmith trace` of a project whose `_CoqProject` says `-arg -noinit`: compiled, traced, started and
    re-checked with it."""
    from proofsmith.envs.coq.build import discover
    from proofsmith.envs.coq.trace import TraceOptions, trace_sources

    src = tmp_path / "proj"
    src.mkdir()
    (src / "_CoqProject").write_text("-R . NoInit\n-arg -noinit\n-arg -w -arg -notation-overridden\n")
    (src / "Own.v").write_text(NOINIT_PROJECT)
    tree = discover(src)
    assert tree.coq_flags == ("-noinit",)
    stats = trace_sources([tree], tmp_path / "out", TraceOptions(workers=1, progress=False, num_eval=0))
    assert stats["files_failed"] == 0 and stats["traced_theorems"] == 1 and stats["failures"] == 0, stats
    (thm,) = load_split(tmp_path / "out", "random/train")
    assert thm.ref.coq_flags == ("-noinit",)
    with CoqEnvironment(tactic_timeout=20) as env:
        s0 = env.start(thm.ref)
        assert s0.pp == "⊢ forall n : nat, n = n"
        done = env.run_tactic(s0, "intros n; exact (refl n).")
        assert isinstance(done, ProofFinished)
        assert env.verify(thm.ref, done.proof).verified


def test_libraries_loaded_under_noinit_do_not_import_the_prelude(corpus):
    """Premise-only corpus lines (libraries loaded, not traced): HoTT's Overture does not import Coq's prelude."""
    lines = [json.loads(line) for line in (corpus / "corpus.jsonl").read_text().splitlines()]
    imports = {line["path"]: line["imports"] for line in lines}
    assert "Coq/Init/Prelude.v" not in imports["HoTT/Basics/Overture.v"]
    assert "Coq/Init/Prelude.v" not in imports["HoTT/Basics/Contractible.v"]  # the traced file
