"""Sources written for Rocq 9 on the Coq 8.x installed here.

Rocq 9 renamed the standard library's logical root from `Coq` to `Stdlib` (`From Stdlib Require
Import Reals.`); Coq 8.x only knows `Coq`. Statements written for either load on both: on Coq < 9
the `Stdlib` root is read as `Coq` (Rocq 9 still accepts `Coq` as a deprecated alias, so nothing
is rewritten there).
"""

from __future__ import annotations

import functools
import re
import subprocess

# A Require/Import/Export sentence (with its `From ROOT` prefix): up to a period followed by a blank.
_LOAD_SENTENCE = re.compile(r"\b(?:From\s+[\w.]+\s+)?(?:Require|Import|Export)\b(?:[^.]|\.(?=[\w(]))*\.")
_STDLIB_ROOT = re.compile(r"\bStdlib\b(?=\s|\.)")


@functools.cache
def coq_major_version() -> int:
    """Major version of the `coqc` on PATH (8 when it cannot be asked: the Debian Coq here)."""
    try:
        out = subprocess.run(["coqc", "--print-version"], capture_output=True, text=True, timeout=30).stdout
        return int(out.split(".")[0])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return 8


def stdlib_as_coq(text: str) -> str:
    """`text` with the Rocq 9 `Stdlib` root of Require/Import sentences read as `Coq`."""
    if "Stdlib" not in text:
        return text
    return _LOAD_SENTENCE.sub(lambda m: _STDLIB_ROOT.sub("Coq", m.group(0)), text)


def for_installed_coq(text: str) -> str:
    """Source text as the installed Coq reads it."""
    return stdlib_as_coq(text) if coq_major_version() < 9 else text
