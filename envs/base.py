"""The one definition of proof-environment result types, errors and the `Environment` protocol.

Names and meanings mirror LeanDojo (`TacticState`, `ProofFinished`, `ProofGivenUp`, a
tactic error) so that ReProver-style code reads the same on every backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, Union, runtime_checkable


# --------------------------------------------------------------------------- goals/states
@dataclass(frozen=True)
class Goal:
    """One open goal: hypotheses as printed by the prover (`name : type`), and the conclusion."""

    hypotheses: tuple[str, ...]
    conclusion: str
    name: str | None = None

    @property
    def pp(self) -> str:
        lines = [*self.hypotheses, f"⊢ {self.conclusion}"]
        if self.name:
            lines.insert(0, f"case {self.name}")
        return "\n".join(lines)


@dataclass(frozen=True)
class TacticState:
    """An open proof state. Equality and hashing use `pp` only (as in LeanDojo)."""

    pp: str
    id: int = field(compare=False)
    goals: tuple[Goal, ...] = field(default=(), compare=False)
    message: str | None = field(default=None, compare=False)

    @property
    def num_goals(self) -> int:
        return len(self.goals)


@dataclass(frozen=True)
class ProofFinished:
    """No goals remain *and* the prover accepted the proof (Coq: `Qed` went through)."""

    id: int
    proof: tuple[str, ...]
    message: str | None = None


@dataclass(frozen=True)
class TacticError:
    """The tactic was rejected; the state it ran on stays valid.

    `pos` is a `(start, end)` pair of character offsets into the tactic text, when known.
    """

    message: str
    pos: tuple[int, int] | None = None


@dataclass(frozen=True)
class TacticRefused(TacticError):
    """The input was refused before it reached the prover (not a tactic, unsafe, too long...)."""


CIRCULAR = "circular"  # how a reason for refusing a proof as circular starts (live check and `verify`)


class CircularProof(TacticError):
    """All goals were closed, but the proof uses the theorem's own library as compiled (a library
    theorem replayed from its file, proved with a lemma its file states later): the re-check would
    refuse it, so it is not a finished proof. The state it ran on stays valid."""


@dataclass(frozen=True)
class ProofGivenUp:
    """All goals were closed, but with admit/sorry/give_up: never a proof."""

    message: str | None = None


TacticResult = Union[TacticState, ProofFinished, TacticError, ProofGivenUp]


# --------------------------------------------------------------------------- errors
class EnvError(Exception):
    """Base class of environment failures."""


class EnvStartError(EnvError):
    """The prover could not start, or the theorem could not be loaded."""


class EnvCrashError(EnvError):
    """The prover process died (or spoke garbage). The environment restarts it before raising."""

    def __init__(self, message: str, is_out_of_memory: bool = False):
        super().__init__(message)
        self.is_out_of_memory = is_out_of_memory


class EnvTimeoutError(EnvError):
    """No reply within the deadline. The hung process has been killed and replaced."""


class ProverNotInstalledError(EnvStartError):
    """The prover's executable is missing; the message names the install command."""


# --------------------------------------------------------------------------- theorems, verdicts
@dataclass(frozen=True)
class TheoremRef:
    """A theorem to prove.

    Either a named theorem in a file (`file_path` + `name`; its context is everything before it in
    that file), or a self-contained statement (`statement` with its `header` of imports).
    `load_paths` give the prover the project's logical paths, when any; `coq_flags` the Coq flags its
    library is compiled with (see `proofsmith.envs.coq.flags`).
    """

    name: str
    file_path: Path | None = None
    statement: str | None = None
    header: str = ""
    load_paths: tuple[tuple[str, str], ...] = ()  # (directory, logical prefix) pairs, Coq's -R
    backend: str = "coq"
    # 1-based (line, column) of the statement in `file_path`, as traced: picks the declaration when the
    # file declares the name more than once (in several modules, sections or functor bodies)
    position: tuple[int, int] | None = None
    # Coq flags the theorem's library is compiled with (HoTT: ("-noinit", "-indices-matter")), as traced;
    # () lets the Coq backend find them (the project's _CoqProject, the installed library's package list entry)
    coq_flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.file_path is None) == (self.statement is None):
            raise ValueError("TheoremRef needs exactly one of file_path or statement")

    @classmethod
    def from_file(cls, path: str | Path, name: str, **kw) -> TheoremRef:
        return cls(name=name, file_path=Path(path).resolve(), **kw)

    @classmethod
    def from_statement(cls, statement: str, name: str, header: str = "", **kw) -> TheoremRef:
        return cls(name=name, statement=statement, header=header, **kw)


@dataclass(frozen=True)
class Verdict:
    """Outcome of a whole-theorem batch re-check plus axiom audit."""

    theorem: str
    verified: bool
    reasons: tuple[str, ...] = ()
    axioms: tuple[str, ...] = ()
    seconds: float = 0.0

    def __bool__(self) -> bool:  # `if env.verify(...)` reads naturally
        return self.verified


# --------------------------------------------------------------------------- protocol
@runtime_checkable
class Environment(Protocol):
    """What every backend offers. Any earlier `TacticState` may be passed again (backtracking)."""

    def start(self, theorem: TheoremRef) -> TacticState: ...

    def run_tactic(self, state: TacticState, tactic: str, timeout: float | None = None) -> TacticResult: ...

    def verify(self, theorem: TheoremRef, proof: Sequence[str]) -> Verdict: ...

    def close(self) -> None: ...

    def __enter__(self) -> Environment: ...

    def __exit__(self, *exc) -> None: ...


class EnvironmentBase:
    """Context-manager plumbing shared by the backends."""

    def close(self) -> None:  # pragma: no cover - overridden
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
