"""Limits hold (issue 14, part 4): every call into Coq returns within its limit + LIMIT_SLACK, whatever
Coq is doing (a tactic, the `Qed` kernel check, coqc), and the process group at work is cleaned up.

Real Coq throughout. The slow theorem: `intros; sauto` finds a proof in well under a second, but its
term carries unary numerals (2610 = S (S ...)) that the kernel's `Qed` check (and coqc) reduce for
30-60 s on this machine; before the fix `run_tactic(..., timeout=5)` returned after 36-42 s.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import psutil
import pytest

from proofsmith.envs.base import EnvTimeoutError, TacticError, TacticState, TheoremRef
from proofsmith.envs.coq import CoqConfig, CoqEnvironment
from proofsmith.envs.limits import LIMIT_SLACK
from proofsmith.prover.search import BestFirstSearch, SearchConfig

pytestmark = pytest.mark.timeout(60)

SLOW = TheoremRef.from_statement(
    "Theorem unary_slow : forall n : nat, n <= 9 -> (exists k : nat, 2610 + n = 18 * k) -> n = 0.",
    "unary_slow",
    header="Require Import Nat ZArith.",
)
SLOW_TACTIC = "intros; sauto."
IMPORTS = ("From Hammer Require Import Tactics.", "From Coq Require Import Lia.")  # sauto, lia
NOISE = 0.5  # scheduling noise on a shared machine
PROVERS = {"coqidetop.opt", "coqidetop", "coqc", "coqtop", "eprover", "z3", "cvc4", "vampire"}


def prover_processes(*groups: int) -> list[tuple[int, str]]:
    """Live prover processes started by this test process that belong to one of the process `groups`."""
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE and p.name() in PROVERS and os.getpgid(p.pid) in groups:
                out.append((p.pid, p.name()))
        except (psutil.NoSuchProcess, ProcessLookupError):
            continue
    return out


def all_prover_descendants() -> list[tuple[int, str]]:
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE and p.name() in PROVERS:
                out.append((p.pid, p.name()))
        except psutil.NoSuchProcess:
            continue
    return out


def assert_only_live_session(env: CoqEnvironment, old_pid: int) -> None:
    """Of the env's old and current process groups, only the current coqidetop is left."""
    cur = env.session.process.pid
    assert cur is not None
    left = prover_processes(old_pid, cur)
    assert [pid for pid, _ in left] == [cur], left


def test_slow_qed_check_is_cut_at_the_tactic_limit_and_env_stays_usable():
    with CoqEnvironment(tactic_timeout=3, additional_imports=IMPORTS) as env:
        s0 = env.start(SLOW)
        old = env.session.process.pid
        assert old is not None
        t0 = time.monotonic()
        try:
            r = env.run_tactic(s0, SLOW_TACTIC)
        except EnvTimeoutError as e:  # interrupt unanswered: killed and respawned, also within the limit
            r = TacticError(f"Timeout! {e}")
        elapsed = time.monotonic() - t0
        assert elapsed <= 3 + LIMIT_SLACK + NOISE, elapsed
        assert isinstance(r, TacticError) and "Timeout" in r.message, r
        assert "Qed" in r.message or "killed" in r.message, r  # the slow part is the kernel's Qed check
        assert_only_live_session(env, old)
        s1 = env.run_tactic(s0, "intros n Hn Hk.")  # the start state still works
        assert isinstance(s1, TacticState) and s1.goals[0].hypotheses[-1].startswith("Hk : exists k")


def test_a_prover_that_ignores_the_interrupt_is_killed_with_its_group_and_replaced():
    with CoqEnvironment(tactic_timeout=3, additional_imports=IMPORTS) as env:
        s0 = env.start(SLOW)
        old = env.session.process.pid
        assert old is not None

        def freeze() -> None:  # a stopped coqidetop cannot answer SIGINT: only the kill fallback helps
            time.sleep(1.0)
            os.kill(old, signal.SIGSTOP)

        threading.Thread(target=freeze, daemon=True).start()
        t0 = time.monotonic()
        with pytest.raises(EnvTimeoutError):
            env.run_tactic(s0, SLOW_TACTIC)
        elapsed = time.monotonic() - t0
        assert elapsed <= 3 + LIMIT_SLACK + NOISE, elapsed
        assert env.restarts == 1 and env.session.process.pid != old
        assert not psutil.pid_exists(old) or psutil.Process(old).status() == psutil.STATUS_ZOMBIE
        assert_only_live_session(env, old)
        s1 = env.run_tactic(s0, "intros n Hn Hk.")  # replayed lazily on the new process
        assert isinstance(s1, TacticState)


def test_verify_honours_verify_timeout_and_leaves_no_coqc():
    with CoqEnvironment(verify_timeout=3, additional_imports=IMPORTS) as env:
        before = {pid for pid, name in all_prover_descendants() if name == "coqc"}
        t0 = time.monotonic()
        v = env.verify(SLOW, [SLOW_TACTIC])
        elapsed = time.monotonic() - t0
        assert elapsed <= 3 + LIMIT_SLACK + NOISE, elapsed
        assert not v.verified and v.reasons[0].startswith("timeout"), v
        assert [p for p, name in all_prover_descendants() if name == "coqc" and p not in before] == []
        # a small budget is the caller's to give: verify(timeout=) overrides the configured limit
        t0 = time.monotonic()
        assert env.verify(SLOW, [SLOW_TACTIC], timeout=1).reasons[0].startswith("timeout")
        assert time.monotonic() - t0 <= 1 + LIMIT_SLACK + NOISE


class SlowTactics:
    """A generator that only proposes (variants of) the tactic whose Qed check is slow."""

    def generate(self, state_pp, premises, num):
        return [("intros;" + " " * i + "sauto.", -0.1 * i) for i in range(1, 9)][:num]

    def generate_batch(self, states, premises, num):
        return [self.generate(s, p, num) for s, p in zip(states, premises)]


def test_search_budget_bounds_slow_tactics_and_ends_as_timeout():
    budget = 6.0
    with CoqEnvironment(additional_imports=IMPORTS) as env:
        env.start(SLOW)  # load the context once, as a worker's environment would have
        search = BestFirstSearch(SlowTactics(), SearchConfig(theorem_timeout=budget, tactic_timeout=5, keep_tree=True))
        t0 = time.monotonic()
        result = search.search(env, SLOW)
        elapsed = time.monotonic() - t0
    assert result.status == "timeout", result  # not "error"
    assert elapsed <= budget + LIMIT_SLACK + NOISE, elapsed
    assert result.tree is not None and result.tree["attempts"], result


def test_misspelled_option_is_a_type_error():
    with pytest.raises(TypeError, match="tactic_timout.*did you mean 'tactic_timeout'"):
        CoqEnvironment(tactic_timout=5)
    with pytest.raises(TypeError):
        CoqConfig(tactic_timout=5)  # type: ignore[call-arg]
    env = CoqEnvironment(CoqConfig(verify_timeout=7), tactic_timeout=2)  # config plus overrides
    assert (env.config.tactic_timeout, env.config.verify_timeout) == (2, 7)
    with pytest.raises(AttributeError):  # frozen: a changed option cannot be silently ignored either
        env.config.tactic_timeout = 9  # type: ignore[misc]
