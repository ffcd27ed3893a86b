"""LeanDojo-compatible facade over `LeanEnvironment`, so ReProver-style code runs unchanged.

    with Dojo(theorem) as (dojo, state):
        result = dojo.run_tac(state, "simp")

Results are `lean_dojo`'s own `TacticState`, `ProofFinished`, `LeanError` and `ProofGivenUp` (and
its `Dojo*Error` exceptions) when `lean_dojo` is importable (`pip install proofsmith[lean]`), else
the same-named frozen dataclasses below. As in LeanDojo, `sorry` reaches Lean and comes back as
`ProofGivenUp`, a failed tactic allocates no state, and only a kernel-checked proof finishes.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Union

from proofsmith.envs import base
from proofsmith.envs.lean.environment import LeanEnvironment
from proofsmith.envs.lean.goals import parse_goal
from proofsmith.envs.lean.session import LeanReplConfig


# --------------------------------------------------------------------------- fallback classes
@dataclass(frozen=True)
class TacticState:
    pp: str
    id: int = field(compare=False)
    message: str | None = field(default=None, compare=False)

    @property
    def goals(self) -> list[base.Goal]:
        return [parse_goal(g) for g in self.pp.split("\n\n") if "⊢" in g]

    @property
    def num_goals(self) -> int:
        return len(self.goals)


@dataclass(frozen=True)
class ProofFinished:
    tactic_state_id: int
    message: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ProofGivenUp:
    pass


@dataclass(frozen=True)
class LeanError:
    error: str


class DojoInitError(base.EnvStartError):
    pass


class DojoCrashError(base.EnvCrashError):
    pass


class DojoTacticTimeoutError(base.EnvTimeoutError):
    pass


TacticResult = Union[TacticState, ProofFinished, LeanError, ProofGivenUp]
_NAMES = (
    "TacticState",
    "ProofFinished",
    "ProofGivenUp",
    "LeanError",
    "DojoInitError",
    "DojoCrashError",
    "DojoTacticTimeoutError",
)


def result_classes() -> SimpleNamespace:
    """`lean_dojo`'s classes when it is importable, else ours (looked up at each Dojo's creation)."""
    ours = {name: globals()[name] for name in _NAMES}
    try:
        lean_dojo = importlib.import_module("lean_dojo")
    except ImportError:
        return SimpleNamespace(**ours, source="proofsmith")
    return SimpleNamespace(**{n: getattr(lean_dojo, n, ours[n]) for n in _NAMES}, source="lean_dojo")


# --------------------------------------------------------------------------- Dojo
class Dojo:
    """`Dojo(entry, timeout=600, additional_imports=[])` on the Lean REPL.

    `entry` is a `TheoremRef`, or a LeanDojo-style theorem (`file_path`, `full_name`) resolved
    inside `config.project_dir`. `timeout` bounds each tactic, as LeanDojo's does.
    """

    def __init__(
        self,
        entry: Any,
        timeout: float = 600,
        additional_imports: Sequence[str] = (),
        *,
        config: LeanReplConfig | None = None,
        environment: LeanEnvironment | None = None,
    ):
        self.cls = result_classes()
        self.timeout = timeout
        self.config = config or (environment.config if environment else LeanReplConfig())
        self.theorem = self._theorem_ref(entry, additional_imports)
        self._env = environment
        self._owns_env = environment is None
        self._states: dict[int, base.TacticState] = {}
        self.is_successful: bool | None = None

    def __enter__(self) -> tuple[Dojo, Any]:
        if self._env is None:
            # As in LeanDojo, `sorry` is sent to Lean and reported as ProofGivenUp.
            self._env = LeanEnvironment(dataclasses.replace(self.config, allow_sorry=True))
        try:
            init = self._env.start(self.theorem)
        except base.EnvError as e:
            self.__exit__(None, None, None)
            raise self.cls.DojoInitError(str(e)) from e
        self.is_successful = False
        return self, self._wrap_state(init)

    def __exit__(self, *exc) -> None:
        if self._owns_env and self._env is not None:
            self._env.close()
            self._env = None

    def run_tac(self, state: Any, tactic: str) -> Any:
        if not isinstance(state, self.cls.TacticState):
            raise RuntimeError(f"run_tac needs a TacticState, got {type(state).__name__}")
        if self._env is None:
            raise RuntimeError("the Dojo is not entered (use `with Dojo(...) as (dojo, state)`)")
        ours = self._states.get(state.id)
        if ours is None:
            raise RuntimeError(f"unknown tactic state id {state.id}")
        try:
            result = self._env.run_tactic(ours, tactic, timeout=self.timeout)
        except base.EnvTimeoutError as e:
            raise self.cls.DojoTacticTimeoutError(str(e)) from e
        except base.EnvCrashError as e:
            raise self.cls.DojoCrashError("OOM" if e.is_out_of_memory else str(e)) from e
        if isinstance(result, base.TacticState):
            return self._wrap_state(result)
        if isinstance(result, base.ProofFinished):
            self.is_successful = True
            return self.cls.ProofFinished(tactic_state_id=result.id, message=result.message or "")
        if isinstance(result, base.ProofGivenUp):
            return self.cls.ProofGivenUp()
        assert isinstance(result, base.TacticError)
        return self.cls.LeanError(error=result.message.strip())

    # ------------------------------------------------------------------ helpers
    def _wrap_state(self, state: base.TacticState) -> Any:
        self._states[state.id] = state
        return self.cls.TacticState(pp=state.pp, id=state.id, message=state.message)

    def _theorem_ref(self, entry: Any, additional_imports: Sequence[str]) -> base.TheoremRef:
        imports = "\n".join(f"import {i}" for i in additional_imports)
        if isinstance(entry, base.TheoremRef):
            if imports and entry.statement is None:
                raise self.cls.DojoInitError("additional_imports needs a statement theorem, not a file theorem")
            if imports:
                return dataclasses.replace(entry, header="\n".join(p for p in (imports, entry.header) if p))
            return entry
        if hasattr(entry, "file_path") and hasattr(entry, "full_name"):
            if imports:
                raise self.cls.DojoInitError("additional_imports needs a statement theorem, not a file theorem")
            if self.config.project_dir is None:
                raise self.cls.DojoInitError("a LeanDojo Theorem needs LeanReplConfig.project_dir (the repo checkout)")
            path = Path(self.config.project_dir) / Path(entry.file_path)
            return base.TheoremRef.from_file(path, entry.full_name, backend="lean")
        raise self.cls.DojoInitError(f"unsupported Dojo entry {entry!r} (command mode is not offered)")
