"""`proofsmith lean-verify`, run through the real CLI parser against the transcript server."""

from __future__ import annotations

import shlex
import sys

from conftest import FAKE_REPL, scenario

from proofsmith.cli.main import main


def fake_cmd(name: str, log) -> str:
    return shlex.join([sys.executable, str(FAKE_REPL), str(scenario(name)), "--log", str(log)])


def test_lean_cli_verify_accepts_spec_only(tmp_path, capsys):
    rc = main(
        [
            "lean-verify",
            "--statement",
            "theorem and_swap (p q : Prop) : p ∧ q → q ∧ p := by sorry",
            "--header",
            "import Lean",
            "--tactic",
            "intro h",
            "--tactic",
            "exact ⟨h.2, h.1⟩",
            "--repl-command",
            fake_cmd("verify_ok", tmp_path / "log"),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0 and out.startswith("VERIFIED") and "axioms: none" in out


def test_lean_cli_verify_rejects_recorded_failure(tmp_path, capsys):
    rc = main(
        [
            "lean-verify",
            "--statement",
            "theorem ex : False := sorry",
            "--tactic",
            "exact ex",
            "--repl-command",
            fake_cmd("self_proof_exact_check", tmp_path / "log"),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 1 and out.startswith("REJECTED") and "fail to show termination" in out


def test_lean_cli_missing_repl_is_a_clear_error(tmp_path, capsys):
    rc = main(
        [
            "lean-verify",
            "--statement",
            "theorem t : 1 = 1 := sorry",
            "--tactic",
            "rfl",
            "--repl-command",
            str(tmp_path / "missing-repl"),
        ]
    )
    assert rc == 2 and "elan" in capsys.readouterr().err
