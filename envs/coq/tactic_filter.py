"""Refuse anything that is not a Coq tactic before it reaches Coq.

A step is accepted when every sentence in it is a bullet/brace or a tactic, and (unless the
caller asked for a script) it holds at most one tactic sentence. Tactics in Coq start with a
lower-case word, a bracket or a goal selector; vernacular commands start with a capitalised
keyword (`Qed`, `Admitted`, `Require`, `Set`, `Axiom`, `Redirect`, `Drop`...) or an attribute
(`#[...]`). So a capitalised head word is refused unless it is one of the few capitalised proof
commands that cannot leave the proof (`Unshelve`, and the control prefixes `Time`/`Fail`/
`Succeed`/`Timeout N`, which are checked recursively).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from proofsmith.envs.coq.sentences import Sentence, SentenceSyntaxError, split_sentences, strip_comments

MAX_TACTIC_CHARS = 20_000

# Vernacular keywords people (and models) type inside proofs; named in the error message.
VERNACULAR = {
    "Qed",
    "Defined",
    "Admitted",
    "Abort",
    "Save",
    "Proof",
    "Restart",
    "Undo",
    "Back",
    "BackTo",
    "Reset",
    "Definition",
    "Lemma",
    "Theorem",
    "Fact",
    "Remark",
    "Corollary",
    "Proposition",
    "Example",
    "Goal",
    "Fixpoint",
    "CoFixpoint",
    "Inductive",
    "CoInductive",
    "Record",
    "Structure",
    "Class",
    "Instance",
    "Existing",
    "Require",
    "Import",
    "Export",
    "From",
    "Load",
    "Redirect",
    "Declare",
    "Drop",
    "Set",
    "Unset",
    "Axiom",
    "Axioms",
    "Parameter",
    "Parameters",
    "Conjecture",
    "Hypothesis",
    "Hypotheses",
    "Variable",
    "Variables",
    "Context",
    "Section",
    "End",
    "Module",
    "Ltac",
    "Ltac2",
    "Tactic",
    "Notation",
    "Infix",
    "Reserved",
    "Hint",
    "Print",
    "Check",
    "Eval",
    "Compute",
    "Search",
    "SearchPattern",
    "SearchRewrite",
    "Locate",
    "About",
    "Show",
    "Extraction",
    "Recursive",
    "Separate",
    "Cd",
    "Pwd",
    "Add",
    "Remove",
    "Opaque",
    "Transparent",
    "Strategy",
    "Arguments",
    "Generalizable",
    "Program",
    "Obligation",
    "Next",
    "Solve",
    "Local",
    "Global",
    "Polymorphic",
    "Monomorphic",
    "Cumulative",
    "Universe",
    "Universes",
    "Constraint",
    "Let",
    "Canonical",
    "Coercion",
    "Identity",
    "Scheme",
    "Combined",
    "Open",
    "Close",
    "Delimit",
    "Bind",
    "Focus",
    "Unfocus",
    "Unfocused",
    "Guarded",
    "Create",
    "Typeclasses",
    "Register",
    "Primitive",
    "Time",
    "Fail",
    "Succeed",
    "Timeout",
    "Instructions",
    "Profile",
    "Debug",
    "Optimize",
    "Abstract",
    "Include",
    "Collection",
    "Derive",
    "Functional",
    "Function",
    "Quit",
    "Inspect",
    "Test",
}
CONTROL_PREFIXES = {"Time", "Fail", "Succeed"}
CAPITALISED_TACTICS = {"Unshelve"}

_HEAD = re.compile(r"\s*([#A-Za-z_][\w'.]*|\S)")
_TIMEOUT = re.compile(r"\s*Timeout\s+\d+\s+")


@dataclass(frozen=True)
class Refusal:
    reason: str


@dataclass(frozen=True)
class CheckedTactic:
    sentences: tuple[Sentence, ...]  # with a final '.' added where the caller left it out

    @property
    def tactic_sentences(self) -> tuple[Sentence, ...]:
        return tuple(s for s in self.sentences if not s.is_focus)


def _refuse_sentence(body: str) -> str | None:
    """Why this (comment-free) sentence is not an acceptable tactic, or None."""
    m = _TIMEOUT.match(body)
    if m:
        return _refuse_sentence(body[m.end() :])
    head = _HEAD.match(body)
    if not head:
        return "empty sentence"
    word = head.group(1).rstrip(".")
    if not word:  # e.g. `Time .`: a control prefix with nothing to run
        return "empty sentence"
    if word.startswith("#"):
        return f"attributes ({word}...) belong to commands, not tactics"
    if word in CONTROL_PREFIXES:
        return _refuse_sentence(body[head.end() :])
    if word in CAPITALISED_TACTICS:
        return None
    if word in VERNACULAR:
        return f"'{word}' is a vernacular command, not a tactic"
    if word[:1].isupper():
        return f"'{word}' looks like a vernacular command, not a tactic"
    return None


def _is_utf8_encodable(text: str) -> bool:
    # A Python str may hold lone surrogates (e.g. bytes decoded with 'surrogateescape'); encoding
    # the call would raise UnicodeEncodeError out of run_tactic instead of refusing.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_tactic(text: object, *, script: bool = False, max_chars: int = MAX_TACTIC_CHARS) -> CheckedTactic | Refusal:
    """Accept one tactic (plus bullets/braces), or a whole script when `script=True`."""
    if not isinstance(text, str):
        return Refusal(f"a tactic must be a string, not {type(text).__name__}")
    if "\x00" in text:
        return Refusal("NUL byte in tactic")
    if len(text) > max_chars:
        return Refusal(f"tactic too long ({len(text)} characters; limit {max_chars})")
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        return Refusal("control character in tactic")
    if not _is_utf8_encodable(text):
        return Refusal("tactic is not valid Unicode (lone surrogate); it cannot be sent as UTF-8")
    try:
        sentences = split_sentences(text, allow_unterminated=True)
    except SentenceSyntaxError as e:
        return Refusal(f"cannot split into sentences: {e}")
    if not sentences:
        return Refusal("empty tactic")
    last = sentences[-1]
    if not last.is_focus and not last.text.endswith("."):
        sentences[-1] = Sentence(last.text + ".", last.start, last.end)
    tactics = [s for s in sentences if not s.is_focus]
    if len(tactics) > 1 and not script:
        return Refusal(f"{len(tactics)} sentences given; send one tactic at a time (or ask for a script)")
    for s in tactics:
        body = strip_comments(s.text).strip()
        if not body.rstrip(".").strip():
            return Refusal("empty tactic")
        why = _refuse_sentence(body)
        if why:
            return Refusal(why)
    return CheckedTactic(tuple(sentences))
