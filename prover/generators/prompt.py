"""ReProver-style retrieval-augmented prompts: premises, then a blank line, then the state.

Premises are prepended one at a time, best first, so the best one ends up next to the state; one that
does not fit the budget is skipped (ReProver's `format_augmented_state`). The budget is in tokens when
a `length` function (a tokenizer's) is given, else in UTF-8 bytes as in ReProver.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

# Marks the end of the input for decoder-only models; the scratch tokenizer has it as one special token.
TACTIC_SEP = "<tac>"

Length = Callable[[str], int]


def byte_length(text: str) -> int:
    return len(text.encode("utf-8"))


def augment_state(state: str, premises: Sequence[str], budget: Optional[int], length: Length = byte_length) -> str:
    """`premise_n\\n\\n … premise_1\\n\\n state`, keeping premises while the total stays within `budget`."""
    if not premises:
        return state
    if budget is None:
        return "".join(f"{p}\n\n" for p in reversed(premises)) + state
    room = budget - length(state)
    kept: list[str] = []
    used = 0
    for p in premises:
        piece = f"{p}\n\n"
        n = length(piece)
        if used + n > room:
            continue
        used += n
        kept.append(piece)
    text = "".join(reversed(kept)) + state
    # Token counts of pieces need not add up exactly (merges across boundaries): drop the worst until it fits.
    while kept and length(text) > budget:
        kept.pop()
        text = "".join(reversed(kept)) + state
    return text


def strip_marks(text: str) -> str:
    """ReProver's `remove_marks`: `<a>name</a>` → `name`."""
    return text.replace("<a>", "").replace("</a>", "")


def normalize_tactic(tactic: str) -> str:
    """Whitespace-normalised tactic without its final period: the key for exact match and dedupe."""
    t = " ".join(tactic.split())
    return t[:-1].rstrip() if t.endswith(".") and not t.endswith("..") else t
