"""Pure pieces: tactic filter, theorem source handling, goal parsing, framing."""

from __future__ import annotations

import random

import pytest
from conftest import FIXTURES, replies_of

from proofsmith.envs.base import EnvStartError, TheoremRef
from proofsmith.envs.lean.framing import GarbageError, ResponseReader, encode_request
from proofsmith.envs.lean.goals import parse_goal
from proofsmith.envs.lean.source import load_theorem, parse_axioms, split_header, verify_command
from proofsmith.envs.lean.tactic_filter import check_tactic


@pytest.mark.parametrize(
    "tactic",
    [
        "#eval 1",
        "#exit",
        "#print axioms foo",
        'run_cmd Lean.logInfo "x"',
        "run_tac pure ()",
        "exact (IO.Process.exit 0)",
        "simp [System.FilePath]",
        "set_option debug.skipKernelTC true in simp",
        "sorry",
        "admit",
        "exact sorryAx _",
        "all_goals sorry",
        "rfl\ntheorem evil : False := sorry",
        "rfl\naxiom evil : False",
        "rfl /- unterminated",
        'trace "oops',
        "",
        "   ",
    ],
)
def test_lean_filter_refuses(tactic):
    assert check_tactic(tactic) is not None


@pytest.mark.parametrize(
    "tactic",
    [
        "simp",
        "exact h1.left",
        "rw [Nat.add_comm]",
        "have: true := by\n    apply ?succ\n    trivial",
        "induction x with\n| zero => rfl\n| succ n ih => simp",
        'trace "sorry and #eval"',
        "rfl -- sorry later",
        "set_option maxHeartbeats 400000 in simp",
        "open Classical in exact em p",
        "exact #[1, 2].size_pos",
        "exact stop_lemma",
        "exact h'",
    ],
)
def test_lean_filter_allows(tactic):
    assert check_tactic(tactic) is None


def test_lean_filter_sorry_allowed_on_request():
    assert check_tactic("sorry", allow_sorry=True) is None
    assert check_tactic("#exit", allow_sorry=True) is not None


def test_lean_file_theorem_context_namespace_and_docstring(tmp_path):
    src = tmp_path / "A.lean"
    src.write_text(
        "/- header comment -/\nimport Mathlib\nimport Aesop\n\nopen Nat\n\nnamespace Foo\n\n"
        "theorem before : 1 = 1 := rfl\n\n/-- The doc. -/\ntheorem bar (n : Nat) : n + 0 = n := by\n  simp\n\n"
        "theorem after : 2 = 2 := rfl\n\nend Foo\n",
        encoding="utf-8",
    )
    t = load_theorem(TheoremRef.from_file(src, "Foo.bar", backend="lean"))
    assert t.context == (
        "/- header comment -/\nimport Mathlib\nimport Aesop",
        "open Nat\n\nnamespace Foo\n\ntheorem before : 1 = 1 := rfl",
    )
    assert t.start_command == "/-- The doc. -/\ntheorem bar (n : Nat) : n + 0 = n := by sorry"
    assert t.decl_name == "bar"
    text, name = verify_command(t, ["intro", "simp [Nat.add_zero]"])
    assert text == "/-- The doc. -/\ntheorem bar (n : Nat) : n + 0 = n := by\n  intro\n  simp [Nat.add_zero]"
    with pytest.raises(EnvStartError, match="not found"):
        load_theorem(TheoremRef.from_file(src, "Foo.baz", backend="lean"))


def test_lean_statement_forms_and_example_renaming():
    plain = load_theorem(TheoremRef.from_statement("theorem t (a : Nat) (h : a = (1 : Nat)) : a = 1", name="t"))
    assert plain.start_command == "theorem t (a : Nat) (h : a = (1 : Nat)) : a = 1 := by sorry"
    ex = load_theorem(TheoremRef.from_statement("example : 2 = 2 := by\n  rfl", name="ex"))
    assert ex.start_command == "example : 2 = 2 := by sorry" and ex.decl_name is None
    text, name = verify_command(ex, ["rfl"])
    assert text == f"theorem {name} : 2 = 2 := by rfl" and name.startswith("proofsmith_verify_")
    assert split_header("import Mathlib\nimport Aesop\nset_option maxHeartbeats 400000\nopen Real") == (
        "import Mathlib\nimport Aesop",
        "set_option maxHeartbeats 400000\nopen Real",
    )


def test_lean_parse_axioms_both_forms_spec_only():
    assert parse_axioms("'foo' does not depend on any axioms") == ()
    assert parse_axioms("'foo' depends on axioms: [propext, Classical.choice, Quot.sound]") == (
        "propext",
        "Classical.choice",
        "Quot.sound",
    )
    assert parse_axioms("'foo' depends on axioms: [propext,\n sorryAx]") == ("propext", "sorryAx")
    assert parse_axioms("foo : 1 = 1") is None


def test_lean_goal_parsing_round_trips_every_recorded_goal():
    seen = 0
    for path in FIXTURES.glob("*.expected.out"):
        for reply in replies_of(path.name[: -len(".expected.out")]):
            goals = list(reply.get("goals", [])) if isinstance(reply.get("goals"), list) else []
            goals += [s["goal"] for s in reply.get("sorries", [])]
            for g in goals:
                parsed = parse_goal(g)
                assert parsed.pp == g
                assert "⊢" not in "".join(parsed.hypotheses)
                seen += 1
    assert seen > 80


def test_lean_request_encoding_is_one_line_then_blank():
    b = encode_request({"cmd": "theorem a : 1 = 1 := by\n  rfl", "env": 3})
    assert b == b'{"cmd": "theorem a : 1 = 1 := by\\n  rfl", "env": 3}\n\n'
    assert encode_request({"cmd": "◾"}) == '{"cmd": "◾"}\n\n'.encode()  # not \\u-escaped


def test_lean_reader_survives_arbitrary_chunking_of_recorded_output():
    data = (FIXTURES / "pickle_open_scoped.expected.out").read_bytes() + (FIXTURES / "calc.expected.out").read_bytes()
    expected = replies_of("pickle_open_scoped") + replies_of("calc")
    rng = random.Random(7)
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(data)), 25))
        chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)])]
        feed = iter(chunks)
        reader = ResponseReader()
        assert [reader.read(lambda _d: next(feed), None) for _ in expected]  # noqa: B023 == expected


def test_lean_reader_rejects_garbage():
    reader = ResponseReader()
    with pytest.raises(GarbageError):
        reader.read(lambda _d: b"uncaught exception: Could not parse JSON\n\n", None)
