"""IsabelleEnvironment through the real client against the fake server in scenario mode.

The fake answers `use_theories` with the recorded reply messages (keys, kinds, framing from the
`use_theories`/`use_theories.Fail` transcripts); which steps succeed is the scenario's choice.
The `print_state` writeln text and the `FAILED ... Interrupt` after a cancel are not in the
recordings: tests relying on them say `spec_only`.
"""

from __future__ import annotations

import pytest
from contract import ContractCase, check_environment_contract
from isabelle_fakes import read_log

from proofsmith.envs.base import (
    EnvCrashError,
    EnvTimeoutError,
    ProofFinished,
    ProofGivenUp,
    TacticError,
    TacticRefused,
    TacticState,
    TheoremRef,
)

STATEMENT = 'lemma conj_swap: "A \\<and> B \\<Longrightarrow> B \\<and> A"'
S0 = "proof (prove)\ngoal (1 subgoal):\n 1. A \\<and> B \\<Longrightarrow> B \\<and> A"
S_CONJI = (
    "proof (prove)\ngoal (2 subgoals):\n 1. A \\<and> B \\<Longrightarrow> B\n 2. A \\<and> B \\<Longrightarrow> A"
)
S_NONE = "proof (prove)\ngoal:\nNo subgoals!"
S_CONJE = "proof (prove)\ngoal (1 subgoal):\n 1. \\<lbrakk>A; B\\<rbrakk> \\<Longrightarrow> B \\<and> A"
FAILED_FINISH = "Failed to finish proof\\<^here>:\ngoal (1 subgoal):\n 1. A \\<and> B \\<Longrightarrow> B"

SCENARIO = {
    "statement": STATEMENT,
    "rules": [
        {"steps": [], "outcome": "state", "state": S0},
        {
            "steps": ["apply (rule foo)"],
            "outcome": "error",
            "error": {"message": 'Undefined fact: "foo"\\<^here>', "span": [12, 15]},
        },
        {"steps": ["by simp"], "outcome": "error", "error": {"message": FAILED_FINISH, "span": [0, 2]}},
        {"steps": ["apply (erule conjE)"], "outcome": "state", "state": S_CONJE},
        {"steps": ["apply (rule conjI)"], "outcome": "state", "state": S_CONJI},
        {"steps": ["apply (rule conjI)", "apply blast+"], "outcome": "state", "state": S_NONE},
        {"steps": ["apply (rule conjI)", "apply blast+", "done"], "outcome": "ok"},
        {"steps": ["sorry"], "outcome": "ok"},
        {"steps": ["apply (slow_method)"], "outcome": "hang", "cancel": "interrupt"},
        {"steps": ["apply (stuck_method)"], "outcome": "hang", "cancel": "ignore"},
        {"steps": ["apply (crash_method)"], "outcome": "crash"},
        {"steps": ["apply (garbage_method)"], "outcome": "garbage"},
    ],
}
THEOREM = TheoremRef.from_statement(STATEMENT + "\n  sorry", "conj_swap", header="imports Main", backend="isabelle")
PATH = ("apply (rule conjI)", "apply blast+", "done")


def test_isabelle_environment_contract(scenario_env, tmp_path):
    env = scenario_env(SCENARIO)
    finished = check_environment_contract(env, ContractCase(THEOREM, "apply (rule foo)", "apply (erule conjE)", PATH))
    assert finished.proof == PATH
    log = read_log(tmp_path)
    uses = [e["argument"] for e in log if e["command"] == "use_theories"]
    assert uses and all(u["watchdog_timeout"] == env.config.watchdog_timeout for u in uses)
    assert len({u["theories"][0] for u in uses}) == len(uses)  # a fresh theory name per check
    purged = [e["argument"]["theories"][0] for e in log if e["command"] == "purge_theories"]
    assert purged == [u["theories"][0] for u in uses]


def test_isabelle_start_state_and_goals_spec_only(scenario_env):
    env = scenario_env(SCENARIO)
    s0 = env.start(THEOREM)
    assert s0.pp == S0 and s0.num_goals == 1
    s1 = env.run_tactic(s0, "apply (rule conjI)")
    assert isinstance(s1, TacticState) and s1.num_goals == 2
    assert s1.goals[1].conclusion == "A \\<and> B \\<Longrightarrow> A"
    s2 = env.run_tactic(s1, "apply blast+")
    assert isinstance(s2, TacticState) and s2.num_goals == 0


def test_isabelle_error_position_is_in_step_characters(scenario_env):
    env = scenario_env(SCENARIO)
    s0 = env.start(THEOREM)
    err = env.run_tactic(s0, "apply (rule foo)")
    assert isinstance(err, TacticError) and err.message.startswith("Undefined fact")
    assert err.pos == (12, 15) and "apply (rule foo)"[12:15] == "foo"
    failed = env.run_tactic(s0, "by simp")  # closes the lemma: checked without print_state
    assert isinstance(failed, TacticError) and failed.pos == (0, 2)
    assert failed.message.startswith("Failed to finish proof")


@pytest.mark.parametrize(
    "step",
    [
        'ML \\<open>error "x"\\<close>',
        'ML_file "evil.ML"',
        "declare [[simp_trace]]",
        "axiomatization where x: False",
        "sorry",
        "oops",
        "sledgehammer",
        "by auto\nlemma evil: False",
        "apply (simp (* unclosed",
        "",
    ],
)
def test_isabelle_refuses_non_proof_steps(scenario_env, tmp_path, step):
    env = scenario_env(SCENARIO)
    s0 = env.start(THEOREM)
    before = len(read_log(tmp_path))
    r = env.run_tactic(s0, step)
    assert isinstance(r, TacticRefused), r
    assert len(read_log(tmp_path)) == before  # nothing reached the server


def test_isabelle_sorry_when_asked_is_given_up(scenario_env):
    env = scenario_env(SCENARIO, allow_sorry=True)
    r = env.run_tactic(env.start(THEOREM), "sorry")
    assert isinstance(r, ProofGivenUp)


def test_isabelle_verify_rejects_sorry_and_unclosed_proofs(scenario_env, tmp_path):
    env = scenario_env(SCENARIO)
    assert not env.verify(THEOREM, ["sorry"])
    v = env.verify(THEOREM, ["apply (rule conjI)", "apply blast+"])
    assert not v.verified and "does not close" in v.reasons[0]
    assert not [e for e in read_log(tmp_path) if e["command"] == "use_theories"]
    assert env.verify(THEOREM, list(PATH)).verified


def test_isabelle_timeout_cancel_confirmed_spec_only(scenario_env, tmp_path):
    env = scenario_env(SCENARIO)
    s0 = env.start(THEOREM)
    with pytest.raises(EnvTimeoutError):
        env.run_tactic(s0, "apply (slow_method)", timeout=0.5)
    log = read_log(tmp_path)
    assert any(e["command"] == "cancel" for e in log)
    assert not any(e["command"] == "session_stop" for e in log)  # the cancel worked: session kept
    assert isinstance(env.run_tactic(s0, "apply (rule conjI)"), TacticState)


def test_isabelle_timeout_ignored_cancel_restarts_session(scenario_env, tmp_path):
    env = scenario_env(SCENARIO)
    s0 = env.start(THEOREM)
    with pytest.raises(EnvTimeoutError):
        env.run_tactic(s0, "apply (stuck_method)", timeout=0.5)
    commands = [e["command"] for e in read_log(tmp_path)]
    assert "cancel" in commands and "session_stop" in commands
    assert commands.count("session_start") == 2
    assert isinstance(env.run_tactic(s0, "apply (rule conjI)"), TacticState)


def test_isabelle_server_crash_is_reported_and_restarted(scenario_env):
    env = scenario_env(SCENARIO)
    s0 = env.start(THEOREM)
    pid = env._server.process.pid
    with pytest.raises(EnvCrashError, match="closed the connection"):
        env.run_tactic(s0, "apply (crash_method)")
    assert env._server is not None and env._server.alive and env._server.process.pid != pid
    assert isinstance(env.run_tactic(s0, "apply (rule conjI)"), TacticState)


def test_isabelle_garbage_reply_is_a_crash_error_then_usable(scenario_env):
    env = scenario_env(SCENARIO)
    s0 = env.start(THEOREM)
    with pytest.raises(EnvCrashError, match="garbage"):
        env.run_tactic(s0, "apply (garbage_method)")
    r = env.run_tactic(s0, "apply (rule conjI)")
    assert isinstance(r, TacticState) and r.num_goals == 2


def test_isabelle_lemma_from_theory_file(scenario_env, tmp_path):
    thy = tmp_path / "Scratch.thy"
    thy.write_text(
        'theory Scratch\n  imports Main\nbegin\n\nlemma helper: "True"\n  by simp\n\n' + STATEMENT + "\n  oops\n\nend\n"
    )
    env = scenario_env(SCENARIO, work_dir=str(tmp_path))
    theorem = TheoremRef.from_file(thy, "conj_swap", backend="isabelle")
    s0 = env.start(theorem)
    assert s0.pp == S0
    assert env._task.context.startswith('lemma helper: "True"') and env._task.imports == "imports Main"
    work = list(tmp_path.glob("proofsmith-isabelle-*"))
    assert len(work) == 1 and not list(work[0].glob("*.thy"))  # check theories are removed after use
    r = env.run_tactic(s0, "apply (rule conjI)")
    assert isinstance(r, TacticState)
    assert isinstance(env.run_tactic(env.run_tactic(r, "apply blast+"), "done"), ProofFinished)


def test_isabelle_cli_verify_through_the_fake(tmp_path, capsys, monkeypatch):
    import argparse
    import json
    import shlex
    import sys

    from isabelle_fakes import FAKE, fake_server_config

    from proofsmith.envs.isabelle.cli import add_subcommands

    for k, v in fake_server_config(tmp_path, scenario=SCENARIO).extra_env.items():
        monkeypatch.setenv(k, v)
    thy = tmp_path / "Scratch.thy"
    thy.write_text("theory Scratch\n  imports Main\nbegin\n\n" + STATEMENT + "\n  sorry\n\nend\n")
    parser = argparse.ArgumentParser()
    add_subcommands(parser.add_subparsers(dest="cmd"))
    argv = [
        "isabelle",
        "verify",
        "--file",
        str(thy),
        "--lemma",
        "conj_swap",
        "--isabelle",
        shlex.join([sys.executable, str(FAKE)]),
    ]
    args = parser.parse_args(argv + [x for s in PATH for x in ("--step", s)])
    assert args.func(args) == 0 and json.loads(capsys.readouterr().out)["verified"] is True
    args = parser.parse_args(argv + ["--step", "sorry"])
    assert args.func(args) == 1 and "sorry" in json.loads(capsys.readouterr().out)["reasons"][0]
