"""One Lean REPL process and its verbs: a method per request kind (PyPantograph style).

The session owns a `ProverProcess` (the project's one process supervisor). Any failure mid-request
(timeout, EOF, garbage, a reply of the wrong shape) kills the process: its env/proofState ids are
then meaningless, which `generation` tells callers. The next request starts a fresh process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from proofsmith.envs.base import EnvCrashError, EnvStartError, EnvTimeoutError, ProverNotInstalledError
from proofsmith.envs.lean import messages as m
from proofsmith.envs.lean.framing import GarbageError, ResponseReader, encode_request
from proofsmith.envs.process import ProcessConfig, ProverProcess

INSTALL_HINT = (
    "install elan (curl https://elan.lean-lang.org/elan-init.sh -sSf | sh), then build the REPL at the tag "
    "matching your project's lean-toolchain (git clone https://github.com/leanprover-community/repl && "
    "cd repl && git checkout v<toolchain> && lake build); see docs/lean.md"
)


@dataclass(frozen=True)
class LeanReplConfig:
    """How to run the REPL and how patient to be with it.

    `argv` wins when given. Otherwise, with `repl` (a built `repl` binary) the command is
    `lake env <repl>` inside `project_dir` (so the project's .olean files are found), or plain
    `<repl>` without a project; with neither, `lake exe repl` in `project_dir`.
    """

    project_dir: Path | None = None
    repl: str | None = None
    argv: tuple[str, ...] | None = None
    memory_limit: int | None = 32 * 1024**3  # address space; Lean maps Mathlib's .olean files
    timeout: float = 60.0  # seconds per tactic (the REPL has no timeout of its own)
    start_timeout: float = 600.0  # seconds per command: `import Mathlib`, theorem statements, verify
    recycle_after: int | None = None  # restart after this many requests (the REPL never frees ids)
    allow_sorry: bool = False
    allowed_axioms: tuple[str, ...] = ("propext", "Classical.choice", "Quot.sound")
    extra_env: dict[str, str] = field(default_factory=dict, hash=False)

    def command(self) -> tuple[str, ...]:
        if self.argv:
            return tuple(self.argv)
        if self.repl:
            return ("lake", "env", self.repl) if self.project_dir else (self.repl,)
        return ("lake", "exe", "repl")

    def process_config(self) -> ProcessConfig:
        return ProcessConfig(
            argv=self.command(),
            cwd=str(self.project_dir) if self.project_dir else None,
            memory_limit=self.memory_limit,
            extra_env=dict(self.extra_env),
        )


class ReplSession:
    """A REPL process plus request/response plumbing. Ids are valid for one `generation` only."""

    def __init__(self, config: LeanReplConfig):
        self.config = config
        self.process = ProverProcess(config.process_config())
        self.generation = 0  # bumped at every (re)start
        self.requests_in_generation = 0
        self._reader = ResponseReader()

    # ------------------------------------------------------------------ lifecycle
    def ensure_started(self) -> None:
        if self.process.alive:
            return
        self.process.kill()  # reap a dead one, if any
        try:
            self.process.start()
        except EnvStartError as e:
            raise ProverNotInstalledError(f"{e}; {INSTALL_HINT}") from e
        self._reader.clear()
        self.generation += 1
        self.requests_in_generation = 0

    def reset(self) -> None:
        """Kill the process; every id it gave out is void. The next request starts a new one."""
        self.process.kill()
        self._reader.clear()

    close = reset

    # ------------------------------------------------------------------ transport
    def request(self, request: m.Request, timeout: float | None = None) -> m.Response:
        self.ensure_started()
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            self.process.write(encode_request(request.to_json()))
            self.requests_in_generation += 1
            obj = self._reader.read(self.process.read_chunk, deadline)
            return m.check_kind(request, m.parse_response(obj))
        except EnvTimeoutError:
            self.reset()
            raise EnvTimeoutError(f"Lean REPL gave no reply within {timeout}s; process killed") from None
        except EnvCrashError:
            self.reset()
            raise
        except (GarbageError, m.ProtocolError) as e:
            self.reset()
            raise EnvCrashError(f"Lean REPL spoke garbage, process killed: {e}") from e

    # ------------------------------------------------------------------ verbs
    def command(
        self,
        cmd: str,
        env: int | None = None,
        *,
        all_tactics: bool = False,
        root_goals: bool = False,
        infotree: str | None = None,
        timeout: float | None = None,
    ) -> m.CommandResponse | m.ReplError:
        return self.request(m.Command(cmd, env, all_tactics, root_goals, infotree), timeout)  # type: ignore[return-value]

    def file(
        self,
        path: str,
        env: int | None = None,
        *,
        all_tactics: bool = False,
        root_goals: bool = False,
        infotree: str | None = None,
        timeout: float | None = None,
    ) -> m.CommandResponse | m.ReplError:
        return self.request(m.File(path, env, all_tactics, root_goals, infotree), timeout)  # type: ignore[return-value]

    def tactic(
        self, tactic: str, proof_state: int, *, timeout: float | None = None
    ) -> m.ProofStepResponse | m.ReplError:
        return self.request(m.ProofStep(tactic, proof_state), timeout)  # type: ignore[return-value]

    def pickle_env(self, path: str, env: int, *, timeout: float | None = None) -> m.CommandResponse | m.ReplError:
        return self.request(m.PickleEnvironment(path, env), timeout)  # type: ignore[return-value]

    def unpickle_env(self, path: str, *, timeout: float | None = None) -> m.CommandResponse | m.ReplError:
        return self.request(m.UnpickleEnvironment(path), timeout)  # type: ignore[return-value]

    def pickle_proof_state(
        self, path: str, proof_state: int, *, timeout: float | None = None
    ) -> m.ProofStepResponse | m.ReplError:
        return self.request(m.PickleProofState(path, proof_state), timeout)  # type: ignore[return-value]

    def unpickle_proof_state(
        self, path: str, env: int | None = None, *, timeout: float | None = None
    ) -> m.ProofStepResponse | m.ReplError:
        return self.request(m.UnpickleProofState(path, env), timeout)  # type: ignore[return-value]

    def __enter__(self) -> ReplSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
