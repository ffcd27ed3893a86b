"""`FStarEnvironment`: PoPAI-style program-fragment checking behind the Environment protocol.

`start` loads the target's file up to the target: either F*'s checked state
(`push-partial-checked-file`, needs up-to-date .checked files) or by pushing each earlier
declaration as the Emacs mode does. A candidate is pushed as one fragment. Success, no error and
no warning 335 (assume/admit, reported under `--report_assumes warn`) on a candidate that defines
the target is a `ProofFinished`; the candidate is then popped so the state stays reusable. A
successful candidate defining something else (a helper) stays pushed and gives a new state. A
failed push is rolled back by F* itself, so it is never popped.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from proofsmith.envs.base import (
    EnvCrashError,
    EnvError,
    EnvironmentBase,
    EnvStartError,
    EnvTimeoutError,
    Goal,
    ProofFinished,
    ProofGivenUp,
    TacticError,
    TacticRefused,
    TacticResult,
    TacticState,
    TheoremRef,
    Verdict,
)
from proofsmith.envs.fstar.candidates import check_candidate
from proofsmith.envs.fstar.messages import Issue, Response
from proofsmith.envs.fstar.session import FStarIdeSession, FStarSessionConfig, FStarTimeout
from proofsmith.envs.fstar.source import Fragment
from proofsmith.envs.fstar.task import FStarTask, load_task

WARN_ON_USE = 335  # assume/admit used, under --report_assumes warn
TOP_LEVEL_EFFECT = 272  # "Top-level let-bindings must be total; this term may have effects"


@dataclass
class FStarConfig:
    command: Sequence[str] = ("fstar.exe",)
    options: Sequence[str] = ("--report_assumes", "warn")
    include_dirs: Sequence[str] = ()
    use_checked_file: bool = False  # push-partial-checked-file instead of pushing the prefix
    fragment_line: int = 1  # where candidates go in checked mode (the recorded harness uses 1)
    solver_options: str | None = None  # e.g. "--z3rlimit 20 --fuel 2 --ifuel 1", pushed once
    timeout: float = 120.0
    startup_timeout: float = 600.0  # the first push loads dependencies: can take minutes
    interrupt_grace: float = 3.0
    memory_limit: int | None = 16 * 1024**3
    extra_env: dict[str, str] = field(default_factory=dict)


class FStarEnvironment(EnvironmentBase):
    def __init__(self, config: FStarConfig | None = None):
        self.config = config or FStarConfig()
        self._scratch = tempfile.mkdtemp(prefix="proofsmith-fstar-")
        self._session: FStarIdeSession | None = None
        self._task: FStarTask | None = None
        self._base_loaded = False
        self._stack: list[Fragment] = []  # candidate fragments currently pushed above the base
        self._states: dict[int, tuple[Fragment, ...]] = {}
        self._next_id = 0
        self.restarts = 0

    # ------------------------------------------------------------------ process & stack
    def _new_session(self, task: FStarTask) -> FStarIdeSession:
        return FStarIdeSession(
            FStarSessionConfig(
                file=str(task.file),
                command=self.config.command,
                options=self.config.options,
                include_dirs=self.config.include_dirs,
                cwd=str(task.file.parent),
                memory_limit=self.config.memory_limit,
                startup_timeout=self.config.startup_timeout,
                interrupt_grace=self.config.interrupt_grace,
                extra_env=dict(self.config.extra_env),
            )
        )

    def _load_base(self, session: FStarIdeSession, task: FStarTask) -> None:
        """Push what comes before the target; raise EnvStartError if F* rejects any of it."""
        t = self.config.startup_timeout
        if self.config.use_checked_file:
            reply = session.push_partial_checked_file(task.qualified, timeout=t)
            _require_clean(reply.response, f"push-partial-checked-file {task.qualified}")
        else:
            for frag in task.prefix:
                _require_clean(session.push(frag.code, frag.line, timeout=t).response, f"line {frag.line}")
        if self.config.solver_options:
            opts = self.config.solver_options.replace('"', "")
            line = self.config.fragment_line if self.config.use_checked_file else task.next_line
            _require_clean(session.push(f'#push-options "{opts}"\n', line, timeout=t).response, "solver options")

    def _sync(self, fragments: Sequence[Fragment]) -> FStarIdeSession:
        """Bring the live F* stack to base + `fragments`, restarting F* if needed."""
        assert self._task is not None
        if self._session is None or not self._session.alive or not self._base_loaded:
            self._drop_process()
            self._session = self._new_session(self._task)
            self._session.start()
            self._load_base(self._session, self._task)
            self._base_loaded = True
        session = self._session
        keep = 0
        while keep < min(len(self._stack), len(fragments)) and self._stack[keep] == fragments[keep]:
            keep += 1
        while len(self._stack) > keep:
            _require_ok(session.pop(), "pop")
            self._stack.pop()
        for frag in fragments[keep:]:
            _require_clean(session.push(frag.code, frag.line, timeout=self.config.timeout).response, "replay")
            self._stack.append(frag)
        return session

    def _drop_process(self) -> None:
        if self._session is not None:
            self._session.kill()
        self._session = None
        self._base_loaded = False
        self._stack = []

    def _restore(self, fragments: Sequence[Fragment]) -> None:
        """After a kill or crash: a fresh process at the state we were in (best effort)."""
        self.restarts += 1
        self._drop_process()
        try:
            self._sync(fragments)
        except EnvError:
            self._drop_process()  # the next call retries

    # ------------------------------------------------------------------ Environment
    def start(self, theorem: TheoremRef) -> TacticState:
        self._drop_process()
        task = load_task(theorem, scratch_dir=self._scratch)
        self._task = task
        try:
            self._sync(())
        except (EnvTimeoutError, EnvCrashError) as e:
            self._drop_process()
            raise EnvStartError(f"F* could not load the context of {task.qualified}: {e}") from e
        self._states = {0: ()}
        self._next_id = 1
        return self._state(0, ())

    def _state(self, sid: int, frags: tuple[Fragment, ...]) -> TacticState:
        assert self._task is not None
        goal = Goal(hypotheses=tuple(f.source for f in frags), conclusion=self._task.goal_text, name=self._task.target)
        return TacticState(pp=goal.pp, id=sid, goals=(goal,))

    def _fragment(self, candidate: str, after: tuple[Fragment, ...], names: tuple[str, ...]) -> Fragment:
        assert self._task is not None
        if self.config.use_checked_file:
            return Fragment(candidate, self.config.fragment_line, names, candidate)
        line = after[-1].end_line if after else self._task.next_line + (1 if self.config.solver_options else 0)
        return Fragment("\n" + candidate.strip("\n") + "\n", line, names, candidate)

    def run_tactic(self, state: TacticState, tactic: str, timeout: float | None = None) -> TacticResult:
        if self._task is None:
            raise EnvStartError("run_tactic before start")
        if state.id not in self._states:
            return TacticRefused(f"unknown state id {state.id}")
        check = check_candidate(tactic)
        if not check.ok:
            return TacticRefused(check.reason)
        frags = self._states[state.id]
        frag = self._fragment(tactic, frags, check.names)
        try:
            session = self._sync(frags)
            reply = session.push(frag.code, frag.line, timeout=timeout or self.config.timeout)
        except FStarTimeout as e:
            if not e.process_kept:
                self._restore(frags)
            raise EnvTimeoutError(f"F* push timed out: {e}") from e
        except EnvCrashError as e:
            self._restore(frags)
            raise EnvCrashError(f"F* failed: {e}", e.is_out_of_memory) from e
        resp = reply.response
        if not resp.ok or resp.errors:  # F* rolled the push back itself: no pop
            return self._error(resp, frag)
        self._stack.append(frag)
        defines_target = self._task.target in check.names
        given_up = any(i.number == WARN_ON_USE for i in resp.issues)
        escapes = [i for i in resp.issues if i.number == TOP_LEVEL_EFFECT]
        if defines_target or given_up or escapes:
            self._pop_last()
        if escapes:
            return TacticError(escapes[0].message.strip(), self._pos(escapes[0], frag))
        if given_up:
            return ProofGivenUp("F* reports assume/admit (warning 335)")
        if defines_target:
            return ProofFinished(id=self._new_id(), proof=tuple(f.source for f in frags) + (tactic,))
        new_id = self._new_id()
        self._states[new_id] = frags + (frag,)
        return self._state(new_id, frags + (frag,))

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _pop_last(self) -> None:
        assert self._session is not None
        _require_ok(self._session.pop(), "pop")
        self._stack.pop()

    def _pos(self, issue: Issue, frag: Fragment) -> tuple[int, int] | None:
        """The issue's first range in the pushed code, as character offsets into the candidate."""
        assert self._task is not None
        ours = {"<input>", self._task.file.name, str(self._task.file)}
        rng = next((r for r in issue.ranges if r.fname in ours or r.fname.endswith("/" + self._task.file.name)), None)
        if rng is None:
            return None
        first = frag.line if self.config.use_checked_file else frag.line + 1  # prefix mode pushes "\n" first
        if self.config.use_checked_file and frag.line == 0:
            first = 1  # line 0 pushes report the snippet's first line as line 1
        lines = frag.source.split("\n")

        def offset(line: int, col: int) -> int:
            i = min(max(line - first, 0), len(lines) - 1)
            return sum(len(l) + 1 for l in lines[:i]) + min(col, len(lines[i]))

        return offset(*rng.beg), offset(*rng.end)

    def _error(self, resp: Response, frag: Fragment) -> TacticError:
        errors = resp.errors or tuple(i for i in resp.issues)
        if not errors:
            detail = resp.response if isinstance(resp.response, str) else "F* rejected the candidate"
            return TacticError(f"{resp.status}: {detail}")
        msg = "\n".join(f"Error {i.number}: {i.message.strip()}" if i.number else i.message.strip() for i in errors)
        return TacticError(msg, self._pos(errors[0], frag))

    def verify(self, theorem: TheoremRef, proof: Sequence[str]) -> Verdict:
        """Re-check from a fresh F* process: context, then every candidate; all clean, target defined."""
        t0 = time.monotonic()
        task = load_task(theorem, scratch_dir=self._scratch)
        reasons: list[str] = []
        names: list[str] = []
        for i, cand in enumerate(proof):
            c = check_candidate(cand)
            if not c.ok:
                reasons.append(f"candidate {i + 1}: {c.reason}")
            names.extend(c.names)
        if not reasons and task.target not in names:
            reasons.append(f"the proof does not define {task.target}")
        if reasons:
            return Verdict(theorem.name, False, tuple(reasons), seconds=time.monotonic() - t0)
        saved = (self._task, self._session, self._base_loaded, self._stack)
        self._task, self._session, self._base_loaded, self._stack = task, None, False, []
        axioms: list[str] = []
        try:
            frags: tuple[Fragment, ...] = ()
            session = self._sync(())
            for cand in proof:
                frag = self._fragment(cand, frags, check_candidate(cand).names)
                resp = session.push(frag.code, frag.line, timeout=self.config.timeout).response
                bad = [i for i in resp.issues if i.level == "error" or i.number in (WARN_ON_USE, TOP_LEVEL_EFFECT)]
                axioms += [i.message.strip() for i in resp.issues if i.number == WARN_ON_USE]
                if not resp.ok or bad:
                    reasons.append(self._error(resp, frag).message if not bad else bad[0].message.strip())
                    break
                frags += (frag,)
        except EnvError as e:
            reasons.append(f"F* failed during verification: {e}")
        finally:
            if self._session is not None:
                self._session.kill()
            self._task, self._session, self._base_loaded, self._stack = saved
        return Verdict(theorem.name, not reasons, tuple(reasons), tuple(axioms), time.monotonic() - t0)

    def close(self) -> None:
        self._drop_process()
        shutil.rmtree(self._scratch, ignore_errors=True)


def _require_ok(resp: Response, what: str) -> None:
    if not resp.ok:
        raise EnvCrashError(f"F* refused {what}: {resp.response}")


def _require_clean(resp: Response, what: str) -> None:
    if not resp.ok or resp.errors:
        detail = "; ".join(i.message.strip() for i in resp.errors) or str(resp.response)
        raise EnvStartError(f"F* rejected {what}: {detail}")
