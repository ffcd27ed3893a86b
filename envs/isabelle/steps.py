"""Which Isar steps are allowed, and where a proof stands after a sequence of steps.

The filter works on a token view of the step with strings and cartouches masked, so that a
keyword inside a term or a method argument is never mistaken for a command.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_STEP_CHARS = 4000

# Commands that change the theory, run ML, add axioms, or leave the proof: never a proof step.
FORBIDDEN = {
    "ML",
    "ML_file",
    "ML_val",
    "ML_command",
    "ML_prf",
    "ML_export",
    "SML_file",
    "setup",
    "local_setup",
    "declare",
    "declaration",
    "syntax_declaration",
    "axiomatization",
    "axioms",
    "oracle",
    "attribute_setup",
    "method_setup",
    "simproc_setup",
    "lemma",
    "theorem",
    "corollary",
    "proposition",
    "schematic_goal",
    "definition",
    "abbreviation",
    "fun",
    "function",
    "primrec",
    "datatype",
    "codatatype",
    "inductive",
    "coinductive",
    "record",
    "typedef",
    "typedecl",
    "type_synonym",
    "consts",
    "locale",
    "context",
    "instantiation",
    "instance",
    "interpretation",
    "sublocale",
    "theory",
    "begin",
    "end",
    "notation",
    "no_notation",
    "syntax",
    "translations",
    "parse_translation",
    "print_translation",
    "hide_const",
    "hide_fact",
    "hide_type",
    "bundle",
    "unbundle",
    "named_theorems",
    "lift_definition",
    "oops",
    "skip_proof",
    "text",
    "section",
    "subsection",
    "chapter",
    "code_printing",
    "export_code",
    "nitpick",
    "quickcheck",
    "nunchaku",
    "value",
    "print_state",
}
GIVE_UP = {"sorry", "\\<proof>", "admit"}
SLEDGEHAMMER = {"sledgehammer"}

OPENERS = {"have", "show", "hence", "thus", "obtain", "consider", "subgoal", "presume_goal"}
CLOSERS = {"by", "done", "qed", ".", "..", "sorry"}

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`')
_TOKEN = re.compile(r"\\<[A-Za-z]+>|\.\.|[A-Za-z_][A-Za-z0-9_'.]*|\S")


def _mask(text: str) -> str | None:
    """Blank out strings, cartouches, comments and parenthesised method arguments; None if unbalanced."""
    out = []
    i, n = 0, len(text)
    depth_paren = 0
    while i < n:
        if text.startswith("(*", i):
            j = text.find("*)", i + 2)
            if j < 0:
                return None
            i = j + 2
            out.append(" ")
            continue
        if text.startswith("*)", i):
            return None
        if text.startswith("\\<open>", i):
            level, j = 0, i
            while j < n:
                if text.startswith("\\<open>", j):
                    level, j = level + 1, j + 7
                elif text.startswith("\\<close>", j):
                    level, j = level - 1, j + 8
                    if level == 0:
                        break
                else:
                    j += 1
            if level != 0:
                return None
            out.append(" STR ")
            i = j
            continue
        if text.startswith("\\<close>", i):
            return None
        c = text[i]
        if c in '"`':
            m = _STRING.match(text, i)
            if not m:
                return None
            out.append(" STR ")
            i = m.end()
            continue
        if c == "(":
            depth_paren += 1
        elif c == ")":
            depth_paren -= 1
            if depth_paren < 0:
                return None
        elif depth_paren == 0:
            out.append(c)
        i += 1
    if depth_paren != 0:
        return None
    return "".join(out)


def tokens(step: str) -> list[str] | None:
    masked = _mask(step)
    return None if masked is None else _TOKEN.findall(masked)


@dataclass(frozen=True)
class StepCheck:
    ok: bool
    reason: str = ""
    gives_up: bool = False


def check_step(step: str, allow_sorry: bool = False, allow_sledgehammer: bool = False) -> StepCheck:
    """Is `step` an Isar proof command (or a short sequence of them) we let through?"""
    if not step.strip():
        return StepCheck(False, "empty step")
    if len(step) > MAX_STEP_CHARS:
        return StepCheck(False, f"step longer than {MAX_STEP_CHARS} characters")
    try:
        step.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate would crash the message encoder
        return StepCheck(False, "step is not valid Unicode (lone surrogate)")
    toks = tokens(step)
    if toks is None:
        return StepCheck(False, "unbalanced quotes, cartouches, comments or parentheses")
    gives_up = False
    for t in toks:
        if t in FORBIDDEN:
            return StepCheck(False, f"`{t}` is not a proof command")
        if t in SLEDGEHAMMER and not allow_sledgehammer:
            return StepCheck(False, "`sledgehammer` is not allowed as a step")
        if t in GIVE_UP:
            if not allow_sorry:
                return StepCheck(False, f"`{t}` gives up the proof (allow_sorry is off)")
            gives_up = True
    return StepCheck(True, gives_up=gives_up)


def open_claims(steps: Sequence[str]) -> int:
    """How many claims are still open after `steps` (1 = just the lemma; 0 = the proof closed).

    Counts `have`/`show`/`obtain`/... as opening a claim and `by`/`done`/`qed`/`.`/`..`/`sorry` as
    closing one; `proof`, `apply`, `next` and the rest leave the count alone. A negative count
    means the steps close more than is open.
    """
    depth = 1
    for step in steps:
        for t in tokens(step) or []:
            if t in OPENERS:
                depth += 1
            elif t in CLOSERS:
                depth -= 1
    return depth
