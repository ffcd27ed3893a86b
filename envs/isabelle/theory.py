"""Theorem → theory text: the lemma's context and statement, and the check theories built from them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from proofsmith.envs.base import EnvStartError, Goal, TheoremRef

_HEADER = re.compile(r"\btheory\s+(\S+)\s+(.*?)\bbegin\b", re.DOTALL)
_GOAL_KEYWORDS = ("lemma", "theorem", "corollary", "proposition", "schematic_goal")
PROOF_START = {
    "proof",
    "apply",
    "by",
    "using",
    "unfolding",
    "sorry",
    "oops",
    "including",
    "supply",
    "subgoal",
    ".",
    "..",
    "done",
    "apply_end",
}
_WORD = re.compile(r"\.\.|\.(?=\s|$)|[A-Za-z_][A-Za-z0-9_']*")


@dataclass(frozen=True)
class IsabelleTask:
    """Everything needed to write check theories for one lemma."""

    name: str
    imports: str  # `imports ... [keywords ...]`, the part between the theory name and `begin`
    context: str  # theory text between `begin` and the lemma
    statement: str  # the lemma up to (excluding) its proof


def _proof_start(text: str, start: int) -> int:
    """Index of the first proof command after the statement starting at `start` (len(text) if none)."""
    blank = _blank_strings(text[start:])  # same length as the text, so indices stay valid
    for m in _WORD.finditer(blank):
        if m.group(0) in PROOF_START and m.start() > 0:
            return start + m.start()
    return len(text)


def _blank_strings(text: str) -> str:
    """Replace strings, cartouches and comments by spaces, keeping every index in place."""
    out = list(text)
    patterns = [r'"(?:[^"\\]|\\.)*"', r"\\<open>.*?\\<close>", r"\(\*.*?\*\)", r"`[^`]*`"]
    for pat in patterns:
        for m in re.finditer(pat, text, re.DOTALL):
            for i in range(m.start(), m.end()):
                out[i] = " "
    return "".join(out)


def _imports_of(header: str) -> str:
    header = header.strip()
    if not header:
        return "imports Main"
    m = _HEADER.search(header)
    if m:
        return m.group(2).strip()
    if header.startswith("imports"):
        return header.split("begin")[0].strip()
    return "imports " + header


def load_task(theorem: TheoremRef) -> IsabelleTask:
    if theorem.statement is not None:
        text = theorem.statement
        start = 0
        context = ""
        imports = _imports_of(theorem.header)
    else:
        assert theorem.file_path is not None
        try:
            source = Path(theorem.file_path).read_text(encoding="utf-8")
        except OSError as e:
            raise EnvStartError(f"cannot read {theorem.file_path}: {e}") from e
        m = _HEADER.search(source)
        if not m:
            raise EnvStartError(f"{theorem.file_path}: no `theory ... begin` header")
        imports = m.group(2).strip()
        body = source[m.end() :]
        name = re.escape(theorem.name)
        found = re.search(rf"(?m)^[ \t]*(?:{'|'.join(_GOAL_KEYWORDS)})\s+{name}\s*(?:\[[^\]]*\])?\s*:", body)
        if not found:
            raise EnvStartError(f"{theorem.file_path}: no lemma named {theorem.name!r}")
        text, start, context = body, found.start(), body[: found.start()]
    end = _proof_start(text, start)
    statement = text[start:end].strip()
    if not statement.split() or statement.split()[0] not in _GOAL_KEYWORDS:
        raise EnvStartError(f"{theorem.name}: the statement must start with one of {_GOAL_KEYWORDS}")
    return IsabelleTask(theorem.name, imports, context.strip("\n"), statement)


@dataclass(frozen=True)
class CheckTheory:
    """A rendered theory and where each step sits in it."""

    name: str
    text: str
    step_spans: tuple[tuple[int, int], ...]  # character spans of the steps in `text`
    print_state_line: int | None  # 1-based line of the trailing `print_state`, if any


def render(task: IsabelleTask, theory_name: str, steps: Sequence[str], probe: bool) -> CheckTheory:
    """The theory `theory_name` holding the lemma with `steps`.

    With `probe`, the text ends `print_state` + `oops`: the state after the last step is printed as
    a writeln message and the unfinished proof is dropped without an error.
    """
    parts = [f"theory {theory_name}\n  {task.imports}\nbegin\n"]
    if task.context.strip():
        parts.append(task.context + "\n")
    parts.append(task.statement + "\n")
    text = "".join(parts)
    spans = []
    for step in steps:
        spans.append((len(text), len(text) + len(step)))
        text += step + "\n"
    line = None
    if probe:
        line = text.count("\n") + 1
        text += "print_state\noops\n"
    text += "end\n"
    return CheckTheory(theory_name, text, tuple(spans), line)


_GOALS = re.compile(r"goal \((\d+) subgoals?\):\n?")
_SUBGOAL = re.compile(r"^ (\d+)\. ", re.M)


def parse_goals(state_text: str) -> tuple[Goal, ...]:
    """Subgoals of a printed proof state (`goal (N subgoals):\\n 1. ...`); () for `No subgoals!`."""
    m = _GOALS.search(state_text)
    if not m:
        return ()
    body = state_text[m.end() :]
    starts = list(_SUBGOAL.finditer(body))
    goals = []
    for i, s in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(body)
        chunk = body[s.end() : end].rstrip("\n")
        goals.append(Goal(hypotheses=(), conclusion=" ".join(x.strip() for x in chunk.split("\n"))))
    return tuple(goals)
