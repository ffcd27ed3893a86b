"""Crash (EOF mid-reply), hang, garbage and OOM: the right error, then a working client that
replays to the state it needs on a fresh process."""

from __future__ import annotations

import time

import pytest

from proofsmith.envs.base import (
    EnvCrashError,
    EnvTimeoutError,
    ProofFinished,
    ProverNotInstalledError,
    TacticState,
    TheoremRef,
)
from proofsmith.envs.lean import LeanEnvironment, LeanReplConfig, ReplSession
from proofsmith.envs.lean import messages as m

STATEMENT = TheoremRef.from_statement(
    "theorem complex_and (p q r : Prop) (h1 : p ∧ q) (h2 : q → r) : p ∧ r := by sorry",
    name="complex_and",
    backend="lean",
)
PROOF = ["apply And.intro", "exact h1.left", "apply h2", "exact h1.right"]


def finish_after_failure(env: LeanEnvironment, error: type, **run_kw):
    s0 = env.start(STATEMENT)
    s1 = env.run_tactic(s0, PROOF[0])
    with pytest.raises(error) as info:
        env.run_tactic(s1, PROOF[1], **run_kw)  # transcript request 2 is the faulty one
    assert not env.session.process.alive  # killed: its ids are void
    s2 = env.run_tactic(s1, PROOF[1])  # fresh process: replays statement + apply And.intro, then runs it
    assert isinstance(s2, TacticState) and s2.pp == "case right\np q r : Prop\nh1 : p ∧ q\nh2 : q → r\n⊢ r"
    s3 = env.run_tactic(s2, PROOF[2])
    done = env.run_tactic(s3, PROOF[3])
    assert isinstance(done, ProofFinished) and done.proof == tuple(PROOF)
    assert env.session.generation == 2
    return info.value


@pytest.mark.parametrize("fault", ["crash", "garbage"])
def test_lean_crash_and_garbage_raise_crash_then_recover(fake, fault):
    with LeanEnvironment(fake.config("proof_branching", fault=fault, fault_at=2)) as env:
        err = finish_after_failure(env, EnvCrashError)
    assert ("garbage" in str(err)) == (fault == "garbage")
    assert not err.is_out_of_memory
    if fault == "crash":
        assert "PANIC" in str(err)  # the REPL's last words on stderr come with the error


def test_lean_hang_times_out_then_recovers(fake):
    with LeanEnvironment(fake.config("proof_branching", fault="hang", fault_at=2)) as env:
        t0 = time.monotonic()
        finish_after_failure(env, EnvTimeoutError, timeout=1.0)
        assert time.monotonic() - t0 < 15


def test_lean_oom_kill_is_reported_as_out_of_memory(fake):
    with LeanEnvironment(fake.config("proof_branching", fault="oom", fault_at=2)) as env:
        err = finish_after_failure(env, EnvCrashError)
    assert err.is_out_of_memory


def test_lean_session_after_crash_starts_fresh_process(fake):
    with ReplSession(fake.config("proof_step", fault="crash", fault_at=1)) as s:
        assert s.command("def f : Nat := by sorry").sorries[0].proof_state == 0
        pid = s.process.pid
        with pytest.raises(EnvCrashError):
            s.tactic("apply Int.natAbs", 0)
        assert s.command("def f : Nat := by sorry").env == 0  # new process, ids start again
        assert s.process.pid != pid and s.generation == 2
        assert s.tactic("apply Int.natAbs", 0).goals == ("⊢ Int",)


def test_lean_recycle_after_n_requests_replays_transparently(fake):
    with LeanEnvironment(fake.config("proof_branching", recycle_after=2)) as env:
        state = env.start(STATEMENT)
        for tac in PROOF:
            state = env.run_tactic(state, tac)
        assert isinstance(state, ProofFinished)
        assert env.session.generation >= 3  # recycled at least twice, each time replayed


def test_lean_missing_repl_names_the_install_command(tmp_path):
    cfg = LeanReplConfig(argv=(str(tmp_path / "no-such-repl"),))
    with pytest.raises(ProverNotInstalledError, match="elan"):
        ReplSession(cfg).command("def x := 1")


def test_lean_reply_of_the_wrong_kind_is_a_protocol_error():
    """A command answered with a tactic-shaped reply means the stream is out of step (session kills it)."""
    tactic_reply = m.parse_response({"proofState": 1, "goals": [], "proofStatus": "Completed"})
    with pytest.raises(m.ProtocolError):
        m.check_kind(m.Command("def x := 1"), tactic_reply)
    assert m.check_kind(m.ProofStep("rfl", 0), tactic_reply) is tactic_reply
    assert isinstance(m.check_kind(m.Command("x"), m.parse_response({"message": "Unknown environment."})), m.ReplError)
    with pytest.raises(m.ProtocolError):
        m.parse_response({"env": "zero"})
