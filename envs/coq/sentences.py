"""Split Coq text into sentences, since coqidetop's `Add` parses only the first one.

A sentence ends at a `.` followed by whitespace or the end of the text (not inside a comment or a
string, and not `..`). Bullets (`-`, `+`, `*`, repeated), braces and `N: {` are sentences of
their own, as Coq treats them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SELECTOR_BRACE = re.compile(r"(\d+|\[\s*[A-Za-z_][\w']*\s*\])\s*:\s*\{")


@dataclass(frozen=True)
class Sentence:
    text: str  # exact source text, comments inside kept, leading whitespace/comments dropped
    start: int  # character offsets in the source
    end: int

    @property
    def is_focus(self) -> bool:
        """A bullet or a brace (possibly with a goal selector)."""
        t = self.text
        return bool(t) and (t[0] in "-+*{}" or bool(_SELECTOR_BRACE.fullmatch(t)))


class SentenceSyntaxError(ValueError):
    pass


def _skip_comment(text: str, i: int) -> int:
    """`text[i:i+2] == '(*'`; return the index after the matching `*)` (comments nest)."""
    depth, n = 0, len(text)
    while i < n:
        if text.startswith("(*", i):
            depth += 1
            i += 2
        elif text.startswith("*)", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        elif text[i] == '"':
            i = _skip_string(text, i)
        else:
            i += 1
    raise SentenceSyntaxError("unterminated comment")


def _skip_string(text: str, i: int) -> int:
    """`text[i] == '"'`; Coq escapes a quote by doubling it."""
    i += 1
    n = len(text)
    while i < n:
        if text[i] == '"':
            if i + 1 < n and text[i + 1] == '"':
                i += 2
                continue
            return i + 1
        i += 1
    raise SentenceSyntaxError("unterminated string")


def _skip_blank(text: str, i: int) -> int:
    n = len(text)
    while i < n:
        if text[i].isspace():
            i += 1
        elif text.startswith("(*", i):
            i = _skip_comment(text, i)
        else:
            break
    return i


def _ends_sentence(text: str, start: int, j: int) -> bool:
    """`text[j]` is a '.' followed by blank: a terminator unless it closes a `..` (notation
    ellipsis); `tac...` (Proof with) is a terminator."""
    if j > start and text[j - 1] == ".":
        return j - 1 > start and text[j - 2] == "."
    return True


def split_sentences(text: str, *, allow_unterminated: bool = False) -> list[Sentence]:
    """All sentences of `text`. Trailing text without a final `.` is an error, unless
    `allow_unterminated`, when it becomes a last sentence of its own (the caller may add a dot)."""
    out: list[Sentence] = []
    n = len(text)
    i = _skip_blank(text, 0)
    while i < n:
        start = i
        ch = text[i]
        if ch in "-+*":
            j = i
            while j < n and text[j] == ch:
                j += 1
            out.append(Sentence(text[i:j], i, j))
            i = _skip_blank(text, j)
            continue
        if ch in "{}":
            out.append(Sentence(ch, i, i + 1))
            i = _skip_blank(text, i + 1)
            continue
        m = _SELECTOR_BRACE.match(text, i)
        if m:
            out.append(Sentence(m.group(0), i, m.end()))
            i = _skip_blank(text, m.end())
            continue
        # an ordinary sentence: scan to its terminating dot
        j = i
        end = None
        while j < n:
            c = text[j]
            if text.startswith("(*", j):
                j = _skip_comment(text, j)
                continue
            if c == '"':
                j = _skip_string(text, j)
                continue
            if c == "." and (j + 1 == n or text[j + 1].isspace()) and _ends_sentence(text, start, j):
                end = j + 1
                break
            j += 1
        if end is None:
            if not allow_unterminated:
                raise SentenceSyntaxError(f"sentence without a final '.': {text[start:].strip()[:80]!r}")
            end = n
        out.append(Sentence(text[start:end].rstrip(), start, end))
        i = _skip_blank(text, end)
    return out


COMMENT_OR_STRING = re.compile(r'\(\*|"')


def strip_comments(text: str) -> str:
    """The text with comments removed (strings kept); each comment becomes one space."""
    if "(*" not in text and '"' not in text:  # most sentences: nothing to remove, nothing to check
        return text
    out, i = [], 0
    while (m := COMMENT_OR_STRING.search(text, i)) is not None:
        out.append(text[i : m.start()])
        if m.group() == '"':
            i = _skip_string(text, m.start())
            out.append(text[m.start() : i])
        else:
            i = _skip_comment(text, m.start())
            out.append(" ")
    out.append(text[i:])
    return "".join(out)
