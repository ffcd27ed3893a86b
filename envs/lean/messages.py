"""Typed requests and responses of the Lean REPL, one class per JSON shape (REPL/JSON.lean).

Requests know their wire form (`to_json`) and which response kind they expect. Responses are parsed
with `parse_response`; each has a `to_json` that gives back the wire dict (keys omitted exactly when
the REPL omits them), so a parse can be checked loss-free against a recorded transcript.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

SORRY_WARNINGS = ("declaration uses 'sorry'", "declaration uses `sorry`")  # before/after Lean v4.28
COMPLETED = "Completed"
CONTAINS_SORRY = "Incomplete: contains sorry"
LEAN_ERROR_PREFIX = "Lean error:\n"


class ProtocolError(ValueError):
    """A reply that is valid JSON but matches no REPL response shape (or the wrong one)."""


# --------------------------------------------------------------------------- pieces
@dataclass(frozen=True)
class Pos:
    """`line` is 1-based (0 in tactic mode), `column` a 0-based count of Unicode codepoints."""

    line: int
    column: int

    @classmethod
    def from_json(cls, obj: Any) -> Pos:
        return cls(line=_int(obj, "line"), column=_int(obj, "column"))

    def to_json(self) -> dict:
        return {"line": self.line, "column": self.column}


@dataclass(frozen=True)
class Message:
    severity: str  # "info" | "warning" | "error" ("trace" exists but is never produced)
    pos: Pos
    end_pos: Pos | None
    data: str

    @classmethod
    def from_json(cls, obj: Any) -> Message:
        end = _get(obj, "endPos")
        return cls(
            severity=_str(obj, "severity"),
            pos=Pos.from_json(_get(obj, "pos")),
            end_pos=None if end is None else Pos.from_json(end),
            data=_str(obj, "data"),
        )

    def to_json(self) -> dict:
        return {
            "severity": self.severity,
            "pos": self.pos.to_json(),
            "endPos": None if self.end_pos is None else self.end_pos.to_json(),
            "data": self.data,
        }

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    @property
    def is_sorry_warning(self) -> bool:
        return self.severity == "warning" and self.data in SORRY_WARNINGS


@dataclass(frozen=True)
class Sorry:
    """A `sorry` with its goal and (usually) a proof state to continue from.

    `pos`/`endPos` are absent for sorries created in tactic mode.
    """

    goal: str
    proof_state: int | None
    pos: Pos | None = None
    end_pos: Pos | None = None

    @classmethod
    def from_json(cls, obj: Any) -> Sorry:
        pos, end = _get(obj, "pos", None), _get(obj, "endPos", None)
        ps = _get(obj, "proofState", None)
        return cls(
            goal=_str(obj, "goal"),
            proof_state=None if ps is None else _int(obj, "proofState"),
            pos=None if pos is None else Pos.from_json(pos),
            end_pos=None if end is None else Pos.from_json(end),
        )

    def to_json(self) -> dict:
        d: dict = {"goal": self.goal, "proofState": self.proof_state}
        if self.pos is not None:
            d["pos"] = self.pos.to_json()
        if self.end_pos is not None:
            d["endPos"] = self.end_pos.to_json()
        return d


@dataclass(frozen=True)
class Tactic:
    """One `allTactics` entry. `goals` is a single string (all goals), possibly "no goals"."""

    tactic: str
    goals: str
    proof_state: int
    pos: Pos
    end_pos: Pos
    used_constants: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, obj: Any) -> Tactic:
        return cls(
            tactic=_str(obj, "tactic"),
            goals=_str(obj, "goals"),
            proof_state=_int(obj, "proofState"),
            pos=Pos.from_json(_get(obj, "pos")),
            end_pos=Pos.from_json(_get(obj, "endPos")),
            used_constants=tuple(_str_list(obj, "usedConstants", required=False)),  # since PR #59
        )

    def to_json(self) -> dict:
        return {
            "tactic": self.tactic,
            "goals": self.goals,
            "proofState": self.proof_state,
            "pos": self.pos.to_json(),
            "endPos": self.end_pos.to_json(),
            "usedConstants": list(self.used_constants),
        }


# --------------------------------------------------------------------------- responses
@dataclass(frozen=True)
class CommandResponse:
    """Answer to `cmd`, `path`, and the environment (un)pickle requests. Every command gets a new env."""

    env: int
    messages: tuple[Message, ...] = ()
    sorries: tuple[Sorry, ...] = ()
    tactics: tuple[Tactic, ...] = ()
    infotree: list | None = field(default=None, hash=False)  # kept as raw JSON

    @property
    def errors(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.is_error)

    def to_json(self) -> dict:
        d: dict = {"env": self.env}
        _put_list(d, "messages", self.messages)
        _put_list(d, "sorries", self.sorries)
        _put_list(d, "tactics", self.tactics)
        if self.infotree is not None:
            d["infotree"] = self.infotree
        return d


@dataclass(frozen=True)
class ProofStepResponse:
    """Answer to a tactic step and to the proof-state (un)pickle requests.

    `proof_status` is None only for REPL releases older than PR #63, which do not send it; such a
    response can never count as a finished proof.
    """

    proof_state: int
    goals: tuple[str, ...]
    proof_status: str | None = None
    messages: tuple[Message, ...] = ()
    sorries: tuple[Sorry, ...] = ()
    traces: tuple[str, ...] = ()

    @property
    def errors(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.is_error)

    @property
    def completed(self) -> bool:
        return self.proof_status == COMPLETED and not self.goals and not self.errors

    def to_json(self) -> dict:
        d: dict = {"proofState": self.proof_state, "goals": list(self.goals)}
        if self.proof_status is not None:
            d["proofStatus"] = self.proof_status
        _put_list(d, "messages", self.messages)
        _put_list(d, "sorries", self.sorries)
        if self.traces:
            d["traces"] = list(self.traces)
        return d


@dataclass(frozen=True)
class ReplError:
    """`{"message": ...}`: unknown env/proof state, a tactic that threw ("Lean error:\\n..."), I/O error."""

    message: str

    @property
    def is_lean_error(self) -> bool:
        return self.message.startswith(LEAN_ERROR_PREFIX)

    @property
    def text(self) -> str:
        """The message without the "Lean error:" channel prefix."""
        return self.message[len(LEAN_ERROR_PREFIX) :] if self.is_lean_error else self.message

    def to_json(self) -> dict:
        return {"message": self.message}


Response = Union[CommandResponse, ProofStepResponse, ReplError]


def parse_response(obj: Any) -> Response:
    """Classify and parse one reply (protocol spec §4, "Discriminating a response")."""
    if not isinstance(obj, dict):
        raise ProtocolError(f"reply is not a JSON object: {obj!r:.200}")
    try:
        if "message" in obj and "env" not in obj and "proofState" not in obj:
            return ReplError(message=_str(obj, "message"))
        if "proofStatus" in obj or "goals" in obj:
            return ProofStepResponse(
                proof_state=_int(obj, "proofState"),
                goals=tuple(_str_list(obj, "goals")),
                proof_status=_get(obj, "proofStatus", None),
                messages=tuple(Message.from_json(m) for m in _list(obj, "messages")),
                sorries=tuple(Sorry.from_json(s) for s in _list(obj, "sorries")),
                traces=tuple(_str_list(obj, "traces", required=False)),
            )
        return CommandResponse(
            env=_int(obj, "env"),
            messages=tuple(Message.from_json(m) for m in _list(obj, "messages")),
            sorries=tuple(Sorry.from_json(s) for s in _list(obj, "sorries")),
            tactics=tuple(Tactic.from_json(t) for t in _list(obj, "tactics")),
            infotree=obj.get("infotree"),
        )
    except (KeyError, TypeError) as e:
        raise ProtocolError(f"malformed reply ({e}): {obj!r:.200}") from e


# --------------------------------------------------------------------------- requests
@dataclass(frozen=True)
class Command:
    """`{"cmd": ...}`. Without `env` a fresh environment is built and `import` lines are allowed."""

    cmd: str
    env: int | None = None
    all_tactics: bool = False
    root_goals: bool = False
    infotree: str | None = None  # "full" | "tactics" | "original" | "substantive"
    expects = CommandResponse

    def to_json(self) -> dict:
        return _with_options({"cmd": self.cmd}, self.env, self.all_tactics, self.root_goals, self.infotree)


@dataclass(frozen=True)
class File:
    """`{"path": ...}`: run a file (relative to the REPL's working directory) as one command."""

    path: str
    env: int | None = None
    all_tactics: bool = False
    root_goals: bool = False
    infotree: str | None = None
    expects = CommandResponse

    def to_json(self) -> dict:
        return _with_options({"path": self.path}, self.env, self.all_tactics, self.root_goals, self.infotree)


@dataclass(frozen=True)
class ProofStep:
    tactic: str
    proof_state: int
    expects = ProofStepResponse

    def to_json(self) -> dict:
        return {"tactic": self.tactic, "proofState": self.proof_state}


@dataclass(frozen=True)
class PickleEnvironment:
    """Answers `{"env": same id}`."""

    pickle_to: str
    env: int
    expects = CommandResponse

    def to_json(self) -> dict:
        return {"pickleTo": self.pickle_to, "env": self.env}


@dataclass(frozen=True)
class UnpickleEnvironment:
    unpickle_env_from: str
    expects = CommandResponse

    def to_json(self) -> dict:
        return {"unpickleEnvFrom": self.unpickle_env_from}


@dataclass(frozen=True)
class PickleProofState:
    """Answers a full ProofStepResponse under a *new* proof-state id."""

    pickle_to: str
    proof_state: int
    expects = ProofStepResponse

    def to_json(self) -> dict:
        return {"pickleTo": self.pickle_to, "proofState": self.proof_state}


@dataclass(frozen=True)
class UnpickleProofState:
    unpickle_proof_state_from: str
    env: int | None = None  # reuse this environment instead of re-importing
    expects = ProofStepResponse

    def to_json(self) -> dict:
        d: dict = {"unpickleProofStateFrom": self.unpickle_proof_state_from}
        if self.env is not None:
            d["env"] = self.env
        return d


Request = Union[Command, File, ProofStep, PickleEnvironment, UnpickleEnvironment, PickleProofState, UnpickleProofState]


def check_kind(request: Request, response: Response) -> Response:
    """An Error may answer anything; otherwise the reply must be the kind the request expects."""
    if isinstance(response, ReplError) or isinstance(response, request.expects):
        return response
    raise ProtocolError(f"{type(request).__name__} got a {type(response).__name__} reply")


# --------------------------------------------------------------------------- helpers
def _with_options(d: dict, env, all_tactics, root_goals, infotree) -> dict:
    if env is not None:
        d["env"] = env
    if all_tactics:
        d["allTactics"] = True
    if root_goals:
        d["rootGoals"] = True
    if infotree is not None:
        d["infotree"] = infotree
    return d


_MISSING = object()


def _get(obj: Any, key: str, default: Any = _MISSING) -> Any:
    if not isinstance(obj, dict):
        raise TypeError(f"expected an object holding {key!r}")
    if key in obj:
        return obj[key]
    if default is _MISSING:
        raise KeyError(key)
    return default


def _int(obj: Any, key: str) -> int:
    v = _get(obj, key)
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError(f"{key!r} is not an integer")
    return v


def _str(obj: Any, key: str) -> str:
    v = _get(obj, key)
    if not isinstance(v, str):
        raise TypeError(f"{key!r} is not a string")
    return v


def _list(obj: Any, key: str) -> list:
    v = _get(obj, key, None)
    if v is None:
        return []
    if not isinstance(v, list):
        raise TypeError(f"{key!r} is not a list")
    return v


def _str_list(obj: Any, key: str, required: bool = True) -> list[str]:
    v = _get(obj, key) if required else _list(obj, key)
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise TypeError(f"{key!r} is not a list of strings")
    return v


def _put_list(d: dict, key: str, items) -> None:
    if items:
        d[key] = [x.to_json() for x in items]
