"""The adversarial tactic tables: one row per attack, each with the outcome it must get.

Outcomes: REFUSED (never reaches the prover), GIVEN_UP (`ProofGivenUp`, never a proof),
ERROR (`TacticError` from the prover), NOT_PROOF (anything except `ProofFinished`).
`verify` rows must come back not verified. Shared by the tests and scripts/bench_reliability.py.
"""

from __future__ import annotations

from dataclasses import dataclass

REFUSED, GIVEN_UP, ERROR, NOT_PROOF, ACCEPTED = "refused", "given_up", "error", "not_proof", "accepted"

BAD_UTF8 = "intro n\udcff."  # a lone surrogate: what `surrogateescape` makes of invalid UTF-8 bytes
ONE_MB = "idtac " + "x" * (1 << 20) + "."


@dataclass(frozen=True)
class Case:
    name: str
    tactic: str
    expect: str
    script: bool = False  # Coq: several sentences as one step


# Coq, live. Theorem: forall n : nat, n + 0 = n (and False for the fix rows).
COQ_CASES = [
    # giving up
    Case("admit", "admit.", GIVEN_UP),
    Case("give_up", "give_up.", GIVEN_UP),
    Case("admit_in_branch", "intros n; induction n; [admit | simpl; auto].", GIVEN_UP),
    Case("abstract_admit", "abstract admit.", ERROR),
    Case("ltac_quoted_admit", "exact (ltac:(admit)).", ERROR),
    Case("Admitted", "Admitted.", REFUSED),
    Case("bullet_then_Admitted", "- Admitted.", REFUSED),
    Case("selector_Admitted", "1: Admitted.", ERROR),
    Case("Abort", "Abort.", REFUSED),
    # leaving the proof / nested proofs
    Case("Qed", "Qed.", REFUSED),
    Case("Defined", "Defined.", REFUSED),
    Case("nested_Lemma", "Lemma x : False.", REFUSED),
    Case("Definition", "Definition y := 0.", REFUSED),
    Case("Axiom", "Axiom cheat : False.", REFUSED),
    Case("Parameter", "Parameter cheat : False.", REFUSED),
    Case("Ltac_def", "Ltac t := admit.", REFUSED),
    Case("Ltac2", "Ltac2 Eval 1.", REFUSED),
    # options that weaken checking, attributes
    Case("Unset_Guard_Checking", "Unset Guard Checking.", REFUSED),
    Case("Set_Type_In_Type", "Set Universe Checking.", REFUSED),
    Case("Local_Set", 'Local Set Warnings "-all".', REFUSED),
    Case("Global_Unset", "Global Unset Positivity Checking.", REFUSED),
    Case("attribute", "#[bypass_check(guard)] Definition f := 0.", REFUSED),
    Case("attribute_local", "#[local] Obligation Tactic := idtac.", REFUSED),
    Case("Time_Qed", "Time Qed.", REFUSED),
    Case("Timeout_Admitted", "Timeout 5 Admitted.", REFUSED),
    Case("Fail_Fail_Axiom", "Fail Fail Axiom a : False.", REFUSED),
    # file / process access, plugins, extraction
    Case("Extraction", 'Extraction "f.ml" nat.', REFUSED),
    Case("Redirect", 'Redirect "/tmp/x" Print nat.', REFUSED),
    Case("Load", 'Load "/etc/passwd".', REFUSED),
    Case("Require", "Require Import Coq.Logic.Classical.", REFUSED),
    Case("Declare_ML_Module", 'Declare ML Module "evil_plugin".', REFUSED),
    Case("Drop", "Drop.", REFUSED),
    Case("Cd", 'Cd "/".', REFUSED),
    Case("Quit", "Quit.", REFUSED),
    # multi-sentence smuggling
    Case("two_sentences", "idtac. Qed.", REFUSED),
    Case("script_with_Qed", "intros n. Qed.", REFUSED, script=True),
    Case("script_with_Admitted", "intros n. lia. Admitted.", REFUSED, script=True),
    Case("comment_hides_dot", "idtac (* . Qed. *).", ACCEPTED),
    Case("string_hides_dot", 'idtac "a. Qed.".', ACCEPTED),
    Case("dot_glued_Qed", "idtac.Qed.", ERROR),
    Case("dot_glued_comment_Qed", "idtac.(* x *)Qed.", ERROR),  # one sentence for Coq as for us
    Case("control_prefix_alone", "Time .", REFUSED),
    Case("selector_Qed", "all: Qed.", ERROR),
    Case("paren_Qed", "(Qed).", ERROR),
    Case("unterminated_comment", "idtac (* .", REFUSED),
    Case("unterminated_string", 'idtac "abc.', REFUSED),
    Case("newline_smuggle", "idtac.\nAdmitted.", REFUSED),
    # braces
    Case("close_unopened_brace", "}", ERROR),
    Case("close_unopened_brace_tactic", "} idtac.", ERROR),
    Case("open_brace_only", "{", ACCEPTED),
    # bytes
    Case("NUL", "intro n.\x00Admitted.", REFUSED),
    Case("control_char", "intro\x07 n.", REFUSED),
    Case("one_megabyte", ONE_MB, REFUSED),
    Case("invalid_utf8_surrogate", BAD_UTF8, REFUSED),
    Case("empty", "", REFUSED),
    Case("only_comment", "(* nothing *)", REFUSED),
]

# Closes every goal but is rejected at Qed (the guard checker): an error, never a proof.
COQ_FIX_CASES = [
    Case("nonguarded_fix", "fix f 1. intro n. exact (f n).", ERROR, script=True),
    Case("nonguarded_cofix_like", "intro n. abstract admit.", ERROR, script=True),
]

# Proofs handed to `verify` (theorem: forall n : nat, False). None may verify.
COQ_VERIFY_CASES = {
    "nonguarded_fix": ["fix f 1.", "intro n.", "exact (f n)."],
    "admit": ["intro n.", "admit."],
    "give_up": ["give_up."],
    "abstract_admit": ["intro n.", "abstract admit."],
    "smuggled_Qed_Admitted": ["idtac. Qed. Lemma x : False. Admitted."],
    "smuggled_Unset_Guard": ["Unset Guard Checking.", "fix f 1.", "intro n.", "exact (f n)."],
    "smuggled_Axiom": ["Axiom cheat : False.", "intro n.", "exact cheat."],
    "unterminated_comment_eats_Qed": ["intro n. (*"],
    "unterminated_string": ['intro n. idtac "'],
    "Extraction": ['Extraction "f.ml" nat.'],
    "Redirect": ['Redirect "out" Print nat.'],
    "NUL": ["intro n.\x00"],
    "surrogate": [BAD_UTF8],
    "Drop": ["Drop."],
    "Declare_ML": ['Declare ML Module "x".'],
}

# Lean: (tactic, expected) at the filter level (REFUSED or ACCEPTED).
LEAN_CASES = [
    Case("eval_io", '#eval IO.println "x"', REFUSED),
    Case("eval_io_process", '#eval IO.Process.run {cmd := "rm"}', REFUSED),
    Case("exit", "#exit", REFUSED),
    Case("print_axioms", "#print axioms foo", REFUSED),
    Case("run_tac", "run_tac Lean.Elab.Tactic.evalTactic default", REFUSED),
    Case("run_cmd", "run_cmd pure ()", REFUSED),
    Case("run_elab", "run_elab pure ()", REFUSED),
    Case("by_elab", "exact by_elab pure default", REFUSED),
    Case("io_call", 'exact (IO.FS.writeFile "x" "y")', REFUSED),
    Case("system_call", 'exact (System.FilePath.mk "/")', REFUSED),
    Case("unsafe", "exact unsafe (cast rfl x)", REFUSED),
    Case("skip_kernel", "set_option debug.skipKernelTC true in rfl", REFUSED),
    Case("axiom", "axiom cheat : False", REFUSED),
    Case("sorry", "sorry", REFUSED),
    Case("admit", "admit", REFUSED),
    Case("sorryAx", "exact sorryAx _ false", REFUSED),
    Case("stop", "stop", REFUSED),
    Case("nested_theorem", "exact rfl\ntheorem x : False := sorry", REFUSED),
    Case("attribute_command", "simp\n@[simp] theorem y : True := trivial", REFUSED),
    Case("unterminated_comment", "simp /- hide", REFUSED),
    Case("unterminated_string", 'trace "abc', REFUSED),
    Case("NUL", "simp\x00", REFUSED),
    Case("one_megabyte", "simp " + "x" * (1 << 20), REFUSED),
    Case("invalid_utf8_surrogate", "simp\udcff", REFUSED),
    Case("empty", "   ", REFUSED),
    Case("sorry_in_comment", "simp -- sorry", ACCEPTED),
    Case("sorry_in_string", 'trace "sorry"', ACCEPTED),
    # passes the filter; verify's `#print axioms` audit rejects Lean.ofReduceBool
    Case("native_decide", "native_decide", ACCEPTED),
]

ISABELLE_CASES = [
    Case("sorry", "sorry", REFUSED),
    Case("oops", "oops", REFUSED),
    Case("ML", 'ML \\<open>OS.Process.system "rm -rf /"\\<close>', REFUSED),
    Case("ML_val", "ML_val \\<open>1\\<close>", REFUSED),
    Case("axiomatization", "axiomatization where cheat: False", REFUSED),
    Case("nested_lemma", "lemma x: False", REFUSED),
    Case("setup", "setup \\<open>I\\<close>", REFUSED),
    Case("declare", "declare [[quick_and_dirty]]", REFUSED),
    Case("skip_proof", "skip_proof", REFUSED),
    Case("export_code", 'export_code f in SML file "/tmp/x"', REFUSED),
    Case("end", "end", REFUSED),
    Case("sledgehammer", "sledgehammer", REFUSED),
    Case("unbalanced_cartouche", "using \\<open>x", REFUSED),
    Case("unbalanced_comment", "by simp (* ", REFUSED),
    Case("unbalanced_paren", "by (simp", REFUSED),
    Case("one_megabyte", "by simp " + "x" * (1 << 20), REFUSED),
    Case("invalid_utf8_surrogate", "by simp\udcff", REFUSED),
    Case("empty", "", REFUSED),
    Case("keyword_in_string", 'by (simp add: "sorry")', ACCEPTED),
    Case("honest", "by simp", ACCEPTED),
]

FSTAR_CASES = [
    Case("admit", "let f (x:nat) : Lemma (x > x) = admit ()", REFUSED),
    Case("tadmit", "let f () : Lemma False = assert False by (tadmit ())", REFUSED),
    Case("assume", "let f () : Lemma False = assume False", REFUSED),
    Case("magic", "let f () : Lemma False = magic ()", REFUSED),
    Case("unsafe_coerce", "let f () : False = unsafe_coerce ()", REFUSED),
    Case("set_options", '#set-options "--admit_smt_queries true"\nlet f () = ()', REFUSED),
    Case("push_options", '#push-options "--lax"\nlet f () = ()', REFUSED),
    Case("expect_failure", "[@@expect_failure]\nlet f () : Lemma False = ()", REFUSED),
    Case("effect", "new_effect FOO = PURE", REFUSED),
    Case("io", 'let f () : ML unit = FStar.IO.print_string "x"', REFUSED),
    Case("module", "module Evil", REFUSED),
    Case("splice", "%splice[] (fun () -> ())", REFUSED),
    Case("launch_process", 'let f () = launch_process "rm" [] ""', REFUSED),
    Case("unbalanced_comment", "let f () = () (*", REFUSED),
    Case("one_megabyte", "let f () = " + "1" * (1 << 20), REFUSED),
    Case("invalid_utf8_surrogate", "let f\udcff () = ()", REFUSED),
    Case("empty", "", REFUSED),
    Case("not_a_decl", "assert_norm (1 = 1)", REFUSED),
    Case("honest", "let f (x:nat) : Lemma (x + 0 == x) = ()", ACCEPTED),
]
