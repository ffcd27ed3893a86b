from proofsmith.envs.coq.sentences import split_sentences
from proofsmith.envs.coq.tactic_filter import CheckedTactic, Refusal, check_tactic


def texts(s):
    return [x.text for x in split_sentences(s, allow_unterminated=True)]


def test_coq_split_bullets_braces_comments_qualified_names():
    src = 'intros. (* a. b *) split.\n- rewrite Nat.add_comm. lia.\n+ { exact I. }\n2: { auto. } apply "x. y".'
    assert texts(src) == [
        "intros.",
        "split.",
        "-",
        "rewrite Nat.add_comm.",
        "lia.",
        "+",
        "{",
        "exact I.",
        "}",
        "2: {",
        "auto.",
        "}",
        'apply "x. y".',
    ]


def test_coq_split_nested_bullets_and_ssreflect_projection():
    assert texts("-- move=> x.1 y. by [].") == ["--", "move=> x.1 y.", "by []."]


def test_coq_filter_adds_missing_dot_and_accepts_bullet_prefix():
    c = check_tactic("- intros n")
    assert isinstance(c, CheckedTactic)
    assert [s.text for s in c.sentences] == ["-", "intros n."]


def test_coq_filter_refuses_every_class():
    bad = {
        "Qed.": "vernacular",
        "Admitted.": "vernacular",
        "Abort.": "vernacular",
        "Definition x := 1.": "vernacular",
        "Require Import Arith.": "vernacular",
        'Load "/etc/passwd".': "vernacular",
        'Redirect "/tmp/x" Print nat.': "vernacular",
        'Declare ML Module "evil".': "vernacular",
        "Drop.": "vernacular",
        "Unset Guard Checking.": "vernacular",
        "Set Printing All.": "vernacular",
        "Axiom f : False.": "vernacular",
        "#[bypass_check(guard)] idtac.": "attribute",
        "Time Admitted.": "vernacular",
        "Timeout 3 Qed.": "vernacular",
        "intros. lia.": "sentences",
        "intros\x00": "NUL",
        "x" * 30000: "too long",
        "  ": "empty",
        "(* only a comment *)": "empty",
        'exact "unterminated': "split",
    }
    for text, why in bad.items():
        r = check_tactic(text)
        assert isinstance(r, Refusal), text
        assert why in r.reason, (text, r.reason)


def test_coq_filter_script_mode_allows_several_but_still_refuses_vernacular():
    assert isinstance(check_tactic("intros. lia.", script=True), CheckedTactic)
    assert isinstance(check_tactic("intros. Qed. Axiom x : False.", script=True), Refusal)


def test_coq_split_proof_with_ellipsis_ends_a_sentence_but_notation_dots_do_not():
    assert texts("auto... split.") == ["auto...", "split."]
    assert texts('Notation "[ x ; .. ; y ]" := (cons x .. (cons y nil) ..). idtac.') == [
        'Notation "[ x ; .. ; y ]" := (cons x .. (cons y nil) ..).',
        "idtac.",
    ]
