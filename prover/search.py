"""Best-first proof search (ReProver style) over any `Environment` with any `TacticGenerator`.

Priority of a node = summed score (log-probability) of the tactics on its path. Expand the best
node: generate `num_sampled_tactics` candidates, run each, dedupe resulting states by `pp` (which
also cuts cycles), stop on a *verified* proof, at the time/expansion budget, or when the queue is
empty. Every attempt is recorded; the tree can be kept as JSON for analysis or training.

Time: the theorem's budget (`theorem_timeout`) bounds the search. Each tactic call gets
`min(tactic_timeout, time left)` and the final re-verification the time left (backends whose
`verify` takes a `timeout`, as Coq's does), and every call honours its limit within `LIMIT_SLACK`,
so a search ends within its budget + LIMIT_SLACK, as `timeout` once the budget is spent. Not
counted against the budget: the time a crashed prover ate (up to `CRASH_CREDIT` seconds per
theorem). Outside it: loading the theorem (`start`, bounded by the backend's start limit) and
rebuilding a state after the prover was replaced.
"""

from __future__ import annotations

import heapq
import inspect
import itertools
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from proofsmith.envs.base import (
    CIRCULAR,
    CircularProof,
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
from proofsmith.envs.limits import TACTIC_TIMEOUT, THEOREM_TIMEOUT
from proofsmith.prover.generators.base import TacticGenerator, WholeProofGenerator, for_theorem
from proofsmith.prover.status import AttemptOutcome, SearchStatus, is_timeout

PremiseLookup = Callable[[TheoremRef, str], Sequence[str]]  # (theorem, state pp) → premise texts

# See `SearchConfig.timeout_penalty` (log-probability: a tactic that already timed out in the search is
# e^-4 = 2 % as likely); tried on novel_packages/val, see docs/search.md.
TIMEOUT_PENALTY = 4.0
# See `SearchConfig.circular_penalty`.
CIRCULAR_PENALTY = 4.0

# Seconds of prover crashes (killed, out of memory) per theorem not charged to its budget; a tactic
# that times out is charged.
CRASH_CREDIT = 30.0


def _verify(env: Environment, theorem: TheoremRef, proof: Sequence[str], timeout: float) -> Verdict:
    """`env.verify` within `timeout` seconds when the backend takes a limit, else under its own."""
    try:
        takes_limit = "timeout" in inspect.signature(env.verify).parameters
    except (TypeError, ValueError):
        takes_limit = False
    if takes_limit:
        return env.verify(theorem, proof, timeout=timeout)  # type: ignore[call-arg]
    return env.verify(theorem, proof)


class Frontier(str, Enum):
    """What the best-first queue orders.

    NODE (ReProver): pop the best state, generate its candidates and run them all before the next
    pop. TACTIC: the queue holds (state, candidate) pairs ranked by path score + candidate score, so a
    likely step on a child runs before an unlikely closer on its parent; the budget follows the
    policy's ranking down the tree instead of running every sibling first.
    """

    NODE = "node"
    TACTIC = "tactic"


@dataclass(frozen=True)
class SearchConfig:
    """Search settings; frozen: derive variants with `dataclasses.replace` (which rejects unknown fields)."""

    num_sampled_tactics: int = 64  # ReProver samples 64 per expansion
    theorem_timeout: float = THEOREM_TIMEOUT  # wall-clock per theorem
    max_expansions: int | None = None
    tactic_timeout: float = TACTIC_TIMEOUT
    keep_tree: bool = False
    frontier: Frontier = Frontier.NODE
    # Added to a candidate's score (log-probability) when the same tactic (up to a leading `intros; `)
    # already hit its time limit in this search: a closer that timed out on a goal seldom closes a
    # refinement or a sibling of it in time. 0 turns it off.
    timeout_penalty: float = TIMEOUT_PENALTY
    # Added to a candidate's score when its closer (the last `;`-part: `lra` in `intros; lra`) already
    # closed a proof in this search that the environment refused as circular (a library theorem proved
    # with a later lemma of its own file): from RIneq.v every lra/nra/psatz proof reaches
    # `RIneq.pos_INR`, and each costs a tactic run. 0 turns it off.
    circular_penalty: float = CIRCULAR_PENALTY

    def __post_init__(self) -> None:
        object.__setattr__(self, "frontier", Frontier(self.frontier))  # from JSON configs, too


@dataclass
class Attempt:
    parent: int
    tactic: str
    score: float
    outcome: AttemptOutcome
    child: int | None = None
    message: str = ""
    seconds: float = 0.0


@dataclass
class SearchResult:
    theorem: str
    status: SearchStatus
    proof: list[str] | None = None
    seconds: float = 0.0
    expansions: int = 0
    env_calls: int = 0
    message: str = ""
    verify_reasons: list[str] = field(default_factory=list)
    # where the time went: generating candidates, running them in the prover, re-checking proofs
    generate_seconds: float = 0.0
    env_seconds: float = 0.0
    verify_seconds: float = 0.0
    tree: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(order=True)
class _Entry:
    neg_priority: float
    order: int
    node: int = field(compare=False)
    candidate: tuple[str, float] | None = field(default=None, compare=False)  # None: expand `node`
    penalty: float = field(default=0.0, compare=False)  # the penalties already in `neg_priority`


def tactic_key(tactic: str) -> str:
    """A tactic up to spacing, its final period and a leading `intros; ` (which changes nothing once the
    goal has been introduced): the identity under which a timeout is remembered in a search. The
    premise list of a reconstruction (`hauto use: L1, L2`, `eauto using L1`) is left out: each state
    retrieves its own list, and one that timed out predicts the next (on 16 unproved random/val
    theorems, 4/5 of the time in `hauto use:` was spent after its first timeout)."""
    return _PREMISE_LIST.sub(r"\1 _", _plain(tactic))


def _plain(tactic: str) -> str:
    key = " ".join(tactic.split()).removesuffix(".").strip()
    return key.removeprefix("intros; ").strip()


_PREMISE_LIST = re.compile(r"\b(use:|using)\s+[\w'.]+(?:\s*,\s*[\w'.]+)*")


def closer_key(tactic: str) -> str:
    """The last `;`-part of a tactic outside brackets, as `tactic_key` writes it: `lra` for
    `intros; subst; lra.`, `try solve [ lia | nia ]` for `split; try solve [ lia | nia ]`; premise lists
    kept (a circular proof comes from one premise)."""
    key = _plain(tactic)
    depth, cut = 0, 0
    for i, ch in enumerate(key):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == ";" and depth == 0:
            cut = i + 1
    return key[cut:].strip()


class BestFirstSearch:
    def __init__(
        self, generator: TacticGenerator, config: SearchConfig | None = None, premises: PremiseLookup | None = None
    ):
        self.generator = generator
        self.config = config or SearchConfig()
        self.premises = premises

    def search(self, env: Environment, theorem: TheoremRef) -> SearchResult:
        cfg = self.config
        t0 = time.monotonic()
        for_theorem(self.generator, theorem)  # inside the budget: the online k-NN picks its examples
        try:
            try:
                root = env.start(theorem)
            except EnvCrashError:  # the prover died while loading (killed, OOM): one fresh try
                root = env.start(theorem)
        except EnvStartError as e:
            return SearchResult(
                theorem.name, SearchStatus.INVALID_STATEMENT, message=str(e), seconds=time.monotonic() - t0
            )
        except (EnvCrashError, EnvTimeoutError) as e:
            return SearchResult(theorem.name, SearchStatus.ERROR, message=str(e), seconds=time.monotonic() - t0)
        states: list[TacticState] = [root]
        scores: list[float] = [0.0]
        timed_out: set[str] = set()  # keys of the tactics that hit their limit in this search
        circular: set[str] = set()  # closer keys of the tactics whose proofs were refused as circular
        paths: list[list[str]] = [[]]
        seen: dict[str, int] = {root.pp: 0}
        attempts: list[Attempt] = []
        counter = itertools.count()
        queue = [_Entry(-0.0, next(counter), 0)]
        expansions = env_calls = 0
        status: SearchStatus = SearchStatus.FAILED
        proof: list[str] | None = None
        reasons: list[str] = []
        message = ""
        t_gen = t_env = t_verify = 0.0

        lost = 0.0  # time eaten by prover crashes (up to CRASH_CREDIT): a killed prover must not spend the budget

        def remaining() -> float:
            return cfg.theorem_timeout + lost - (time.monotonic() - t0)

        def run_candidate(node: int, tactic: str, score: float) -> bool:
            """Run one candidate on `node`'s state; True when the search should stop (proved, or no
            time left to re-check a finished proof)."""
            nonlocal env_calls, lost, t_env, t_verify, status, proof, reasons, message
            state = states[node]
            left = remaining()
            t1 = time.monotonic()
            env_calls += 1
            result = None
            for _ in range(2):  # a crashed/killed prover has been restarted: run the tactic once more
                try:
                    result = env.run_tactic(state, tactic, timeout=min(cfg.tactic_timeout, left))
                    break
                except (EnvCrashError, EnvTimeoutError) as e:
                    crashed = time.monotonic() - t1
                    if not isinstance(e, EnvTimeoutError):  # a timeout is the tactic's: charged
                        lost = min(CRASH_CREDIT, lost + crashed)
                    attempts.append(
                        Attempt(node, tactic, score, AttemptOutcome.CRASH, message=str(e)[:300], seconds=crashed)
                    )
                    if isinstance(e, EnvTimeoutError):
                        timed_out.add(tactic_key(tactic))
                        break  # the tactic itself hung: do not try it again
                    t1 = time.monotonic()
                except EnvError as e:  # a state that could not be rebuilt: this attempt only
                    attempts.append(
                        Attempt(
                            node,
                            tactic,
                            score,
                            AttemptOutcome.CRASH,
                            message=str(e)[:300],
                            seconds=time.monotonic() - t1,
                        )
                    )
                    break
            if result is None:
                return False
            dt = time.monotonic() - t1
            t_env += dt
            if isinstance(result, ProofFinished):
                candidate = paths[node] + [tactic]
                if remaining() <= 0:  # found as the budget ran out: no time left to re-check it
                    message = "the budget ran out before a finished proof could be verified"
                    attempts.append(Attempt(node, tactic, score, AttemptOutcome.REJECTED_PROOF, message=message))
                    return True
                t2 = time.monotonic()
                verdict = _verify(env, theorem, list(result.proof), remaining())
                t_verify += time.monotonic() - t2
                attempts.append(
                    Attempt(
                        node,
                        tactic,
                        score,
                        AttemptOutcome.PROOF if verdict.verified else AttemptOutcome.REJECTED_PROOF,
                        message="; ".join(verdict.reasons)[:300],
                        seconds=dt,
                    )
                )
                if verdict.verified:
                    status, proof, reasons = SearchStatus.PROVED, list(result.proof) or candidate, list(verdict.reasons)
                    return True
                if verdict.reasons and verdict.reasons[0].startswith(CIRCULAR):  # the live check had no time
                    circular.add(closer_key(tactic))
            elif isinstance(result, TacticState):
                if result.pp in seen:
                    attempts.append(
                        Attempt(node, tactic, score, AttemptOutcome.DUPLICATE, child=seen[result.pp], seconds=dt)
                    )
                    return False
                child = len(states)
                states.append(result)
                scores.append(scores[node] + score)
                paths.append(paths[node] + [tactic])
                seen[result.pp] = child
                heapq.heappush(queue, _Entry(-scores[child], next(counter), child))
                attempts.append(Attempt(node, tactic, score, AttemptOutcome.STATE, child=child, seconds=dt))
            elif isinstance(result, ProofGivenUp):
                attempts.append(Attempt(node, tactic, score, AttemptOutcome.GIVEN_UP, seconds=dt))
            elif isinstance(result, CircularProof):
                circular.add(closer_key(tactic))
                attempts.append(
                    Attempt(node, tactic, score, AttemptOutcome.CIRCULAR, message=result.message[:300], seconds=dt)
                )
            else:
                kind = AttemptOutcome.REFUSED if type(result).__name__ == "TacticRefused" else AttemptOutcome.ERROR
                if is_timeout(kind, result.message):
                    timed_out.add(tactic_key(tactic))
                attempts.append(Attempt(node, tactic, score, kind, message=result.message[:300], seconds=dt))
            return False

        def penalty(tactic: str) -> float:
            """What this search learned against `tactic`: it timed out, or its closer proved circular."""
            out = cfg.timeout_penalty if tactic_key(tactic) in timed_out else 0.0
            return out + (cfg.circular_penalty if closer_key(tactic) in circular else 0.0)

        while queue:
            if remaining() <= 0:
                status = SearchStatus.TIMEOUT
                break
            entry = heapq.heappop(queue)
            if entry.candidate is not None:  # Frontier.TACTIC: one candidate of an expanded node
                due = penalty(entry.candidate[0]) - entry.penalty
                if due > 0:
                    # it timed out (or proved circular) elsewhere since it was queued: back in the queue
                    # at its lower priority
                    tactic, score = entry.candidate
                    entry.candidate = (tactic, score - due)
                    entry.neg_priority += due
                    entry.penalty += due
                    heapq.heappush(queue, entry)
                    continue
                if run_candidate(entry.node, *entry.candidate):
                    break
                continue
            if cfg.max_expansions is not None and expansions >= cfg.max_expansions:
                status = SearchStatus.FAILED
                message = "expansion budget exhausted"
                break
            node = entry.node
            expansions += 1
            t1 = time.monotonic()
            prem = list(self.premises(theorem, states[node].pp)) if self.premises else []
            candidates = self.generator.generate(states[node].pp, prem, cfg.num_sampled_tactics)
            t_gen += time.monotonic() - t1
            penalties = [penalty(tactic) for tactic, _ in candidates]
            candidates = [(t, sc - p) for (t, sc), p in zip(candidates, penalties)]
            if cfg.frontier == Frontier.TACTIC:
                for (tactic, score), p in zip(candidates, penalties):
                    heapq.heappush(queue, _Entry(-(scores[node] + score), next(counter), node, (tactic, score), p))
                continue
            if any(penalties):
                candidates.sort(key=lambda c: -c[1])
            stop = False
            for tactic, score in candidates:
                if remaining() <= 0:
                    break
                if run_candidate(node, tactic, score):
                    stop = True
                    break
            if stop:
                break
        else:
            message = message or "search space exhausted"
        if status == SearchStatus.FAILED and remaining() <= 0:
            status = SearchStatus.TIMEOUT  # the last calls were cut short by the budget: not exhausted
        tree = None
        if cfg.keep_tree:
            tree = {
                "nodes": [{"id": i, "pp": s.pp, "score": scores[i]} for i, s in enumerate(states)],
                "attempts": [asdict(a) for a in attempts],
            }
        return SearchResult(
            theorem.name,
            status,
            proof,
            time.monotonic() - t0,
            expansions,
            env_calls,
            message,
            reasons,
            t_gen,
            t_env,
            t_verify,
            tree,
        )


def best_of_n(
    env: Environment,
    theorem: TheoremRef,
    generator: WholeProofGenerator,
    n: int,
    theorem_timeout: float = THEOREM_TIMEOUT,
) -> SearchResult:
    """Sample `n` whole proof scripts and verify each (no stepwise search)."""
    t0 = time.monotonic()
    try:
        env.start(theorem)  # the statement must elaborate
    except EnvStartError as e:
        return SearchResult(theorem.name, SearchStatus.INVALID_STATEMENT, message=str(e), seconds=time.monotonic() - t0)
    calls = 0
    for script, _ in generator.generate_proofs(theorem.statement or theorem.name, n):
        if time.monotonic() - t0 > theorem_timeout:
            return SearchResult(theorem.name, SearchStatus.TIMEOUT, seconds=time.monotonic() - t0, env_calls=calls)
        calls += 1
        verdict = _verify(env, theorem, [script], theorem_timeout - (time.monotonic() - t0))
        if verdict.verified:
            return SearchResult(
                theorem.name,
                SearchStatus.PROVED,
                [script],
                time.monotonic() - t0,
                0,
                calls,
                verify_reasons=list(verdict.reasons),
            )
    return SearchResult(
        theorem.name,
        SearchStatus.FAILED,
        seconds=time.monotonic() - t0,
        env_calls=calls,
        message=f"none of {calls} sampled proofs verified",
    )
