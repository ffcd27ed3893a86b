"""Reading Coq/Lean pretty-printed states: hypothesis names, and canonical tokens for similarity."""

from __future__ import annotations

import re

_NAME = r"[A-Za-z_\u0370-\u03ff][\w'\u2080-\u209f]*"
_IDENT = re.compile(rf"{_NAME}(?:\.{_NAME})*")  # qualified names, not the tactic's final period
_TOKEN = re.compile(rf"{_NAME}(?:\.{_NAME})*|\d+|[^\s\w]+")
_TURNSTILE = ("⊢", "|-")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def goals(state: str) -> list[str]:
    """The goals of a pretty-printed state, which separates them by blank lines; the first is the
    one a tactic acts on."""
    return [g for g in _BLANK_LINE.split(state.strip()) if g.strip()]


def first_goal(state: str) -> str:
    """The first goal of a state whose goals are separated by blank lines."""
    gs = goals(state)
    return gs[0] if gs else ""


def hypothesis_names(state: str) -> list[str]:
    """Names bound in the first goal's context, in order (`a, b : nat` gives a, b)."""
    names: list[str] = []
    for line in first_goal(state).splitlines():
        if line.lstrip().startswith(_TURNSTILE):
            break
        head, sep, _ = line.partition(":")
        if not sep or line.startswith(" "):
            continue  # a continuation line of a long hypothesis
        head = head.split(":=")[0]
        for name in head.split(","):
            name = name.strip()
            if _IDENT.fullmatch(name) and name not in names:
                names.append(name)
    return names


_FORALL = re.compile(r"(?:forall|fun|exists)\s+(.*?)\s*(?:,|=>)")


def binder_names(state: str) -> list[str]:
    """Names bound by `forall`/`fun`/`exists` in the first goal's conclusion, in order."""
    goal = first_goal(state)
    concl = goal.split("⊢", 1)[1] if "⊢" in goal else goal
    names: list[str] = []
    for binder in _FORALL.findall(concl):
        groups = re.findall(r"\(([^():]+):", binder) or [binder.split(":")[0]]
        for g in groups:
            names += [n for n in g.split() if _IDENT.fullmatch(n) and n not in names]
    return names


def context_names(state: str) -> list[str]:
    """Hypothesis names, then the conclusion's bound names: what a tactic may refer to or introduce."""
    hyps = hypothesis_names(state)
    return hyps + [n for n in binder_names(state) if n not in hyps]


def canonical_tokens(state: str) -> list[str]:
    """Tokens of the first goal, with context names replaced by their position (`#h0`, `#h1`, …),
    so states that differ only in naming look alike."""
    goal = first_goal(state)
    index = {n: f"#h{i}" for i, n in enumerate(context_names(goal))}
    toks = [index.get(t, t) for t in _TOKEN.findall(goal)]
    # The conclusion matters most: its tokens count again, marked.
    concl = goal.split("⊢", 1)[1] if "⊢" in goal else goal
    toks += ["⊢" + index.get(t, t) for t in _TOKEN.findall(concl)]
    return toks


def rename_identifiers(tactic: str, mapping: dict[str, str]) -> str:
    """Replace whole identifiers of `tactic` by `mapping` (simultaneously)."""
    if not mapping:
        return tactic
    return _IDENT.sub(lambda m: mapping.get(m.group(0), m.group(0)), tactic)
