"""The records of the dataset, in the LeanDojo Benchmark 4 schema (plus `backend` and, for a
multi-package corpus, `package` fields).

Theorems with their traced tactics, the provenance of the premises a tactic names, and the
`corpus.jsonl` lines (files, their imports, the premises they define); each converts to and from
LeanDojo's JSON. Positions are `(line, column)`, both 1-based, as in LeanDojo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Pos = tuple[int, int]


def pos_from_json(v: Any) -> Pos | None:
    return (int(v[0]), int(v[1])) if v is not None else None


def required_pos(v: Any) -> Pos:
    """A position the schema requires (a premise's start and end)."""
    return (int(v[0]), int(v[1]))


def pos_to_json(p: Pos | None) -> list[int] | None:
    return [p[0], p[1]] if p is not None else None


@dataclass(frozen=True)
class Provenance:
    """Where a premise named by a tactic is defined (`def_pos` is the position of its name)."""

    full_name: str
    def_path: str
    def_pos: Pos | None = None
    def_end_pos: Pos | None = None

    def to_json(self) -> dict:
        return {
            "full_name": self.full_name,
            "def_path": self.def_path,
            "def_pos": pos_to_json(self.def_pos),
            "def_end_pos": pos_to_json(self.def_end_pos),
        }

    @classmethod
    def from_json(cls, d: dict) -> Provenance:
        return cls(
            d["full_name"], d.get("def_path", ""), pos_from_json(d.get("def_pos")), pos_from_json(d.get("def_end_pos"))
        )


@dataclass(frozen=True)
class TracedTactic:
    tactic: str
    annotated_tactic: tuple[str, tuple[Provenance, ...]]  # text with <a>…</a> marks, one provenance per mark
    state_before: str
    state_after: str

    @property
    def premises(self) -> tuple[Provenance, ...]:
        return self.annotated_tactic[1]

    def to_json(self) -> dict:
        text, provs = self.annotated_tactic
        return {
            "tactic": self.tactic,
            "annotated_tactic": [text, [p.to_json() for p in provs]],
            "state_before": self.state_before,
            "state_after": self.state_after,
        }

    @classmethod
    def from_json(cls, d: dict) -> TracedTactic:
        ann = d.get("annotated_tactic")
        if ann is None:  # partial records (e.g. LeanDojo's demo output) carry no annotation
            ann = [d["tactic"], []]
        return cls(
            d["tactic"],
            (ann[0], tuple(Provenance.from_json(p) for p in ann[1])),
            d.get("state_before", ""),
            d.get("state_after", ""),
        )


@dataclass(frozen=True)
class TheoremRecord:
    url: str
    commit: str
    file_path: str
    full_name: str
    start: Pos | None
    end: Pos | None
    traced_tactics: tuple[TracedTactic, ...]
    theorem_statement: str | None = None
    backend: str = "coq"
    package: str | None = None  # the library package it comes from (`proofsmith corpus`); None elsewhere
    # Coq flags it was traced with, those its library is compiled with (HoTT: -noinit -indices-matter); the
    # environment and the verifier pass them too (`TheoremRef.coq_flags`). Omitted from the JSON when none.
    coq_flags: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.file_path, self.full_name)

    def premise_names(self) -> set[str]:
        return {p.full_name for t in self.traced_tactics for p in t.premises}

    def to_json(self) -> dict:
        d: dict[str, Any] = {
            "url": self.url,
            "commit": self.commit,
            "file_path": self.file_path,
            "full_name": self.full_name,
            "start": pos_to_json(self.start),
            "end": pos_to_json(self.end),
            "traced_tactics": [t.to_json() for t in self.traced_tactics],
            "theorem_statement": self.theorem_statement,
            "backend": self.backend,
        }
        if self.package is not None:  # an extra key: LeanDojo readers ignore it, older files lack it
            d["package"] = self.package
        if self.coq_flags:  # likewise
            d["coq_flags"] = list(self.coq_flags)
        return d

    @classmethod
    def from_json(cls, d: dict, backend: str | None = None) -> TheoremRecord:
        return cls(
            d.get("url", ""),
            d.get("commit", ""),
            d["file_path"],
            d["full_name"],
            pos_from_json(d.get("start")),
            pos_from_json(d.get("end")),
            tuple(TracedTactic.from_json(t) for t in d.get("traced_tactics") or ()),
            d.get("theorem_statement"),
            backend or d.get("backend", "lean"),
            d.get("package"),
            tuple(d.get("coq_flags") or ()),
        )


@dataclass(frozen=True)
class Premise:
    full_name: str
    code: str
    start: Pos
    end: Pos
    kind: str

    def to_json(self) -> dict:
        return {
            "full_name": self.full_name,
            "code": self.code,
            "start": pos_to_json(self.start),
            "end": pos_to_json(self.end),
            "kind": self.kind,
        }

    @classmethod
    def from_json(cls, d: dict) -> Premise:
        return cls(
            d["full_name"], d.get("code", ""), required_pos(d["start"]), required_pos(d["end"]), d.get("kind", "")
        )


@dataclass(frozen=True)
class CorpusFile:
    """One `corpus.jsonl` line: a file, its direct imports (paths), the premises it defines."""

    path: str
    imports: tuple[str, ...]
    premises: tuple[Premise, ...]

    def to_json(self) -> dict:
        return {"path": self.path, "imports": list(self.imports), "premises": [p.to_json() for p in self.premises]}

    @classmethod
    def from_json(cls, d: dict) -> CorpusFile:
        return cls(
            d["path"], tuple(d.get("imports") or ()), tuple(Premise.from_json(p) for p in d.get("premises") or ())
        )
