"""`proofsmith shell FILE.v [THEOREM]`: an interactive proof session, also drivable through a pipe."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from proofsmith.cli.errors import UsageError, existing_file, positive
from proofsmith.envs.base import (
    EnvCrashError,
    EnvStartError,
    EnvTimeoutError,
    ProofFinished,
    ProofGivenUp,
    ProverNotInstalledError,
    TacticRefused,
    TacticState,
    TheoremRef,
)
from proofsmith.envs.coq import CoqEnvironment
from proofsmith.envs.coq.source import list_theorems
from proofsmith.envs.limits import TACTIC_TIMEOUT

HELP = """commands:
  <tactic>   run a tactic on the current state (one sentence; bullets allowed)
  undo       go back one step            back N   go back N steps
  goals      print the current goals     proof    print the proof script so far
  qed        re-check the finished proof with coqc and audit its axioms
  help       this text                   quit     leave"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="a Coq .v file")
    p.add_argument("theorem", nargs="?", help="theorem name (default: the first one in the file)")
    p.add_argument(
        "--tactic-timeout",
        "--timeout",
        dest="tactic_timeout",
        type=float,
        default=TACTIC_TIMEOUT,
        help="time limit of one tactic, s (default %(default)s)",
    )


class Shell:
    def __init__(self, env: CoqEnvironment, ref: TheoremRef, out: TextIO):
        self.env, self.ref, self.out = env, ref, out
        self.history: list[TacticState] = []
        self.steps: list[str] = []
        self.finished: ProofFinished | None = None

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def show(self) -> None:
        if self.finished:
            self.say("no goals left: the proof is complete (Qed accepted). Type 'qed' to verify it.")
        else:
            self.say(self.history[-1].pp or "(no goals)")

    def start(self) -> None:
        self.history = [self.env.start(self.ref)]
        self.say(f"theorem {self.ref.name}")
        self.show()

    def handle(self, line: str) -> bool:
        """Process one input line; False to stop."""
        cmd = line.strip()
        if not cmd:
            return True
        word, _, rest = cmd.partition(" ")
        if word in ("quit", "exit"):
            return False
        if word == "help":
            self.say(HELP)
        elif word == "goals":
            self.show()
        elif word == "proof":
            self.say("\n".join(self.steps) or "(empty proof)")
        elif word in ("undo", "back"):
            n = 1
            if word == "back":
                if not rest.strip().isdigit():
                    self.say("usage: back N")
                    return True
                n = int(rest)
            n = min(n, len(self.steps))
            if self.finished and n:
                self.finished = None
                n -= 1
                self.steps.pop()
            for _ in range(n):
                self.history.pop()
                self.steps.pop()
            self.show()
        elif word == "qed":
            if not self.finished:
                self.say("not finished: goals remain")
            else:
                verdict = self.env.verify(self.ref, self.finished.proof)
                self.say(("verified: " if verdict.verified else "rejected: ") + "; ".join(verdict.reasons))
        else:
            self.tactic(cmd)
        return True

    def tactic(self, text: str) -> None:
        if self.finished:
            self.say("the proof is already complete: 'qed' to verify, 'undo' to change it")
            return
        try:
            result = self.env.run_tactic(self.history[-1], text)
        except (EnvCrashError, EnvTimeoutError) as e:
            self.say(f"error: {e} (prover restarted; state kept)")
            return
        if isinstance(result, TacticRefused):
            self.say(result.message if result.message.startswith("refused") else f"refused: {result.message}")
        elif isinstance(result, ProofFinished):
            self.finished = result
            self.steps.append(text)
            self.show()
        elif isinstance(result, ProofGivenUp):
            self.say("refused: that closes the proof with admitted goals (given up), which is not a proof")
        elif isinstance(result, TacticState):
            self.history.append(result)
            self.steps.append(text)
            self.show()
        else:
            where = f" at characters {result.pos[0]}-{result.pos[1]}" if result.pos else ""
            self.say(f"error{where}: {result.message}")


def run(args: argparse.Namespace) -> int:
    interactive = sys.stdin.isatty()
    path: Path = existing_file(args.file, "FILE", (".v",))
    positive(args.tactic_timeout, "--tactic-timeout")
    try:
        name = args.theorem
        if name is None:
            found = list_theorems(path.read_text(encoding="utf-8"))
            if not found:
                raise UsageError(f"FILE {path}: no Theorem/Lemma/... in it")
            name = found[0][1]
        env = CoqEnvironment(tactic_timeout=args.tactic_timeout)
        shell = Shell(env, TheoremRef.from_file(path, name), sys.stdout)
        shell.start()
    except ProverNotInstalledError as e:
        print(f"error: {e}")
        for _ in sys.stdin:
            print(f"error: {e}")
        return 2
    except (OSError, EnvStartError) as e:
        print(f"error: {e}")
        return 2
    try:
        while True:
            if interactive:
                print("proofsmith> ", end="", flush=True)
            line = sys.stdin.readline()
            if not line or not shell.handle(line):
                break
    finally:
        env.close()
    return 0
