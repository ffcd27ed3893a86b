"""Whole-proof mode with verifier feedback: sample whole proof scripts, check each, and ask the model
to repair a failing one from Coq's first error and the proof state there, up to K rounds.

A script is checked step by step through the environment (its sentences, each bullet or brace with
the tactic after it), so the first failing sentence, Coq's message and the state before it are
known; a script that closes every goal is then re-checked as a whole by `verify` (coqc + axiom
audit), and only a verified proof is reported. Budgets and the result row are those of the
best-first search (`SearchResult`: status, proof, seconds, env_calls, generate/env/verify seconds),
plus `mode` and the log of every checked script.

`prove --mode both` runs this first (a few model calls) and then the best-first search with the
time left.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

from proofsmith.envs.base import (
    EnvCrashError,
    EnvError,
    Environment,
    EnvStartError,
    EnvTimeoutError,
    ProofFinished,
    ProofGivenUp,
    TacticState,
    TheoremRef,
    Verdict,
)
from proofsmith.envs.coq.sentences import SentenceSyntaxError, split_sentences
from proofsmith.envs.limits import TACTIC_TIMEOUT, THEOREM_TIMEOUT
from proofsmith.prover.generators.base import Candidate
from proofsmith.prover.status import SearchStatus, _StrEnum

NUM_PROOFS = 4  # whole proofs sampled per theorem
REPAIR_ROUNDS = 2  # repairs of each sampled proof (K)
PROOF_OPENERS = ("Proof.", "Proof with", "Proof using")
PROOF_CLOSERS = ("Qed.", "Defined.")


class ProveMode(_StrEnum):
    """What `prove --mode` runs on each theorem."""

    SEARCH = "search"  # best-first search over tactics
    WHOLE_PROOF = "whole-proof"  # sample whole proofs, repair them from Coq's errors
    BOTH = "both"  # whole-proof first, then search with the time left


@runtime_checkable
class RepairingProofGenerator(Protocol):
    """A generator that writes whole proofs and repairs them from an error (`openai:...`)."""

    def generate_proofs(self, statement: str, num: int) -> list[Candidate]: ...

    def repair_proofs(
        self, statement: str, proof: str, sentence: str, message: str, state: str, num: int
    ) -> list[Candidate]: ...


@dataclass(frozen=True)
class WholeProofConfig:
    num_proofs: int = NUM_PROOFS
    repair_rounds: int = REPAIR_ROUNDS
    theorem_timeout: float = THEOREM_TIMEOUT
    tactic_timeout: float = TACTIC_TIMEOUT


@dataclass
class Feedback:
    """Where a script fails: the sentence (empty when the script ends with goals left), Coq's message
    and the proof state before that sentence."""

    sentence: str
    message: str
    state: str


@dataclass
class Checked:
    """A script checked step by step: a finished proof's steps, or the first failure."""

    proof: list[str] | None = None
    feedback: Feedback | None = None
    env_calls: int = 0
    seconds: float = 0.0


@dataclass
class ScriptLog:
    """One checked script, for the results row."""

    sample: int
    round: int
    script: str
    verified: bool = False
    sentence: str = ""
    message: str = ""


def proof_steps(script: str) -> list[str]:
    """The steps of a proof script: `Proof.` and `Qed.` dropped, each bullet or brace kept with the
    tactic after it (a trailing `}` is a step of its own). Raises `SentenceSyntaxError`."""
    sentences = [s.text for s in split_sentences(script, allow_unterminated=True)]
    while sentences and sentences[0].startswith(PROOF_OPENERS):
        sentences.pop(0)
    while sentences and sentences[-1] in PROOF_CLOSERS:
        sentences.pop()
    steps: list[str] = []
    marks: list[str] = []
    for s in sentences:
        if s and (s[0] in "-+*{}" or s.endswith("{")):
            marks.append(s)
            continue
        steps.append(" ".join([*marks, s]))
        marks = []
    if marks:
        steps.append(" ".join(marks))
    return steps


def check_script(env: Environment, root: TacticState, script: str, tactic_timeout: float, deadline: float) -> Checked:
    """Run `script` from `root`, one step at a time, until it finishes the proof or fails."""
    t0 = time.monotonic()
    out = Checked()
    try:
        steps = proof_steps(script)
    except SentenceSyntaxError as e:
        out.feedback = Feedback("", f"the script does not split into sentences: {e}", root.pp)
        return out
    if not steps:
        out.feedback = Feedback("", "the script is empty", root.pp)
        return out
    state = root
    for step in steps:
        left = deadline - time.monotonic()
        if left <= 0:
            out.feedback = Feedback(step, "the theorem's time budget ran out", state.pp)
            break
        out.env_calls += 1
        try:
            result = env.run_tactic(state, step, timeout=min(tactic_timeout, left))
        except EnvTimeoutError:
            out.feedback = Feedback(
                step, f"Timeout! the tactic did not finish within {min(tactic_timeout, left):.1f}s", state.pp
            )
            break
        except (EnvCrashError, EnvError) as e:
            out.feedback = Feedback(step, f"the prover failed on it: {e}", state.pp)
            break
        if isinstance(result, ProofFinished):
            out.proof = list(result.proof)
            break
        if isinstance(result, TacticState):
            state = result
            continue
        if isinstance(result, ProofGivenUp):
            out.feedback = Feedback(step, "the goals were closed with admit/give_up: not a proof", state.pp)
        else:
            out.feedback = Feedback(step, result.message, state.pp)
        break
    else:
        out.feedback = Feedback("", f"the proof is incomplete: {max(state.num_goals, 1)} goal(s) remain", state.pp)
    out.seconds = time.monotonic() - t0
    return out


def verify_within(env: Environment, theorem: TheoremRef, proof: Sequence[str], timeout: float) -> Verdict:
    """`env.verify` within `timeout` seconds when the backend takes a limit (Coq's does)."""
    try:
        takes_limit = "timeout" in inspect.signature(env.verify).parameters
    except (TypeError, ValueError):
        takes_limit = False
    if takes_limit:
        return env.verify(theorem, proof, timeout=timeout)  # type: ignore[call-arg]
    return env.verify(theorem, proof)


def statement_text(theorem: TheoremRef) -> str:
    """The theorem's statement as written (`Theorem t : ...`), for prompts."""
    from proofsmith.envs.coq.source import locate

    return locate(theorem).statement.text


def whole_proof_search(
    env: Environment, theorem: TheoremRef, generator: RepairingProofGenerator, config: WholeProofConfig
) -> dict[str, Any]:
    """Sample `num_proofs` scripts, repair each up to `repair_rounds` times; a results row."""
    from proofsmith.prover.search import SearchResult

    t0 = time.monotonic()
    deadline = t0 + config.theorem_timeout
    try:
        try:
            root = env.start(theorem)
        except EnvCrashError:
            root = env.start(theorem)
        statement = statement_text(theorem)
    except EnvStartError as e:
        res = SearchResult(theorem.name, SearchStatus.INVALID_STATEMENT, message=str(e), seconds=time.monotonic() - t0)
        return {**res.to_json(), "mode": ProveMode.WHOLE_PROOF, "scripts": []}
    except (EnvCrashError, EnvTimeoutError) as e:
        res = SearchResult(theorem.name, SearchStatus.ERROR, message=str(e), seconds=time.monotonic() - t0)
        return {**res.to_json(), "mode": ProveMode.WHOLE_PROOF, "scripts": []}
    res = SearchResult(theorem.name, SearchStatus.FAILED)
    logs: list[ScriptLog] = []

    def generate(call, *args) -> list[Candidate]:
        t1 = time.monotonic()
        try:
            return call(*args)
        finally:
            res.generate_seconds += time.monotonic() - t1
            res.expansions += 1  # model calls

    samples = generate(generator.generate_proofs, statement, config.num_proofs)
    for i, (script, _score) in enumerate(samples[: config.num_proofs]):
        for r in range(config.repair_rounds + 1):
            if time.monotonic() >= deadline:
                res.status = SearchStatus.TIMEOUT
                break
            checked = check_script(env, root, script, config.tactic_timeout, deadline)
            res.env_calls += checked.env_calls
            res.env_seconds += checked.seconds
            entry = ScriptLog(i, r, script[:2000])
            logs.append(entry)
            feedback = checked.feedback
            if checked.proof is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    res.status = SearchStatus.TIMEOUT
                    res.message = "the budget ran out before a finished proof could be verified"
                    break
                t2 = time.monotonic()
                verdict = verify_within(env, theorem, checked.proof, left)
                res.verify_seconds += time.monotonic() - t2
                if verdict.verified:
                    entry.verified = True
                    res.status, res.proof, res.verify_reasons = (
                        SearchStatus.PROVED,
                        checked.proof,
                        list(verdict.reasons),
                    )
                    break
                feedback = Feedback("Qed.", "the re-check rejected the proof: " + "; ".join(verdict.reasons), "")
            assert feedback is not None
            entry.sentence, entry.message = feedback.sentence[:300], feedback.message[:500]
            if r == config.repair_rounds or time.monotonic() >= deadline:
                continue
            repaired = generate(
                generator.repair_proofs, statement, script, feedback.sentence, feedback.message, feedback.state, 1
            )
            if not repaired:
                break
            script = repaired[0][0]
        if res.status in (SearchStatus.PROVED, SearchStatus.TIMEOUT):
            break
    if res.status == SearchStatus.FAILED:
        res.message = f"none of {len(logs)} checked scripts ({len(samples)} sampled, up to {config.repair_rounds} repairs each) verified"
        if time.monotonic() >= deadline:
            res.status = SearchStatus.TIMEOUT
    res.seconds = time.monotonic() - t0
    return {**res.to_json(), "mode": ProveMode.WHOLE_PROOF, "scripts": [asdict(x) for x in logs]}


TIMES = ("seconds", "generate_seconds", "env_seconds", "verify_seconds")


def combine(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """One row for `--mode both`: the second run's result, with the counts and times of both."""
    row = dict(second)
    for k in (*TIMES, "expansions", "env_calls"):
        row[k] = first.get(k, 0) + second.get(k, 0)
    row["mode"] = ProveMode.BOTH
    row["proved_by"] = second.get("mode", ProveMode.SEARCH) if second.get("status") == SearchStatus.PROVED else None
    row["scripts"] = first.get("scripts", [])
    row["whole_proof_status"] = first.get("status")
    return row
