"""F* source text: top-level declarations, the names they define, and push fragments."""

from __future__ import annotations

import re
from dataclasses import dataclass

_DEFINES = re.compile(
    r"^(?:\[@@?[^\]]*\]\s*)*(?:(?:private|inline_for_extraction|noextract|unfold|irreducible|opaque_to_smt|ghost|"
    r"abstract|total|noeq|unopteq|assume)\s+)*(let|val|type)\s+(?:rec\s+)?([A-Za-z_][\w']*)"
)
_AND = re.compile(r"^and\s+([A-Za-z_][\w']*)", re.M)
_NOT_A_START = ("//", "(*", "and ", "|", ")", "]", "}", "in ", "in\n")


def _code_lines(text: str) -> list[bool]:
    """For each line: does it start a top-level item (column 0, outside block comments)?"""
    starts, depth = [], 0
    for line in text.split("\n"):
        at_top = depth == 0
        i = 0
        while i < len(line):  # track (* *) nesting; // ends the line
            if line.startswith("(*", i):
                depth, i = depth + 1, i + 2
            elif line.startswith("*)", i) and depth:
                depth, i = depth - 1, i + 2
            elif line.startswith("//", i) and depth == 0:
                break
            elif line[i] == '"' and depth == 0:
                j = i + 1
                while j < len(line) and line[j] != '"':
                    j += 2 if line[j] == "\\" else 1
                i = j + 1
            else:
                i += 1
        starts.append(at_top and bool(line) and not line[0].isspace() and not line.startswith(_NOT_A_START))
    return starts


def split_decls(text: str) -> list[tuple[int, int]]:
    """(first, last) 0-based line indices of each top-level item, last = its last non-blank line."""
    lines = text.split("\n")
    starts = [i for i, s in enumerate(_code_lines(text)) if s]
    out = []
    for k, first in enumerate(starts):
        nxt = starts[k + 1] if k + 1 < len(starts) else len(lines)
        last = first
        for j in range(first, nxt):
            stripped = lines[j].strip()
            if stripped and not stripped.startswith("//"):
                last = j
        out.append((first, last))
    return out


def defined_names(decl: str) -> tuple[str, tuple[str, ...]]:
    """(keyword, names) of a declaration: `let rec f ... and g` → ("let", ("f", "g"))."""
    m = _DEFINES.match(decl.strip())
    if not m:
        return "", ()
    return m.group(1), (m.group(2), *_AND.findall(decl))


@dataclass(frozen=True)
class Fragment:
    """Code pushed at (line, 0), as the Emacs mode does: from the end of the previous push."""

    code: str
    line: int
    names: tuple[str, ...] = ()
    source: str = ""  # the candidate as given (for proofs), or the file text

    @property
    def end_line(self) -> int:
        """The line the next fragment starts at."""
        return self.line + self.code.count("\n")


def file_fragments(text: str) -> list[Fragment]:
    lines = text.split("\n")
    frags, prev_end = [], -1
    for first, last in split_decls(text):
        code = "\n".join(lines[prev_end + 1 : last + 1]) + "\n"
        decl = "\n".join(lines[first : last + 1])
        frags.append(Fragment(code, prev_end + 2, defined_names(decl)[1], decl))
        prev_end = last
    return frags


def type_after_name(decl: str, name: str) -> str:
    """`let f x : T =` → `x : T`; `val f : T` → `T` (best effort, on the declaration text)."""
    m = re.search(rf"\b{re.escape(name)}\b", decl)
    if not m:
        return ""
    rest = decl[m.end() :]
    if decl.lstrip().startswith("val") or re.match(r"^\s*(?:\[@@?[^\]]*\]\s*)*(?:\w+\s+)*val\b", decl):
        return rest.strip().lstrip(":").strip()
    eq = re.search(r"(?<![=<>!:])=(?![=>])", rest)
    return " ".join((rest[: eq.start()] if eq else rest).split())
