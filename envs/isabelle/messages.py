"""Typed Isabelle server messages, one class per schema type of the System Manual's server chapter.

`parse_*` functions turn the JSON arguments of `OK`/`NOTE`/`FINISHED`/`FAILED` into these.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from proofsmith.envs.base import EnvCrashError

_NAME = re.compile(r"[A-Za-z0-9_.]*")
_SERVER_LINE = re.compile(r'server "(.*)" = (.*):(\d+) \(password "(.*)"\)')


class IsabelleProtocolError(EnvCrashError):
    """The server said something that is not a well-formed message."""


# --------------------------------------------------------------------------- wire level
@dataclass(frozen=True)
class Reply:
    """One server message: `NAME ARGUMENT` (ARGUMENT is JSON, empty, or YXML kept as text)."""

    name: str
    argument: Any = None
    raw: str = ""


def parse_reply(text: str) -> Reply:
    name = _NAME.match(text).group(0)  # type: ignore[union-attr]
    rest = text[len(name) :]
    if not name or (rest and not rest[0].isspace()):
        raise IsabelleProtocolError(f"Isabelle server sent garbage: {text[:200]!r}")
    rest = rest.strip()
    if not rest:
        return Reply(name, None, text)
    try:
        arg = json.loads(rest)
    except ValueError:
        if rest.startswith(("{", "[", '"')):
            raise IsabelleProtocolError(f"Isabelle server sent malformed JSON: {text[:200]!r}") from None
        arg = rest  # YXML or plain text
    return Reply(name, arg, text)


@dataclass(frozen=True)
class ServerAddress:
    """The `server "NAME" = HOST:PORT (password "...")` line printed by `isabelle server`."""

    name: str
    host: str
    port: int
    password: str

    @classmethod
    def parse(cls, line: str) -> ServerAddress:
        m = _SERVER_LINE.search(line)
        if not m:
            raise ValueError(f"not an Isabelle server address line: {line!r}")
        return cls(m.group(1), m.group(2), int(m.group(3)), m.group(4))


@dataclass(frozen=True)
class ServerHello:
    """The `OK` answer to the password line."""

    isabelle_id: str | None
    isabelle_name: str | None


def parse_hello(arg: Any) -> ServerHello:
    arg = arg if isinstance(arg, dict) else {}
    return ServerHello(arg.get("isabelle_id"), arg.get("isabelle_name"))


# --------------------------------------------------------------------------- schema types
@dataclass(frozen=True)
class Position:
    """`{line?, offset?, end_offset?, file?, id?}`; offsets count Isabelle symbols, 1-based."""

    line: int | None = None
    offset: int | None = None
    end_offset: int | None = None
    file: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class Message:
    """`{kind, message, pos?}` with kind writeln / warning / error."""

    kind: str
    message: str
    pos: Position | None = None


@dataclass(frozen=True)
class NodeStatus:
    ok: bool
    total: int = 0
    unprocessed: int = 0
    running: int = 0
    warned: int = 0
    failed: int = 0
    finished: int = 0
    canceled: bool = False
    consolidated: bool = False
    percentage: int = 0


@dataclass(frozen=True)
class NodeRef:
    node_name: str
    theory_name: str


@dataclass(frozen=True)
class Node:
    node_name: str
    theory_name: str
    status: NodeStatus | None
    messages: tuple[Message, ...] = ()
    exports: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Task:
    """The immediate `OK {"task": ...}` of an asynchronous command."""

    task: str


@dataclass(frozen=True)
class Note:
    """`NOTE {...}`: progress (writeln), `nodes_status`, or any other kind (kept in `raw`)."""

    task: str | None
    kind: str | None
    message: str | None = None
    theory: str | None = None
    session: str | None = None
    percentage: int | None = None
    nodes_status: tuple[tuple[NodeRef, NodeStatus], ...] = ()
    raw: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Failed:
    """`FAILED {task, kind, message, ...}`."""

    task: str | None
    kind: str | None
    message: str
    raw: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Timing:
    elapsed: float
    cpu: float
    gc: float


@dataclass(frozen=True)
class SessionBuildEntry:
    session: str
    ok: bool
    return_code: int
    timeout: bool
    timing: Timing | None


@dataclass(frozen=True)
class SessionBuildResult:
    ok: bool
    return_code: int
    sessions: tuple[SessionBuildEntry, ...]
    task: str | None = None


@dataclass(frozen=True)
class SessionStartResult:
    session_id: str
    tmp_dir: str | None
    task: str | None = None


@dataclass(frozen=True)
class SessionStopResult:
    ok: bool
    return_code: int
    task: str | None = None


@dataclass(frozen=True)
class UseTheoriesResult:
    ok: bool
    errors: tuple[Message, ...]
    nodes: tuple[Node, ...]
    task: str | None = None

    def node(self, theory: str) -> Node | None:
        """The node whose theory name is `theory` or ends with `.theory`."""
        for n in self.nodes:
            if n.theory_name == theory or n.theory_name.endswith("." + theory):
                return n
        return None


@dataclass(frozen=True)
class PurgeTheoriesResult:
    purged: tuple[NodeRef, ...]
    retained: tuple[NodeRef, ...]


# --------------------------------------------------------------------------- parsers
def _obj(arg: Any, what: str) -> dict:
    if not isinstance(arg, dict):
        raise IsabelleProtocolError(f"Isabelle {what}: expected a JSON object, got {arg!r:.200}")
    return arg


def parse_position(d: Any) -> Position | None:
    if not isinstance(d, dict):
        return None
    return Position(d.get("line"), d.get("offset"), d.get("end_offset"), d.get("file"), d.get("id"))


def parse_message(d: dict) -> Message:
    return Message(str(d.get("kind", "")), str(d.get("message", "")), parse_position(d.get("pos")))


def parse_node_status(d: Any) -> NodeStatus | None:
    if not isinstance(d, dict):
        return None
    return NodeStatus(
        ok=bool(d.get("ok", False)),
        total=int(d.get("total", 0)),
        unprocessed=int(d.get("unprocessed", 0)),
        running=int(d.get("running", 0)),
        warned=int(d.get("warned", 0)),
        failed=int(d.get("failed", 0)),
        finished=int(d.get("finished", 0)),
        canceled=bool(d.get("canceled", False)),
        consolidated=bool(d.get("consolidated", False)),
        percentage=int(d.get("percentage", 0)),
    )


def parse_node_ref(d: dict) -> NodeRef:
    return NodeRef(str(d.get("node_name", "")), str(d.get("theory_name", "")))


def parse_node(d: dict) -> Node:
    return Node(
        node_name=str(d.get("node_name", "")),
        theory_name=str(d.get("theory_name", "")),
        status=parse_node_status(d.get("status")),
        messages=tuple(parse_message(m) for m in d.get("messages", []) if isinstance(m, dict)),
        exports=tuple(d.get("exports", [])),
    )


def parse_task(arg: Any) -> Task:
    d = _obj(arg, "task reply")
    if not isinstance(d.get("task"), str):
        raise IsabelleProtocolError(f"Isabelle: asynchronous command answered without a task id: {arg!r:.200}")
    return Task(d["task"])


def parse_note(arg: Any) -> Note:
    d = _obj(arg, "NOTE")
    statuses = tuple(
        (parse_node_ref(s), parse_node_status(s.get("status")) or NodeStatus(ok=False))
        for s in d.get("nodes_status", [])
        if isinstance(s, dict)
    )
    pct = d.get("percentage")
    return Note(
        task=d.get("task"),
        kind=d.get("kind"),
        message=d.get("message"),
        theory=d.get("theory"),
        session=d.get("session"),
        percentage=int(pct) if isinstance(pct, (int, float)) else None,
        nodes_status=statuses,
        raw=d,
    )


def parse_failed(arg: Any) -> Failed:
    d = arg if isinstance(arg, dict) else {"message": str(arg)}
    return Failed(d.get("task"), d.get("kind"), str(d.get("message", "")), d)


def parse_session_build(arg: Any) -> SessionBuildResult:
    d = _obj(arg, "session_build result")
    sessions = []
    for s in d.get("sessions", []):
        t = s.get("timing")
        timing = Timing(float(t.get("elapsed", 0)), float(t.get("cpu", 0)), float(t.get("gc", 0))) if t else None
        sessions.append(
            SessionBuildEntry(
                str(s.get("session")),
                bool(s.get("ok")),
                int(s.get("return_code", 0)),
                bool(s.get("timeout", False)),
                timing,
            )
        )
    return SessionBuildResult(bool(d.get("ok")), int(d.get("return_code", 0)), tuple(sessions), d.get("task"))


def parse_session_start(arg: Any) -> SessionStartResult:
    d = _obj(arg, "session_start result")
    if not isinstance(d.get("session_id"), str):
        raise IsabelleProtocolError(f"Isabelle session_start result without session_id: {arg!r:.200}")
    return SessionStartResult(d["session_id"], d.get("tmp_dir"), d.get("task"))


def parse_session_stop(arg: Any) -> SessionStopResult:
    d = _obj(arg, "session_stop result")
    return SessionStopResult(bool(d.get("ok")), int(d.get("return_code", 0)), d.get("task"))


def parse_use_theories(arg: Any) -> UseTheoriesResult:
    d = _obj(arg, "use_theories result")
    return UseTheoriesResult(
        ok=bool(d.get("ok")),
        errors=tuple(parse_message(m) for m in d.get("errors", []) if isinstance(m, dict)),
        nodes=tuple(parse_node(n) for n in d.get("nodes", []) if isinstance(n, dict)),
        task=d.get("task"),
    )


def parse_purge_theories(arg: Any) -> PurgeTheoriesResult:
    d = _obj(arg, "purge_theories result")
    return PurgeTheoriesResult(
        tuple(parse_node_ref(n) for n in d.get("purged", [])),
        tuple(parse_node_ref(n) for n in d.get("retained", [])),
    )
