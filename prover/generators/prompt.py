"""ReProver-style retrieval-augmented prompts: premises, then a blank line, then the state.

Premises are prepended one at a time, best first, so the best one ends up next to the state; one that
does not fit the budget is skipped (ReProver's `format_augmented_state`). The budget is in tokens when
a `length` function (a tokenizer's) is given, else in UTF-8 bytes as in ReProver.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from proofsmith.prover.generators.state_text import goals as state_goals

# Marks the end of the input for decoder-only models; the scratch tokenizer has it as one special token.
TACTIC_SEP = "<tac>"

Length = Callable[[str], int]


def byte_length(text: str) -> int:
    return len(text.encode("utf-8"))


def augment_state(state: str, premises: Sequence[str], budget: int | None, length: Length = byte_length) -> str:
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


def focus_first_goal(state: str) -> str:
    """The goal a tactic acts on (Coq and Lean focus the first one), then how many others wait.

    Small models trained here see only what the next tactic depends on; the count keeps `all:`/`;`
    style steps predictable."""
    goals = state_goals(state)
    if len(goals) <= 1:
        return state.strip()
    return f"{goals[0]}\n\n(+{len(goals) - 1} more goals)"


def model_input(
    state: str, premises: Sequence[str], budget: int, length: Length, seq2seq: bool, focus: bool = True
) -> str:
    """The text a tactic model reads: premises within `budget` tokens, the (focused) state, and for
    decoder-only models the `<tac>` mark after which the tactic follows. Training and generation
    both build their inputs here."""
    if focus:
        state = focus_first_goal(state)
    sep = 0 if seq2seq else length(TACTIC_SEP)
    text = augment_state(state, list(premises), budget - sep - 2, length)
    return text if seq2seq else text + TACTIC_SEP


def strip_marks(text: str) -> str:
    """ReProver's `remove_marks`: `<a>name</a>` → `name`."""
    return text.replace("<a>", "").replace("</a>", "")


def normalize_tactic(tactic: str) -> str:
    """Whitespace-normalised tactic without its final period: the key for exact match and dedupe."""
    t = " ".join(tactic.split())
    return t[:-1].rstrip() if t.endswith(".") and not t.endswith("..") else t


# Whole-proof prompts (`prover.whole_proof`): a completion model continues after `Proof.` with the
# whole script; a repair prompt shows the failed attempt, Coq's first error and the state there.
WHOLE_PROOF_STOP = ("Qed.", "Defined.", "Admitted.", "Abort.")


def whole_proof_prompt(statement: str) -> str:
    """`statement` then `Proof.`: the model writes the proof script (stops at `Qed.`)."""
    return f"{statement.strip()}\nProof.\n"


def repair_prompt(statement: str, proof: str, sentence: str, message: str, state: str) -> str:
    """A failed attempt, where it failed (`sentence`, Coq's `message`, the proof `state` before it),
    then the statement again: the model writes a corrected script."""
    where = f"at `{sentence.strip()}`" if sentence.strip() else "at the end of the proof"
    note = [f"(* The proof above fails {where}:", *_comment_safe(message).splitlines()]
    if state.strip():
        note += ["   Proof state there:", *("   " + line for line in _comment_safe(state).splitlines())]
    note.append("   A corrected proof: *)")
    return (
        f"{whole_proof_prompt(statement)}{proof.strip()}\nQed.\n\n"
        + "\n".join(note)
        + "\n"
        + whole_proof_prompt(statement)
    )


def _comment_safe(text: str) -> str:
    """`text` that cannot close (or open) the Coq comment it is shown in."""
    return text.replace("*)", "* )").replace("(*", "( *").strip()
