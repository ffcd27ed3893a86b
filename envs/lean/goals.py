"""Lean's pretty-printed goals <-> `envs.base.Goal`.

A goal prints as an optional `case tag` line, one line per hypothesis group (`x y : Nat`), and
`⊢ target`; long types wrap onto indented continuation lines, which stay with their entry.
"""

from __future__ import annotations

from collections.abc import Sequence

from proofsmith.envs.base import Goal

TURNSTILE = "⊢ "


def parse_goal(text: str) -> Goal:
    lines = text.split("\n")
    name = None
    if lines and lines[0].startswith("case "):
        name, lines = lines[0][len("case ") :], lines[1:]
    entries: list[str] = []
    for line in lines:
        if entries and line.startswith((" ", "\t")):
            entries[-1] += "\n" + line  # continuation of a wrapped hypothesis or target
        else:
            entries.append(line)
    if entries and entries[-1].startswith(TURNSTILE):
        return Goal(hypotheses=tuple(entries[:-1]), conclusion=entries[-1][len(TURNSTILE) :], name=name)
    return Goal(hypotheses=tuple(entries), conclusion="", name=name)


def parse_goals(goals: Sequence[str]) -> tuple[Goal, ...]:
    return tuple(parse_goal(g) for g in goals)


def pp_goals(goals: Sequence[str]) -> str:
    """LeanDojo's convention: goals separated by a blank line."""
    return "\n\n".join(goals)
