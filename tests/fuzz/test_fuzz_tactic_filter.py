"""Property: the Coq tactic filter never lets a vernacular command through, however it is dressed
(control prefixes, attributes, comments, bullets, goal selectors' braces, smuggled after a tactic),
and it never raises on arbitrary text."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proofsmith.envs.coq.tactic_filter import VERNACULAR, CheckedTactic, Refusal, check_tactic

FUZZ = settings(
    max_examples=2 * int(os.environ.get("PROOFSMITH_FUZZ_EXAMPLES", 150)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
pytestmark = pytest.mark.timeout(120)

# Coq 8.16 commands beyond the filter's own list (any capitalised head must be refused anyway).
MORE_COMMANDS = [
    "Admit Obligations",
    "Obligations",
    "Preterm",
    "Final Obligation",
    "Show Proof",
    "Optimize Proof",
    "Hint Extern",
    "Existential",
    "Guarded",
    "Validate Proof",
    "Reset Initial",
    "Back 2",
    "Print Assumptions",
    "Set Default Proof Mode",
    "Proof Mode",
    "Attributes",
    "Sort",
    "Variant",
    "Class",
    "Instance",
    "Succeed Qed",
    "Fail Fail Admitted",
    "Timeout 3 Time Admitted",
    "Type",
    "Extract Constant",
    "Extraction Language",
    "Extraction Library",
    "Import Prelude",
]
# Control prefixes (Time/Fail/Succeed/Timeout) are not commands by themselves: they wrap one, below.
keywords = st.sampled_from(sorted(VERNACULAR - {"Time", "Fail", "Succeed", "Timeout"}) + MORE_COMMANDS)
tails = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30).map(
    lambda s: s.replace(".", "").replace("(*", "").replace("*)", "").replace('"', "")
)
prefixes = st.sampled_from(
    [
        "",
        " ",
        "\n",
        "(* c *) ",
        "Time ",
        "Fail ",
        "Succeed ",
        "Timeout 5 ",
        "Time Fail ",
        "#[local] ",
        "#[global] ",
        "- ",
        "+ ",
        "* ",
        "{ ",
        "} ",
        "-- ",
        "1: { ",
        "Timeout 10 Time ",
    ]
)
honest = st.sampled_from(["idtac.", "intros.", "auto.", "lia.", "simpl.", "exact I.", "now auto.", "{", "-"])
# `tac.(* c *)Qed.` is one sentence for Coq too (a syntax error there): the live table covers it.
separators = st.sampled_from([" ", "\n", "\t", " (* x *)", " (* . *) ", "\n\n", " (**) ", "\n(* x *)\n"])


@FUZZ
@given(prefixes, keywords, tails, st.booleans())
def test_fuzz_filter_refuses_dressed_vernacular(prefix, keyword, tail, script):
    text = f"{prefix}{keyword} {tail}."
    assert isinstance(check_tactic(text, script=script), Refusal), text


@FUZZ
@given(honest, separators, prefixes, keywords, tails)
def test_fuzz_filter_refuses_vernacular_smuggled_after_a_tactic(first, sep, prefix, keyword, tail):
    text = f"{first}{sep}{prefix}{keyword} {tail}."
    assert isinstance(check_tactic(text, script=True), Refusal), text


@FUZZ
@given(st.text(max_size=200), st.booleans())
def test_fuzz_filter_total_on_arbitrary_text(text, script):
    result = check_tactic(text, script=script)
    assert isinstance(result, (CheckedTactic, Refusal))
    if isinstance(result, CheckedTactic):
        text.encode("utf-8")  # never hands Coq something it cannot send
        assert "\x00" not in text
        assert script or len(result.tactic_sentences) <= 1


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_filter_on_bytes_decoded_with_surrogateescape(raw):
    result = check_tactic(raw.decode("utf-8", "surrogateescape"))
    if isinstance(result, CheckedTactic):
        raw.decode("utf-8")  # accepted only when the bytes were valid UTF-8
