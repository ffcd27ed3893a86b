"""Typed F* IDE protocol (v3) objects: queries, responses, messages, issues, ranges, proof states."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Union

from proofsmith.envs.base import EnvCrashError


class FStarProtocolError(EnvCrashError):
    """F* printed something that is not a protocol object."""


@dataclass(frozen=True)
class Query:
    query_id: str  # must be a JSON string: a number is a protocol violation
    query: str
    args: dict = field(default_factory=dict)

    def to_line(self) -> bytes:
        obj = {"query-id": self.query_id, "query": self.query, "args": self.args}
        return (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Range:
    """`{fname, beg: [line, col], end: [line, col]}`: lines 1-based, columns 0-based, end exclusive."""

    fname: str
    beg: tuple[int, int]
    end: tuple[int, int]


@dataclass(frozen=True)
class Issue:
    level: str  # error | warning | info | not-implemented
    message: str
    ranges: tuple[Range, ...] = ()
    number: int | None = None


@dataclass(frozen=True)
class ProtocolInfo:
    version: int
    features: tuple[str, ...]


@dataclass(frozen=True)
class Response:
    query_id: str
    status: str  # success | failure | protocol-violation
    response: Any

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def issues(self) -> tuple[Issue, ...]:
        """The issue list of push/peek/full-buffer responses (empty for other shapes)."""
        if isinstance(self.response, list) and all(isinstance(x, dict) for x in self.response):
            return tuple(parse_issue(x) for x in self.response)
        return ()

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.level == "error")


@dataclass(frozen=True)
class Message:
    """`kind: message` with level info / warning / error (contents a string) or others."""

    query_id: str | None
    level: str
    contents: Any


@dataclass(frozen=True)
class Progress:
    query_id: str | None
    stage: str | None
    contents: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Hyp:
    name: str
    type: str


@dataclass(frozen=True)
class ProofGoal:
    hyps: tuple[Hyp, ...]
    type: str
    witness: str = ""
    label: str = ""


@dataclass(frozen=True)
class ProofStateDump:
    """`level: proof-state` message contents (a tactic's goal dump)."""

    query_id: str | None
    label: str
    depth: int
    urgency: int
    goals: tuple[ProofGoal, ...]
    smt_goals: tuple[ProofGoal, ...]
    location: Range | None


@dataclass(frozen=True)
class LookupResult:
    kind: str
    name: str | None
    type: str | None = None
    documentation: str | None = None
    definition: str | None = None
    defined_at: Range | None = None


Output = Union[ProtocolInfo, Response, Message, Progress, ProofStateDump]


# --------------------------------------------------------------------------- parsers
def parse_range(d: Any) -> Range | None:
    try:
        return Range(
            str(d.get("fname", "")), (int(d["beg"][0]), int(d["beg"][1])), (int(d["end"][0]), int(d["end"][1]))
        )
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):
        return None


def parse_issue(d: dict) -> Issue:
    ranges = tuple(r for r in (parse_range(x) for x in d.get("ranges", []) or []) if r is not None)
    num = d.get("number")
    return Issue(str(d.get("level", "")), str(d.get("message", "")), ranges, int(num) if isinstance(num, int) else None)


def _goal(d: dict) -> ProofGoal:
    g = d.get("goal", {}) or {}
    hyps = tuple(Hyp(str(h.get("name", "")), str(h.get("type", ""))) for h in d.get("hyps", []) or [])
    return ProofGoal(hyps, str(g.get("type", "")), str(g.get("witness", "")), str(g.get("label", "")))


def parse_proof_state(qid: str | None, c: dict) -> ProofStateDump:
    return ProofStateDump(
        qid,
        str(c.get("label", "")),
        int(c.get("depth", 0)),
        int(c.get("urgency", 0)),
        tuple(_goal(g) for g in c.get("goals", []) or []),
        tuple(_goal(g) for g in c.get("smt-goals", []) or []),
        parse_range(c.get("location")),
    )


def parse_lookup(d: Any) -> LookupResult | None:
    if not isinstance(d, dict):
        return None
    return LookupResult(
        str(d.get("kind", "")),
        d.get("name"),
        d.get("type"),
        d.get("documentation"),
        d.get("definition"),
        parse_range(d.get("defined-at")),
    )


def parse_output(line: str) -> Output:
    try:
        obj = json.loads(line)
    except ValueError as e:
        raise FStarProtocolError(f"F* printed malformed JSON: {line[:200]!r}") from e
    if not isinstance(obj, dict):
        raise FStarProtocolError(f"F* printed a JSON value that is not an object: {line[:200]!r}")
    kind = obj.get("kind")
    qid = obj.get("query-id")
    if kind == "protocol-info":
        version, features = obj.get("version", 0), obj.get("features", []) or []
        if not isinstance(version, int) or not isinstance(features, list):
            raise FStarProtocolError(f"F* protocol-info with a malformed version/features: {line[:200]!r}")
        return ProtocolInfo(version, tuple(features))
    if kind == "response":
        if not isinstance(qid, str) or "status" not in obj:
            raise FStarProtocolError(f"F* response without query-id/status: {line[:200]!r}")
        return Response(qid, str(obj["status"]), obj.get("response"))
    if kind == "message":
        level = str(obj.get("level", ""))
        contents = obj.get("contents")
        if level == "progress":
            c = contents if isinstance(contents, dict) else {}
            return Progress(qid, c.get("stage"), c)
        if level == "proof-state" and isinstance(contents, dict):
            return parse_proof_state(qid, contents)
        return Message(qid, level, contents)
    raise FStarProtocolError(f"F* printed an object of unknown kind {kind!r}: {line[:200]!r}")
