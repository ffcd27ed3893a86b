"""Statuses of a proof search and outcomes of its tactic attempts, shared by search, results and report.

Both are `str` enums whose values are the strings written to results files, so a row dumps to the
same JSON as before (`json.dumps(SearchStatus.PROVED) == '"proved"'`), a row read back from disk
(plain strings) compares equal to the members, and old results files load unchanged.
"""

from __future__ import annotations

from enum import Enum


class _StrEnum(str, Enum):
    """A str enum that prints and formats as its value (as `enum.StrEnum`, which needs Python 3.11)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class SearchStatus(_StrEnum):
    """How the search of one theorem ended (the `status` of a results row)."""

    PROVED = "proved"  # a proof, re-verified by the backend (coqc + axiom audit)
    FAILED = "failed"  # search space or expansion budget exhausted
    TIMEOUT = "timeout"  # the theorem's time budget ran out
    ERROR = "error"  # the prover or a worker failed (crash, hang, bug)
    INVALID_STATEMENT = "invalid_statement"  # the statement does not elaborate: outside the denominator


class AttemptOutcome(_StrEnum):
    """What one tactic attempt during the search gave (the `outcome` of an attempt in a search tree)."""

    STATE = "state"  # a new proof state
    DUPLICATE = "duplicate"  # a state already seen
    ERROR = "error"  # the tactic failed
    REFUSED = "refused"  # refused before it ran (vernacular, admit...)
    GIVEN_UP = "given_up"  # closes the proof with admitted goals
    CIRCULAR = "circular"  # closes the proof with a later lemma of the theorem's own library
    PROOF = "proof"  # a finished proof that verified
    REJECTED_PROOF = "rejected_proof"  # a finished proof the re-check rejected
    CRASH = "crash"  # the prover crashed or hung on it


def is_timeout(outcome: str, message: str) -> bool:
    """An attempt stopped by a time limit: a `Timeout!` error (or a tactic's own, as CoqHammer's
    `Control.Timeout`), or the prover killed on a hang."""
    m = (message or "").lower()
    if outcome == AttemptOutcome.ERROR:  # `Timeout!`, CoqHammer's `... Control.Timeout`
        return "timeout" in m
    return outcome == AttemptOutcome.CRASH and ("timeout" in m or "did not answer" in m or "exceeded" in m)
