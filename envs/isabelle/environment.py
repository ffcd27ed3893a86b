"""`IsabelleEnvironment`: the Environment protocol over the official Isabelle server.

A state is the proof text so far. Each step is checked by writing a fresh theory (unique name)
holding the lemma and all steps, followed by `print_state` and `oops` while the proof is still
open: `print_state` reports the goals after the last step as a writeln message on its line, and
`oops` drops the unfinished proof without an error (`sorry` would also do, but would register a
fake theorem). When the steps close the proof (counted by `steps.open_claims`), the theory ends
with the proof itself instead, and a clean check is a `ProofFinished`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from proofsmith.envs.base import (
    EnvCrashError,
    EnvError,
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
from proofsmith.envs.isabelle.client import IsabelleClient, IsabelleTaskFailed, IsabelleTaskTimeout
from proofsmith.envs.isabelle.messages import Message, ServerAddress, UseTheoriesResult
from proofsmith.envs.isabelle.server import IsabelleServerProcess, ServerConfig
from proofsmith.envs.isabelle.steps import check_step, open_claims
from proofsmith.envs.isabelle.symbols import symbol_range_to_chars
from proofsmith.envs.isabelle.theory import CheckTheory, IsabelleTask, load_task, parse_goals, render


@dataclass
class IsabelleConfig:
    server: ServerConfig = field(default_factory=ServerConfig)
    attach: ServerAddress | None = None  # talk to a running server instead of spawning one
    session: str = "HOL"
    session_dirs: Sequence[str] = ()
    session_options: Sequence[str] = ()
    session_start_timeout: float | None = 3600.0  # may build heaps on first use
    timeout: float = 300.0  # client deadline per check, unless run_tactic passes one
    watchdog_timeout: float = 120.0  # server side: no PIDE progress for this long ends the check
    cancel_grace: float = 5.0
    allow_sorry: bool = False
    allow_sledgehammer: bool = False
    work_dir: str | None = None  # where theory files are written (must be readable by the server)


class IsabelleEnvironment(EnvironmentBase):
    def __init__(self, config: IsabelleConfig | None = None):
        self.config = config or IsabelleConfig()
        self._server: IsabelleServerProcess | None = None
        self._client: IsabelleClient | None = None
        self._session_id: str | None = None
        self._dir = tempfile.mkdtemp(prefix="proofsmith-isabelle-", dir=self.config.work_dir)
        self._task: IsabelleTask | None = None
        self._states: dict[int, tuple[str, ...]] = {}
        self._pp: dict[int, str] = {}
        self.restarts = 0

    # ------------------------------------------------------------------ server & session
    def _ensure_session(self) -> tuple[IsabelleClient, str]:
        if self._client is None:
            if self.config.attach is not None:
                address = self.config.attach
            else:
                self._server = IsabelleServerProcess(self.config.server)
                address = self._server.start()
            self._client = IsabelleClient(address, cancel_grace=self.config.cancel_grace)
        if self._session_id is None:
            try:
                started = self._client.session_start(
                    self.config.session,
                    dirs=self.config.session_dirs,
                    options=self.config.session_options,
                    timeout=self.config.session_start_timeout,
                )
            except EnvTimeoutError as e:
                raise EnvStartError(f"Isabelle session_start {self.config.session} timed out: {e}") from e
            except IsabelleTaskFailed as e:
                raise EnvStartError(str(e)) from e
            self._session_id = started.session_id
        return self._client, self._session_id

    def _drop_session(self) -> None:
        """Stop the session (best effort) so the next call starts a fresh one."""
        sid, self._session_id = self._session_id, None
        if sid and self._client is not None:
            try:
                self._client.session_stop(sid, timeout=self.config.cancel_grace)
            except EnvError:
                pass

    def _recover(self, hard: bool) -> None:
        """After a timeout or crash: fresh session; a fresh server too if ours died or went silent."""
        self.restarts += 1
        server_dead = self._server is not None and not self._server.alive
        if not server_dead and self._client is not None:
            try:
                self._client.help()
            except EnvError:
                server_dead = True
        if server_dead:
            self._session_id = None
            self._client = None
            if self._server is not None:
                self._server.stop()
                self._server = None
        elif hard:
            self._drop_session()
        try:
            self._ensure_session()
        except EnvError:
            pass  # the next call tries again and reports

    # ------------------------------------------------------------------ one check
    def _check(
        self, task: IsabelleTask, steps: Sequence[str], probe: bool, timeout: float | None
    ) -> tuple[CheckTheory, UseTheoriesResult]:
        client, session_id = self._ensure_session()
        theory = render(task, "T" + uuid.uuid4().hex, steps, probe)
        path = os.path.join(self._dir, theory.name + ".thy")
        with open(path, "w", encoding="utf-8") as f:
            f.write(theory.text)
        try:
            result = client.use_theories(
                session_id,
                [theory.name],
                master_dir=self._dir,
                watchdog_timeout=self.config.watchdog_timeout,
                timeout=timeout if timeout is not None else self.config.timeout,
            )
        except IsabelleTaskTimeout as e:
            self._recover(hard=not e.cancelled)
            raise EnvTimeoutError(f"Isabelle check timed out ({e}); session restarted") from e
        except EnvCrashError as e:
            self._recover(hard=True)
            raise EnvCrashError(f"Isabelle server failed during a check: {e}", e.is_out_of_memory) from e
        finally:
            try:
                os.unlink(path)
            except OSError:
                pass
        try:
            client.purge_theories(session_id, [theory.name], master_dir=self._dir)
        except EnvError:
            pass  # a stale node only costs memory
        return theory, result

    # ------------------------------------------------------------------ Environment
    def start(self, theorem: TheoremRef) -> TacticState:
        task = load_task(theorem)
        try:
            theory, result = self._check(task, [], probe=True, timeout=None)
        except IsabelleTaskFailed as e:
            raise EnvStartError(f"Isabelle could not load {theorem.name}: {e}") from e
        errors = _errors(result, theory)
        if errors:
            raise EnvStartError(f"Isabelle could not load {theorem.name}: " + "; ".join(m.message for m in errors))
        pp = _printed_state(result, theory)
        if pp is None:
            raise EnvStartError(f"{theorem.name}: Isabelle printed no proof state for the statement")
        self._task = task
        self._states = {0: ()}
        self._pp = {0: pp}
        return TacticState(pp=pp, id=0, goals=parse_goals(pp))

    def run_tactic(self, state: TacticState, tactic: str, timeout: float | None = None) -> TacticResult:
        if self._task is None:
            raise EnvStartError("run_tactic before start")
        if state.id not in self._states:
            return TacticRefused(f"unknown state id {state.id}")
        check = check_step(tactic, self.config.allow_sorry, self.config.allow_sledgehammer)
        if not check.ok:
            return TacticRefused(check.reason)
        steps = self._states[state.id] + (tactic.strip(),)
        left = open_claims(steps)
        if left < 0:
            return TacticRefused("the step closes more proofs than are open")
        try:
            theory, result = self._check(self._task, steps, probe=left > 0, timeout=timeout)
        except IsabelleTaskFailed as e:
            return TacticError(str(e))
        errors = _errors(result, theory)
        if errors:
            return _tactic_error(errors, theory)
        gave_up = any(check_step(s, allow_sorry=True, allow_sledgehammer=True).gives_up for s in steps)
        if left == 0:
            if gave_up:
                return ProofGivenUp("the proof uses sorry")
            return ProofFinished(id=len(self._states), proof=steps)
        pp = _printed_state(result, theory)
        if pp is None:
            return TacticError("Isabelle printed no proof state after the step")
        new_id = len(self._states)
        self._states[new_id] = steps
        self._pp[new_id] = pp
        return TacticState(pp=pp, id=new_id, goals=parse_goals(pp), message="uses sorry" if gave_up else None)

    def verify(self, theorem: TheoremRef, proof: Sequence[str]) -> Verdict:
        t0 = time.monotonic()
        task = load_task(theorem)
        steps = tuple(s.strip() for s in proof)
        reasons = [
            f"step {i + 1}: {c.reason}"
            for i, s in enumerate(steps)
            if not (c := check_step(s, allow_sorry=False, allow_sledgehammer=False)).ok
        ]
        if not reasons and open_claims(steps) != 0:
            reasons.append("the proof does not close the lemma")
        if reasons:
            return Verdict(theorem.name, False, tuple(reasons), seconds=time.monotonic() - t0)
        try:
            theory, result = self._check(task, steps, probe=False, timeout=None)
        except IsabelleTaskFailed as e:
            return Verdict(theorem.name, False, (str(e),), seconds=time.monotonic() - t0)
        errors = _errors(result, theory)
        reasons = [m.message for m in errors]
        if not result.ok and not reasons:
            reasons.append("use_theories reported ok=false")
        return Verdict(theorem.name, not reasons, tuple(reasons), seconds=time.monotonic() - t0)

    def close(self) -> None:
        try:
            self._drop_session()
        finally:
            if self._server is not None:
                self._server.stop()
                self._server = None
            self._client = None
            shutil.rmtree(self._dir, ignore_errors=True)


# --------------------------------------------------------------------------- result reading
def _node_messages(result: UseTheoriesResult, theory: CheckTheory) -> tuple[Message, ...]:
    node = result.node(theory.name)
    if node is not None:
        return node.messages
    return tuple(m for n in result.nodes for m in n.messages)


def _errors(result: UseTheoriesResult, theory: CheckTheory) -> list[Message]:
    errors = list(result.errors) or [m for m in _node_messages(result, theory) if m.kind == "error"]
    if not errors and not result.ok:
        errors = [Message("error", "Isabelle reported the theory as failed")]
    return errors


def _printed_state(result: UseTheoriesResult, theory: CheckTheory) -> str | None:
    for m in _node_messages(result, theory):
        if m.kind == "writeln" and m.pos is not None and m.pos.line == theory.print_state_line:
            return m.message
    return None


def _tactic_error(errors: list[Message], theory: CheckTheory) -> TacticError:
    start, end = theory.step_spans[-1]
    pos = None
    for m in errors:
        if m.pos is None or m.pos.offset is None:
            continue
        a, b = symbol_range_to_chars(theory.text, m.pos.offset, m.pos.end_offset or m.pos.offset + 1)
        if start <= a <= end:
            pos = (a - start, min(b, end) - start)
            break
    return TacticError("\n".join(m.message for m in errors), pos)
