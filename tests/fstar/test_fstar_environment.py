"""FStarEnvironment through the real client, against the fake replaying recorded transcripts.

The Integration transcript is an Emacs session pushing one declaration at a time; the
environment's prefix mode sends exactly those queries (same code, lines and columns).
Harness.selfref is the PoPAI checker pattern (push-partial-checked-file + candidate at line 1).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from contract import ContractCase, check_environment_contract
from fstar_fakes import read_log

from proofsmith.envs.base import (
    EnvCrashError,
    EnvTimeoutError,
    ProofFinished,
    TacticError,
    TacticRefused,
    TacticState,
    TheoremRef,
)
from proofsmith.envs.fstar.task import load_task

INTEGRATION = ("Integration.push-pop.in", "Integration.push-pop.ideout.expected")
HARNESS = ("Harness.selfref.in", "Harness.selfref.ideout.expected")


def _theorem(path: Path, name: str) -> TheoremRef:
    return TheoremRef.from_file(path, name, backend="fstar")


def test_fstar_environment_contract(fstar_env, integration_file, tmp_path):
    env = fstar_env(*INTEGRATION)
    case = ContractCase(
        _theorem(integration_file, "y"),
        failing_step="let xx : nat = -1",
        detour="let xx : nat = 2",
        path=("let xx : nat = 1", "let y = assert (xx = 1)"),
    )
    check_environment_contract(env, case)
    pushes = [(e["args"]["code"], e["args"]["line"]) for e in read_log(tmp_path) if e["query"] == "push"]
    assert pushes[:5] == [
        ("module Integration\n", 1),
        ("\nlet xxxxxx = 1\n", 2),
        ("\nlet yyyyyy = xxxxxx\n", 4),
        ("\nlet aaaaaa = yyyyyy\n", 6),
        ("\nlet aaaaaaaaaaaaaaaaaaaaaaaa = yyyyyy\n", 8),
    ]
    assert ("\nlet y = assert (xx = 1)\n", 12) in pushes


def test_fstar_start_state_shows_target_and_type(fstar_env, harness_file):
    env = fstar_env(*HARNESS, use_checked_file=True)
    s0 = env.start(_theorem(harness_file, "always_foo"))
    assert s0.goals[0].conclusion == "always_foo : x : Lemma (foo x)"
    assert s0.goals[0].name == "always_foo"


def test_fstar_harness_candidates_rejected_with_positions(fstar_env, harness_file, tmp_path):
    env = fstar_env(*HARNESS, use_checked_file=True)
    s0 = env.start(_theorem(harness_file, "always_foo"))
    cand = "let always_foo x : Lemma (foo x) = ()"
    r = env.run_tactic(s0, cand)
    assert isinstance(r, TacticError) and r.message.startswith("Error 19:")
    assert r.pos == (35, 37) and cand[35:37] == "()"
    cand2 = "let always_foo x : Lemma (foo x) = Harness.always_foo x"
    r2 = env.run_tactic(s0, cand2)
    assert isinstance(r2, TacticError) and "Error 72" in r2.message and cand2[slice(*r2.pos)] == "Harness"
    log = read_log(tmp_path)
    assert log[0]["query"] == "push-partial-checked-file" and log[0]["args"] == {"until-lid": "Harness.always_foo"}
    assert "--report_assumes" in log[0]["argv"] and log[0]["argv"][:2] == ["--ide", str(harness_file)]
    assert not [e for e in log if e["query"] == "pop"]  # failed pushes are rolled back by F*, never popped


def test_fstar_error_position_in_prefix_mode(fstar_env, integration_file):
    env = fstar_env(*INTEGRATION)
    s0 = env.start(_theorem(integration_file, "y"))
    r = env.run_tactic(s0, "let xx : nat = -1")
    assert isinstance(r, TacticError) and "Subtyping check failed" in r.message
    assert "let xx : nat = -1"[slice(*r.pos)] == "-1"


def test_fstar_success_pops_and_helper_state_is_kept(fstar_env, integration_file, tmp_path):
    env = fstar_env(*INTEGRATION)
    s0 = env.start(_theorem(integration_file, "y"))
    s1 = env.run_tactic(s0, "let xx : nat = 1")
    assert isinstance(s1, TacticState) and s1.goals[0].hypotheses == ("let xx : nat = 1",) and s1 != s0
    done = env.run_tactic(s1, "let y = assert (xx = 1)")
    assert isinstance(done, ProofFinished) and done.proof == ("let xx : nat = 1", "let y = assert (xx = 1)")
    queries = [e["query"] for e in read_log(tmp_path)]
    assert queries[-1] == "pop"  # the finished candidate is popped: s1 stays usable
    pushes_before = len([q for q in queries if q == "push"])
    again = env.run_tactic(s1, "let y = assert (xx = 2)")  # s1 is still on the stack: no replay needed
    assert isinstance(again, TacticError) and "xx = 2" in again.message
    assert len([e for e in read_log(tmp_path) if e["query"] == "push"]) == pushes_before + 1


@pytest.mark.parametrize(
    "cand",
    [
        "let y = admit ()",
        "let y = assume False",
        '#set-options "--lax"',
        "[@@expect_failure]\nlet y = assert False",
        "module Other",
        'let y = FStar.IO.print_string "x"',
        "new_effect X = STATE",
        "assert False",
        "",
    ],
)
def test_fstar_refuses_unsafe_candidates(fstar_env, integration_file, tmp_path, cand):
    env = fstar_env(*INTEGRATION)
    s0 = env.start(_theorem(integration_file, "y"))
    before = len(read_log(tmp_path))
    assert isinstance(env.run_tactic(s0, cand), TacticRefused)
    assert len(read_log(tmp_path)) == before


def test_fstar_verify_rechecks_in_a_fresh_process(fstar_env, integration_file):
    env = fstar_env(*INTEGRATION)
    theorem = _theorem(integration_file, "y")
    env.start(theorem)
    good = env.verify(theorem, ["let xx : nat = 1", "let y = assert (xx = 1)"])
    assert good.verified, good.reasons
    assert not env.verify(theorem, ["let xx : nat = 1"]).verified  # never defines y
    assert not env.verify(theorem, ["let y = admit ()"]).verified
    bad = env.verify(theorem, ["let xx : nat = -1", "let y = assert (xx = 1)"])
    assert not bad.verified and "Subtyping" in bad.reasons[0]


def test_fstar_hang_kills_process_group_and_restores(fstar_env, integration_file, tmp_path):
    env = fstar_env(*INTEGRATION, faults=[{"code_contains": "slow", "fault": "hang"}])
    s0 = env.start(_theorem(integration_file, "y"))
    s1 = env.run_tactic(s0, "let xx : nat = 1")
    pid = env._session.process.pid
    t0 = time.monotonic()
    with pytest.raises(EnvTimeoutError):
        env.run_tactic(s1, "let y = slow ()", timeout=0.5)
    assert time.monotonic() - t0 < 8
    z3 = int((tmp_path / "z3.pid").read_text())
    time.sleep(0.1)
    assert not Path(f"/proc/{z3}").exists() or "zombie" in Path(f"/proc/{z3}/status").read_text().lower()
    assert env._session is not None and env._session.alive and env._session.process.pid != pid
    assert env._stack == list(env._states[s1.id])  # restarted and replayed to s1
    assert isinstance(env.run_tactic(s1, "let y = assert (xx = 1)"), ProofFinished)


def test_fstar_hang_interrupted_by_sigint_keeps_process(fstar_env, integration_file):
    env = fstar_env(*INTEGRATION, faults=[{"code_contains": "slow", "fault": "hang-interruptible"}])
    s0 = env.start(_theorem(integration_file, "y"))
    pid = env._session.process.pid
    with pytest.raises(EnvTimeoutError, match="interrupted"):
        env.run_tactic(s0, "let xx : nat = slow ()", timeout=0.5)
    assert env._session.process.pid == pid
    assert isinstance(env.run_tactic(s0, "let xx : nat = 1"), TacticState)


def test_fstar_crash_is_reported_and_restarted(fstar_env, integration_file):
    env = fstar_env(*INTEGRATION, faults=[{"code_contains": "boom", "fault": "crash"}])
    s0 = env.start(_theorem(integration_file, "y"))
    with pytest.raises(EnvCrashError, match="segmentation fault"):
        env.run_tactic(s0, "let xx : nat = boom")
    assert isinstance(env.run_tactic(s0, "let xx : nat = -1"), TacticError)


def test_fstar_garbage_output_is_a_crash_then_usable(fstar_env, integration_file):
    env = fstar_env(*INTEGRATION, faults=[{"code_contains": "junk", "fault": "garbage"}])
    s0 = env.start(_theorem(integration_file, "y"))
    with pytest.raises(EnvCrashError, match="malformed JSON"):
        env.run_tactic(s0, "let xx : nat = junk")
    assert isinstance(env.run_tactic(s0, "let xx : nat = 1"), TacticState)


def test_fstar_debug_lines_are_skipped_spec_only(fstar_env, integration_file):
    env = fstar_env(*INTEGRATION, faults=[{"code_contains": "xx : nat = 1", "fault": "debug"}])
    s0 = env.start(_theorem(integration_file, "y"))
    assert isinstance(env.run_tactic(s0, "let xx : nat = 1"), TacticState)
    assert "Z3 says hello" in env._session.debug_lines


def test_fstar_statement_task_writes_module_file_spec_only(tmp_path):
    theorem = TheoremRef.from_statement(
        "val double : nat -> nat", "double", header="module Scratch\nopen FStar.Mul", backend="fstar"
    )
    task = load_task(theorem, scratch_dir=str(tmp_path))
    assert task.file == tmp_path / "Scratch.fst" and task.file.read_text().startswith("module Scratch")
    assert task.expected_type == "nat -> nat" and task.qualified == "Scratch.double"
    assert [f.line for f in task.prefix] == [1, 2, 3] and task.next_line == 5


def test_fstar_module_name_must_match_file(tmp_path):
    bad = tmp_path / "Wrong.fst"
    bad.write_text("module Right\nlet x = 1\n")
    from proofsmith.envs.base import EnvStartError

    with pytest.raises(EnvStartError, match="does not match"):
        load_task(_theorem(bad, "x"))


def test_fstar_cli_verify_through_the_fake(integration_file, tmp_path, capsys):
    import argparse
    import json as _json
    import shlex

    from fstar_fakes import FAKE_CMD, fake_env_vars

    from proofsmith.envs.fstar.cli import add_subcommands

    os.environ.update(fake_env_vars(tmp_path, *INTEGRATION))
    try:
        parser = argparse.ArgumentParser()
        add_subcommands(parser.add_subparsers(dest="cmd"))
        args = parser.parse_args(
            [
                "fstar",
                "verify",
                "--file",
                str(integration_file),
                "--name",
                "y",
                "--candidate",
                "let xx : nat = 1",
                "--candidate",
                "let y = assert (xx = 1)",
                "--fstar",
                shlex.join(FAKE_CMD),
            ]
        )
        assert args.func(args) == 0
        assert _json.loads(capsys.readouterr().out)["verified"] is True
    finally:
        for k in fake_env_vars(tmp_path, *INTEGRATION):
            os.environ.pop(k, None)
