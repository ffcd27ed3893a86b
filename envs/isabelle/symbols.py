"""Isabelle symbols: `\\<name>` (and `\\<^name>`) count as one symbol, like one character.

Server positions count symbols from 1 (`end_offset` exclusive); Python wants character indices.
"""

from __future__ import annotations

import re

_SYMBOL = re.compile(r"\\<\^?[A-Za-z][A-Za-z0-9_']*>|.", re.DOTALL)


def symbol_starts(text: str) -> list[int]:
    """Character index where each symbol starts, plus len(text) at the end."""
    starts = [m.start() for m in _SYMBOL.finditer(text)]
    starts.append(len(text))
    return starts


def symbol_to_char(text: str, offset: int) -> int:
    """Character index of the 1-based symbol `offset` (past-the-end allowed)."""
    starts = symbol_starts(text)
    i = min(max(offset - 1, 0), len(starts) - 1)
    return starts[i]


def symbol_range_to_chars(text: str, offset: int, end_offset: int) -> tuple[int, int]:
    starts = symbol_starts(text)
    last = len(starts) - 1

    def conv(o: int) -> int:
        return starts[min(max(o - 1, 0), last)]

    return conv(offset), conv(end_offset)
