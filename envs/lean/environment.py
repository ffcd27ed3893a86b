"""`LeanEnvironment`: the project's `Environment` protocol on top of the Lean REPL.

State handles are our own ids, stable across REPL restarts: each remembers its parent and tactic,
so after a crash, timeout or recycle it is rebuilt on the new process by replaying the path
(context commands, the theorem statement, then the tactics), and checked to print the same goals.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass

from proofsmith.envs.base import (
    EnvCrashError,
    EnvironmentBase,
    EnvStartError,
    EnvTimeoutError,
    ProofFinished,
    ProofGivenUp,
    TacticError,
    TacticRefused,
    TacticResult,
    TacticState,
    TheoremRef,
    Verdict,
)
from proofsmith.envs.lean import messages as m
from proofsmith.envs.lean.goals import parse_goals, pp_goals
from proofsmith.envs.lean.session import LeanReplConfig, ReplSession
from proofsmith.envs.lean.source import TheoremSource, load_theorem, parse_axioms, verify_command
from proofsmith.envs.lean.tactic_filter import check_tactic


@dataclass
class _Node:
    source: TheoremSource
    parent: int | None
    tactic: str | None
    path: tuple[str, ...]  # tactics from the theorem's start
    pp: str
    repl_id: int  # proofState id in the REPL process of `generation`
    generation: int


class LeanEnvironment(EnvironmentBase):
    """Lean 4 through `leanprover-community/repl`. Pass a `LeanReplConfig` or its fields as keywords."""

    def __init__(self, config: LeanReplConfig | None = None, **overrides):
        config = config or LeanReplConfig()
        self.config = dataclasses.replace(config, **overrides) if overrides else config
        self.session = ReplSession(self.config)
        self._envs: dict[tuple[str, ...], int] = {}  # context prefix -> env id, for `_envs_generation`
        self._envs_generation = -1
        self._nodes: dict[int, _Node] = {}
        self._next_id = 0

    # ------------------------------------------------------------------ protocol
    def start(self, theorem: TheoremRef) -> TacticState:
        src = load_theorem(theorem)
        try:
            repl_id, goal = self._open(src)
        except (EnvCrashError, EnvTimeoutError) as e:
            raise EnvStartError(f"{theorem.name}: Lean REPL failed while loading the theorem: {e}") from e
        node = self._add(_Node(src, None, None, (), goal, repl_id, self.session.generation))
        return TacticState(pp=goal, id=node, goals=parse_goals([goal]))

    def run_tactic(self, state: TacticState, tactic: str, timeout: float | None = None) -> TacticResult:
        why = check_tactic(tactic, allow_sorry=self.config.allow_sorry)
        if why:
            return TacticRefused(why)
        node = self._nodes.get(state.id)
        if node is None:
            raise ValueError(f"state {state.id} was not produced by this environment")
        repl_id = self._materialize(node)
        resp = self.session.tactic(tactic, repl_id, timeout=self.config.timeout if timeout is None else timeout)
        result = self._interpret(state.id, node, tactic, resp)
        self._maybe_recycle()
        return result

    def verify(self, theorem: TheoremRef, proof: Sequence[str]) -> Verdict:
        t0 = time.monotonic()

        def verdict(reasons: list[str], axioms: tuple[str, ...] = ()) -> Verdict:
            return Verdict(theorem.name, not reasons, tuple(reasons), axioms, time.monotonic() - t0)

        if not proof:
            return verdict(["empty proof"])
        for tac in proof:
            why = check_tactic(tac, allow_sorry=False)
            if why:
                return verdict([f"tactic {tac!r} refused: {why}"])
        src = load_theorem(theorem)
        text, name = verify_command(src, proof)
        self._sync()
        resp = self.session.command(text, self._context_env(src.context), timeout=self.config.start_timeout)
        reasons = _compile_problems(resp)
        axioms: tuple[str, ...] = ()
        if not reasons:
            assert isinstance(resp, m.CommandResponse)
            out = self.session.command(f"#print axioms {name}", resp.env, timeout=self.config.start_timeout)
            axioms, problems = _axiom_problems(out, self.config.allowed_axioms)
            reasons += problems
        self._maybe_recycle()
        return verdict(reasons, axioms)

    def close(self) -> None:
        self.session.close()

    # ------------------------------------------------------------------ REPL state
    def _sync(self) -> None:
        """Start the REPL if needed; a new process means every cached env id is void."""
        self.session.ensure_started()
        if self._envs_generation != self.session.generation:
            self._envs.clear()
            self._envs_generation = self.session.generation

    def _context_env(self, context: tuple[str, ...]) -> int | None:
        env: int | None = None
        for i, cmd in enumerate(context):
            key = context[: i + 1]
            if key not in self._envs:
                resp = self.session.command(cmd, env, timeout=self.config.start_timeout)
                problems = _errors_of(resp)
                if problems:
                    raise EnvStartError(f"Lean rejected the theorem's context {cmd[:80]!r}: {'; '.join(problems)}")
                assert isinstance(resp, m.CommandResponse)
                self._envs[key] = resp.env
            env = self._envs[key]
        return env

    def _open(self, src: TheoremSource) -> tuple[int, str]:
        """Run the statement with `sorry`: its sorry is the proof state to start from."""
        self._sync()
        resp = self.session.command(
            src.start_command, self._context_env(src.context), timeout=self.config.start_timeout
        )
        problems = _errors_of(resp)
        if problems:
            raise EnvStartError(f"Lean rejected the statement: {'; '.join(problems)}")
        assert isinstance(resp, m.CommandResponse)
        opened = [s for s in resp.sorries if s.proof_state is not None]
        if len(opened) != 1:
            raise EnvStartError(
                f"expected one sorry (the proof) in {src.start_command[:80]!r}, Lean reported {len(opened)}"
            )
        return opened[0].proof_state, opened[0].goal  # type: ignore[return-value]

    def _materialize(self, node: _Node) -> int:
        """The node's proofState id in the current process, replaying its path if the process is new."""
        self._sync()
        if node.generation == self.session.generation:
            return node.repl_id
        if node.parent is None:
            repl_id, pp = self._open(node.source)
        else:
            parent_id = self._materialize(self._nodes[node.parent])
            assert node.tactic is not None
            resp = self.session.tactic(node.tactic, parent_id, timeout=self.config.timeout)
            if not isinstance(resp, m.ProofStepResponse) or resp.errors:
                raise EnvCrashError(f"replay of {node.tactic!r} failed after a REPL restart: {resp}")
            repl_id, pp = resp.proof_state, pp_goals(resp.goals)
        if pp != node.pp:
            raise EnvCrashError(f"replay after a REPL restart reached a different state:\n{pp}\n!=\n{node.pp}")
        node.repl_id, node.generation = repl_id, self.session.generation
        return repl_id

    def _interpret(self, parent: int, node: _Node, tactic: str, resp: m.Response) -> TacticResult:
        """Map a tactic reply (protocol spec §8, step 5). Only "Completed" is a finished proof."""
        if isinstance(resp, m.ReplError):
            return TacticError(resp.text.strip())
        assert isinstance(resp, m.ProofStepResponse)
        if resp.errors:
            return TacticError("\n".join(msg.data for msg in resp.errors))
        side = "\n".join([*(msg.data for msg in resp.messages), *resp.traces]) or None
        path = node.path + (tactic,)
        if resp.completed:
            return ProofFinished(id=self._new_id(), proof=path, message=side)
        if not resp.goals:
            if resp.proof_status == m.CONTAINS_SORRY:
                return ProofGivenUp(message=side)
            return TacticError(resp.proof_status or "no goals left, but the REPL sent no proofStatus")
        pp = pp_goals(resp.goals)
        child = self._add(_Node(node.source, parent, tactic, path, pp, resp.proof_state, self.session.generation))
        return TacticState(pp=pp, id=child, goals=parse_goals(resp.goals), message=side)

    def _add(self, node: _Node) -> int:
        i = self._new_id()
        self._nodes[i] = node
        return i

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _maybe_recycle(self) -> None:
        """The REPL never frees ids; restart it after `recycle_after` requests (states replay on demand)."""
        limit = self.config.recycle_after
        if limit and self.session.requests_in_generation >= limit:
            self.session.reset()


def _errors_of(resp: m.Response) -> list[str]:
    if isinstance(resp, m.ReplError):
        return [resp.message]
    return [msg.data for msg in resp.errors]


def _compile_problems(resp: m.Response) -> list[str]:
    problems = [f"error: {e}" for e in _errors_of(resp)]
    if isinstance(resp, m.CommandResponse):
        problems += [f"warning: {msg.data}" for msg in resp.messages if msg.is_sorry_warning]
        if resp.sorries:
            problems.append(f"proof contains {len(resp.sorries)} sorry")
    return problems


def _axiom_problems(resp: m.Response, allowed: Sequence[str]) -> tuple[tuple[str, ...], list[str]]:
    problems = [f"#print axioms: {e}" for e in _errors_of(resp)]
    if problems:
        return (), problems
    assert isinstance(resp, m.CommandResponse)
    for msg in resp.messages:
        axioms = parse_axioms(msg.data) if msg.severity == "info" else None
        if axioms is not None:
            extra = [a for a in axioms if a not in allowed]
            return axioms, ([f"depends on axioms beyond {list(allowed)}: {extra}"] if extra else [])
    return (), [f"could not read the #print axioms output: {[msg.data for msg in resp.messages]}"]
