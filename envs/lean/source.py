"""Lean source text around one theorem: its context commands, its statement, and verify commands.

A theorem's context is a chain of commands the REPL runs one on top of the other: the `import`
lines first (so `import Mathlib` is elaborated once per process and shared by every header that
imports the same), then the rest of the header / the file text before the theorem.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from proofsmith.envs.base import EnvStartError, TheoremRef
from proofsmith.envs.lean.tactic_filter import blank_comments_and_strings

_MODIFIERS = r"(?:@\[[^\]]*\]\s*)?(?:(?:private|protected|noncomputable|nonrec|unsafe|partial)\s+)*"
_DECL = re.compile(r"^" + _MODIFIERS + r"(theorem|lemma|example|def|abbrev|instance)\b\s*([^\s:({\[]*)", re.M)
_SORRY_PROOF = re.compile(r":=\s*(?:by\s+)?sorry\s*$")
_AXIOMS = re.compile(r"^['`«]?(.+?)['`»]? depends on axioms: \[(.*)\]\s*$", re.S)
_NO_AXIOMS = re.compile(r"^['`«]?(.+?)['`»]? does not depend on any axioms\s*$", re.S)


@dataclass(frozen=True)
class TheoremSource:
    context: tuple[str, ...]  # commands that build the theorem's environment, in order
    head: str  # the declaration up to its top-level `:=`
    keyword: str  # theorem / lemma / example / def ...
    decl_name: str | None  # as written in the source; None for `example`
    start_command: str  # the declaration with its proof replaced by `sorry` (or left, when it is one)


def load_theorem(ref: TheoremRef) -> TheoremSource:
    if ref.statement is not None:
        context = split_header(ref.header)
        decl = ref.statement.strip()
    else:
        assert ref.file_path is not None
        try:
            text = Path(ref.file_path).read_text(encoding="utf-8")
        except OSError as e:
            raise EnvStartError(f"cannot read {ref.file_path}: {e}") from e
        start, end = _locate(text, ref.name, ref.file_path)
        header, body = split_header(text[:start]), text[start:end]
        context = header
        decl = body.strip()
    code = blank_comments_and_strings(decl)[0]  # a doc comment may precede the keyword
    m = _DECL.search(code)
    if not m or code[: m.start()].strip():
        raise EnvStartError(f"{ref.name}: not a theorem/lemma/example/def declaration: {decl[:120]!r}")
    keyword, name = m.group(1), m.group(2) or None
    cut = top_level_assign(decl)
    head = (decl if cut is None else decl[:cut]).rstrip()
    if head.endswith((" where", "\nwhere")):
        raise EnvStartError(f"{ref.name}: `where` declarations are not supported")
    start_cmd = decl if _SORRY_PROOF.search(decl) else f"{head} := by sorry"
    return TheoremSource(
        context=context,
        head=head,
        keyword=keyword,
        decl_name=None if keyword == "example" else name,
        start_command=start_cmd,
    )


def split_header(text: str) -> tuple[str, ...]:
    """(`import` block, rest) with empty parts left out. Comments before the imports go with them."""
    lines = text.split("\n")
    blanked = blank_comments_and_strings(text)[0].split("\n")
    last_import = -1
    for i, code in enumerate(blanked):
        if code.strip().startswith("import "):
            last_import = i
        elif code.strip():
            break
    imports = "\n".join(lines[: last_import + 1]).strip()
    rest = "\n".join(lines[last_import + 1 :]).strip()
    return tuple(part for part in (imports, rest) if part)


def top_level_assign(decl: str) -> int | None:
    """Index of the first `:=` outside brackets, comments and strings (where the proof starts)."""
    code, _ = blank_comments_and_strings(decl)
    depth = 0
    for i, c in enumerate(code):
        if c in "([{⟨":
            depth += 1
        elif c in ")]}⟩":
            depth -= 1
        elif c == ":" and depth == 0 and code.startswith(":=", i):
            return i
    return None


def verify_command(src: TheoremSource, proof: Sequence[str]) -> tuple[str, str]:
    """(command text, constant name to audit). An `example` becomes a named theorem so its axioms can be printed."""
    head, name = src.head, src.decl_name
    if name is None:
        digest = hashlib.sha1("\n".join([src.head, *proof]).encode()).hexdigest()[:12]
        name = f"proofsmith_verify_{digest}"
        decl = _DECL.search(blank_comments_and_strings(head)[0])
        if decl is None:
            raise ValueError(f"no declaration keyword in {head[:80]!r}")
        at = decl.start(1)  # skips a doc comment's words
        head = f"{head[:at]}theorem {name}{head[at + len('example') :]}"
    if len(proof) == 1 and "\n" not in proof[0]:
        return f"{head} := by {proof[0]}", name
    body = "\n".join(_indent(t) for t in proof)
    return f"{head} := by\n{body}", name


def parse_axioms(data: str) -> tuple[str, ...] | None:
    """Axioms listed by `#print axioms` (Lean's wording), or None when the text is not that message."""
    if _NO_AXIOMS.match(data.strip()):
        return ()
    m = _AXIOMS.match(data.strip())
    if not m:
        return None
    return tuple(a.strip() for a in m.group(2).split(",") if a.strip())


def _indent(tactic: str) -> str:
    return "\n".join("  " + line if line.strip() else line for line in tactic.split("\n"))


def _locate(text: str, name: str, path) -> tuple[int, int]:
    """Span of the declaration of `name` (a full name also matches its last components)."""
    parts = name.split(".")
    code, _ = blank_comments_and_strings(text)
    for k in range(len(parts)):
        wanted = ".".join(parts[k:])
        for m in _DECL.finditer(code):
            if m.group(2) == wanted:
                start = _doc_comment_start(text, m.start())
                return start, _next_command(code, m.end())
    raise EnvStartError(f"theorem {name!r} not found in {path}")


def _doc_comment_start(text: str, start: int) -> int:
    """Keep a `/-- doc -/` that directly precedes the declaration with it."""
    before = text[:start].rstrip()
    if before.endswith("-/"):
        i = before.rfind("/--")
        if i >= 0 and "-/" not in before[i:-2]:
            return i
    return start


_NEXT = re.compile(r"^(?=\S)(?!\||where\b|termination_by\b|decreasing_by\b|deriving\b)", re.M)


def _next_command(code: str, after: int) -> int:
    """Start of the next line at column 0 that is not a continuation of the declaration."""
    nl = code.find("\n", after)
    if nl < 0:
        return len(code)
    m = _NEXT.search(code, nl + 1)
    return m.start() if m else len(code)
