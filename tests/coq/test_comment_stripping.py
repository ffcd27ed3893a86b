"""`strip_comments` and `masked_text` (hot in tracing) against the plain character-by-character
definitions they replaced, on random Coq-like text and on real library files."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from proofsmith.envs.coq.declarations import masked_text
from proofsmith.envs.coq.libraries import coqlib
from proofsmith.envs.coq.sentences import SentenceSyntaxError, _skip_comment, _skip_string, strip_comments


def reference_strip(text: str) -> str:
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("(*", i):
            i = _skip_comment(text, i)
            out.append(" ")
        elif text[i] == '"':
            j = _skip_string(text, i)
            out.append(text[i:j])
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def reference_mask(text: str) -> str:
    out, i, n = list(text), 0, len(text)
    while i < n:
        if text.startswith("(*", i):
            j = _skip_comment(text, i)
        elif text[i] == '"':
            j = _skip_string(text, i)
        else:
            i += 1
            continue
        out[i:j] = " " * (j - i)
        i = j
    return "".join(out)


def outcome(f, text):
    try:
        return f(text)
    except SentenceSyntaxError as e:
        return ("error", str(e))


def test_same_as_the_reference_on_random_text():
    rng = random.Random(0)
    alphabet = ["(", "*", ")", '"', "a", " ", ".", "(*", "*)", '""', "x y", "\n"]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30)))
        assert outcome(strip_comments, text) == outcome(reference_strip, text), text
        assert outcome(masked_text, text) == outcome(reference_mask, text), text


@pytest.mark.parametrize("name", ["Init/Logic.v", "Strings/String.v", "Reals/Rtrigo_def.v"])
def test_same_as_the_reference_on_library_files(name):
    text = (Path(coqlib()) / "theories" / name).read_text(encoding="utf-8")
    assert "(*" in text
    assert strip_comments(text) == reference_strip(text)
    assert masked_text(text) == reference_mask(text)
    assert len(masked_text(text)) == len(text)
