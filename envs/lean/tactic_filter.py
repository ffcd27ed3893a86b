"""Refuse, before Lean sees it, any input that is not one honest tactic.

Checks run on the text with comments and string literals blanked out, so `trace "sorry"` or
`-- #eval` do not trip them, while an unterminated comment or string (which would swallow the rest
of a verify command) is refused outright.
"""

from __future__ import annotations

import re

MAX_TACTIC_CHARS = 20_000

_COMMAND_KEYWORDS = (
    "theorem lemma def example axiom axioms instance namespace section end import variable universe "
    "attribute macro macro_rules syntax elab elab_rules notation infix infixl infixr prefix postfix "
    "structure class inductive abbrev opaque initialize builtin_initialize declare_syntax_cat mutual "
    "noncomputable private protected deriving export"
).split()

_RULES: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"#[A-Za-z_]"), "'#' commands (#eval, #exit, #print ...) are not tactics"),
    (re.compile(r"\b(run_cmd|run_tac|run_elab|run_meta|by_elab)\b"), "running meta-level code is not allowed"),
    (re.compile(r"\b(IO|System)\s*\."), "IO./System. calls are not allowed"),
    (re.compile(r"\bunsafe\b"), "unsafe code is not allowed"),
    (
        re.compile(r"\bset_option\s+debug\."),
        "set_option that weakens checking (debug.*, e.g. debug.skipKernelTC) is not allowed",
    ),
    (re.compile(r"\baxiom\b"), "declaring axioms is not allowed"),
    (
        re.compile(r"^[ \t]*(" + "|".join(_COMMAND_KEYWORDS) + r")\b|^[ \t]*@\[", re.M),
        "a tactic cannot contain commands (multiple commands)",
    ),
)
_SORRY = re.compile(r"\b(sorry|admit|sorryAx|stop)\b")


def check_tactic(tactic: str, allow_sorry: bool = False) -> str | None:
    """The reason to refuse `tactic`, or None when it may go to Lean."""
    if not tactic.strip():
        return "empty tactic"
    if len(tactic) > MAX_TACTIC_CHARS:
        return f"tactic longer than {MAX_TACTIC_CHARS} characters"
    if "\x00" in tactic:
        return "NUL character in tactic"
    try:
        tactic.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate would crash the request encoder
        return "tactic is not valid Unicode (lone surrogate)"
    code, problem = blank_comments_and_strings(tactic)
    if problem:
        return problem
    for pattern, why in _RULES:
        if pattern.search(code):
            return why
    if not allow_sorry and _SORRY.search(code):
        return "sorry/admit gives up the proof (not asked for)"
    return None


def blank_comments_and_strings(text: str) -> tuple[str, str | None]:
    """`text` with comments and string literals replaced by spaces (newlines kept), plus any problem."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/-", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/-", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("-/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                return "".join(out), "unterminated comment"
            out.append(_blank(text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                return "".join(out), "unterminated string literal"
            out.append(_blank(text[i : j + 1]))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out), None


def _blank(s: str) -> str:
    return "".join("\n" if ch == "\n" else " " for ch in s)
