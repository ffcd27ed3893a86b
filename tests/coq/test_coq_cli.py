"""The `proofsmith` CLI driven as a user would, through subprocesses and pipes."""

import subprocess
import sys
import textwrap

import pytest

CLI = [sys.executable, "-m", "proofsmith.cli.main"]


def run(args, stdin=None, timeout=120):
    return subprocess.run(CLI + args, input=stdin, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def vfile(tmp_path):
    f = tmp_path / "Cli.v"
    f.write_text(
        textwrap.dedent("""\
        Require Import Arith Lia.
        Theorem cli_good : forall n m : nat, n + m = m + n.
        Proof. intros n m. lia. Qed.
        Lemma cli_bullets : True /\\ True.
        Proof.
          split.
          - exact I.
          - exact I.
        Qed.
    """)
    )
    return f


def test_coq_cli_check_verifies_every_theorem(vfile):
    r = run(["check", str(vfile)])
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.strip().splitlines()
    assert [l.split("\t")[:2] for l in lines] == [["cli_good", "verified"], ["cli_bullets", "verified"]]


def test_coq_cli_check_fails_on_admitted_and_axiom(tmp_path):
    f = tmp_path / "Bad.v"
    f.write_text(
        "Axiom magic : forall P : Prop, P.\nTheorem b1 : 0 = 1.\nProof. apply magic. Qed.\n"
        "Theorem b2 : 1 = 1.\nProof. Admitted.\nTheorem b3 : 2 = 2.\nProof. reflexivity. Qed.\n"
    )
    r = run(["check", str(f)])
    assert r.returncode == 1
    verdicts = {l.split("\t")[0]: l.split("\t")[1] for l in r.stdout.strip().splitlines()}
    assert verdicts == {"b1": "rejected", "b2": "rejected", "b3": "verified"}


def test_coq_cli_shell_under_a_pipe(vfile):
    script = "Admitted.\nintros n m.\nfoo.\nback 1\nintros a b.\nproof\nlia.\nqed\n"
    r = run(["shell", str(vfile), "cli_good"], stdin=script)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    assert "refused: 'Admitted' is a vernacular command" in out
    assert "error at characters 0-3: The reference foo was not found" in out
    assert "a, b : nat" in out and "intros a b." in out
    assert out.rstrip().endswith("verified: coqc accepted the proof; closed under the global context")


def test_coq_cli_shell_refuses_given_up_proof(vfile):
    r = run(["shell", str(vfile), "cli_good"], stdin="admit.\nqed\n")
    assert "refused" in r.stdout and "not finished" in r.stdout


def test_coq_cli_shell_without_coq_names_the_install_command(vfile, tmp_path):
    import os

    env = dict(os.environ, PATH=str(tmp_path))  # no coqidetop on PATH
    r = subprocess.run(
        CLI + ["shell", str(vfile), "cli_good"],
        input="intros.\nqed\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    assert len(lines) == 3 and all("apt-get install coq" in l for l in lines)
    assert r.returncode == 2
