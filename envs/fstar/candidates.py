"""Which candidate definitions are sent to F*.

A candidate is one or more top-level `let`/`val`/`type` declarations. Refused before F* sees
them: admits and assumptions (`admit`, `assume`, `tadmit`, `magic`...), option pragmas (the
environment owns solver options), `expect_failure` (turns a failure into a success), new
effects and effect escapes (`ML`/`IO`/`St`, `FStar.IO`), `friend`/`module`/`include`, splices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from proofsmith.envs.fstar.source import defined_names, split_decls

MAX_CANDIDATE_CHARS = 20000

_FORBIDDEN = [
    (r"\badmit\b|\badmit_smt_queries\b|\btadmit(?:_t)?\b|\badmitP\b", "admits the goal"),
    (r"\bassume\b|\bassume_val\b|\baxiom\b", "assumes a fact"),
    (r"\bmagic\b|\bunsafe_coerce\b|\bObj\.magic\b", "bypasses the type system"),
    (
        r"^\s*#\s*(?:set|reset|push|pop)-options\b|^\s*#\s*restart-solver\b|^\s*#\s*lang-|^\s*#\s*light\b",
        "changes checker options",
    ),
    (r"--admit_smt_queries|--lax\b|--MLish\b", "weakens checking"),
    (r"\bexpect_(?:lax_)?failure\b", "inverts failure and success"),
    (r"^\s*(?:new_effect|sub_effect|layered_effect|effect|total_effect|reflectable|reifiable)\b", "declares an effect"),
    (
        r"\b(?:ML|IO|St|ALL|Dv|Stack|ST|Heap)\b\s+\w|\bFStar\.(?:IO|All|ST|HyperStack)\b|\bprint_string\b",
        "uses an effect that escapes",
    ),
    (r"^\s*(?:module|friend|include|open)\b", "changes the module context"),
    (r"%splice|\bsplice\b|\blaunch_process\b", "runs meta-programs with side effects"),
]
_FORBIDDEN_RE = [(re.compile(p, re.M), why) for p, why in _FORBIDDEN]
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_COMMENTS = re.compile(r"\(\*.*?\*\)|//[^\n]*", re.S)


@dataclass(frozen=True)
class CandidateCheck:
    ok: bool
    reason: str = ""
    names: tuple[str, ...] = ()


def check_candidate(code: str) -> CandidateCheck:
    if not code.strip():
        return CandidateCheck(False, "empty candidate")
    if len(code) > MAX_CANDIDATE_CHARS:
        return CandidateCheck(False, f"candidate longer than {MAX_CANDIDATE_CHARS} characters")
    try:
        code.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate would crash the JSON query encoder
        return CandidateCheck(False, "candidate is not valid Unicode (lone surrogate)")
    if code.count("(*") != code.count("*)"):
        return CandidateCheck(False, "unbalanced comment")
    bare = _COMMENTS.sub(" ", _STRINGS.sub('""', code))
    for pattern, why in _FORBIDDEN_RE:
        m = pattern.search(bare)
        if m:
            return CandidateCheck(False, f"`{m.group(0).strip()}` {why}")
    lines = code.strip("\n").split("\n")
    names: list[str] = []
    decls = split_decls("\n".join(lines))
    if not decls or decls[0][0] != 0:
        return CandidateCheck(False, "a candidate must start with a top-level declaration")
    for first, last in decls:
        keyword, defined = defined_names("\n".join(lines[first : last + 1]))
        if keyword not in ("let", "val", "type"):
            return CandidateCheck(False, f"not a definition: {lines[first][:60]!r}")
        names.extend(defined)
    return CandidateCheck(True, names=tuple(names))
