#!/usr/bin/env python3
"""A fake `isabelle server` for tests: TCP on 127.0.0.1, answering from the recorded transcripts.

Invoked like the real tool (`fake_isabelle.py server -n NAME`); prints the real address line.
Every reply except `use_theories` in scenario mode is the recorded byte stream of
tests/fixtures/isabelle-server/isabelle-client-responses/<command>. In scenario mode,
`use_theories` answers are built from the recorded `use_theories`/`use_theories.Fail` replies
(same messages, keys and framing), with theory names, positions and texts taken from a scenario
table that says what each proof step "does". Environment variables:

  FAKE_ISABELLE_FIXTURES  directory of recorded responses (required)
  FAKE_ISABELLE_USE_THEORIES  recorded file that answers use_theories (replay mode)
  FAKE_ISABELLE_SCENARIO  JSON scenario file (scenario mode)
  FAKE_ISABELLE_LOG       JSON-lines log of every command received
"""

from __future__ import annotations

import json
import os
import re
import socketserver
import sys
import threading
import uuid
from pathlib import Path

FIX = Path(os.environ["FAKE_ISABELLE_FIXTURES"])
PASSWORD = str(uuid.uuid4())
LOCK = threading.Lock()
HANGING: dict[str, dict] = {}  # task id -> {"event", "mode", "wfile"}


def log(entry: dict) -> None:
    path = os.environ.get("FAKE_ISABELLE_LOG")
    if path:
        with LOCK, open(path, "a") as f:
            f.write(json.dumps(entry) + "\n")


def frame(text: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) <= 100 and b"\n" not in data:
        return data + b"\n"
    return str(len(data) + 1).encode() + b"\n" + data + b"\n"


def recorded(name: str) -> bytes:
    return (FIX / name).read_bytes()


def recorded_messages(name: str) -> list[str]:
    """The recorded file split into messages (independent of the client's reader)."""
    data, out, i = recorded(name), [], 0
    while i < len(data):
        j = data.find(b"\n", i)
        j = len(data) if j < 0 else j
        line = data[i:j]
        if line.isdigit():
            n = int(line)
            out.append(data[j + 1 : j + 1 + n].rstrip(b"\n").decode())
            i = j + 1 + n
        else:
            if line:
                out.append(line.decode())
            i = j + 1
    return out


def symbol_offset(text: str, char_index: int) -> int:
    """1-based Isabelle symbol offset of a character index."""
    return len(re.findall(r"\\<\^?\w+>|.", text[:char_index], re.S)) + 1


class Handler(socketserver.StreamRequestHandler):
    def read_message(self) -> str | None:
        line = self.rfile.readline()
        if not line:
            return None
        line = line.rstrip(b"\r\n")
        if line.isdigit():
            line = self.rfile.read(int(line)).rstrip(b"\n")
        return line.decode()

    def send(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def handle(self) -> None:
        if self.read_message() != PASSWORD:
            return  # the real server closes the socket silently
        self.send(frame('OK {"isabelle_id":"fake","isabelle_name":"Isabelle2025-2"}'))
        while True:
            msg = self.read_message()
            if msg is None:
                return
            if not msg:
                continue
            name, _, rest = msg.partition(" ")
            arg = json.loads(rest) if rest.strip() else None
            log({"command": name, "argument": arg})
            if not self.dispatch(name, arg):
                return

    def dispatch(self, name: str, arg) -> bool:
        if name == "use_theories":
            fixture = os.environ.get("FAKE_ISABELLE_USE_THEORIES")
            if fixture:
                return self.replay(fixture)
            return self.scenario_use_theories(arg)
        if name == "cancel":
            entry = HANGING.get(arg.get("task", "")) if isinstance(arg, dict) else None
            ok = self.replay("cancel")
            if entry and entry["mode"] == "interrupt":
                entry["event"].set()
            return ok
        if name == "shutdown":
            self.replay("shutdown")
            threading.Timer(0.2, lambda: os._exit(0)).start()
            return False
        if name in {"help", "session_build", "session_start", "session_stop", "purge_theories"}:
            return self.replay(name)
        self.send(recorded("unknown").replace(b"'unknown'", f"'{name}'".encode()))
        return True

    def replay(self, fixture: str) -> bool:
        data = recorded(fixture)
        self.send(data)
        return data.endswith(b"\n")  # a stream cut without LF ends the connection (Sledgehammer)

    # ------------------------------------------------------------------ scenario mode
    def scenario_use_theories(self, arg: dict) -> bool:
        scenario = json.loads(Path(os.environ["FAKE_ISABELLE_SCENARIO"]).read_text())
        name = arg["theories"][0]
        node_name = os.path.join(arg["master_dir"], name + ".thy")
        text = Path(node_name).read_text()
        stmt_at = text.index(scenario["statement"]) + len(scenario["statement"])
        probe_at = text.find("\nprint_state\n", stmt_at)
        end_at = probe_at if probe_at >= 0 else text.rindex("\nend")
        block = text[stmt_at:end_at].strip("\n")
        rule = next((r for r in scenario["rules"] if "\n".join(r["steps"]) == block), None)
        if rule is None:
            rule = {"outcome": "error", "error": {"message": 'Undefined method: "no scenario"'}}
        task = str(uuid.uuid4())
        self.send(frame("OK " + json.dumps({"task": task}, separators=(",", ":"))))
        outcome = rule["outcome"]
        if outcome == "crash":
            sys.stderr.write("fake isabelle: crashing as the scenario says\n")
            sys.stderr.flush()
            os._exit(7)
        if outcome == "garbage":
            self.send(b"\x01\x02 not a message %%%\n")
            return False
        if outcome == "hang":
            event = threading.Event()
            HANGING[task] = {"event": event, "mode": rule.get("cancel", "ignore")}
            while not event.wait(0.1):
                pass
            failed = {"task": task, "kind": "error", "message": "Interrupt"}  # spec §5(d)
            self.send(frame("FAILED " + json.dumps(failed, separators=(",", ":"))))
            return True
        fixture = "use_theories" if outcome in ("state", "ok") else "use_theories.Fail"
        msgs = recorded_messages(fixture)
        notes = [json.loads(m[5:]) for m in msgs if m.startswith("NOTE ")]
        finished = json.loads(next(m for m in msgs if m.startswith("FINISHED "))[9:])
        theory_name = "Draft." + name
        for note in notes:
            note.update(task=task, theory=theory_name, message=f"theory {theory_name} {note['percentage']}%")
            self.send(frame("NOTE " + json.dumps(note, separators=(",", ":"))))
        node = finished["nodes"][0]
        node.update(theory_name=theory_name, node_name=node_name)
        messages = []
        if outcome == "state":
            line = text[: probe_at + 1].count("\n") + 1
            at = probe_at + 1
            messages.append(
                {
                    "kind": "writeln",
                    "message": rule["state"],
                    "pos": {
                        "line": line,
                        "offset": symbol_offset(text, at),
                        "end_offset": symbol_offset(text, at + len("print_state")),
                        "file": node_name,
                    },
                }
            )
        errors = []
        if outcome == "error":
            err = rule["error"]
            step_text = rule["steps"][-1] if rule.get("steps") else block
            base = text.rindex(step_text, 0, end_at + 1) if step_text else stmt_at
            a, b = err.get("span", [0, len(step_text)])
            e = {
                "kind": "error",
                "message": err["message"],
                "pos": {
                    "line": text[: base + a].count("\n") + 1,
                    "offset": symbol_offset(text, base + a),
                    "end_offset": symbol_offset(text, base + b),
                    "file": node_name,
                },
            }
            errors.append(e)
            messages.append(e)
        node["messages"] = messages
        finished.update(task=task, ok=not errors, errors=errors)
        node["status"]["ok"] = not errors
        self.send(frame("FINISHED " + json.dumps(finished, separators=(",", ":"))))
        return True


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main() -> None:
    args = sys.argv[1:]
    name = args[args.index("-n") + 1] if "-n" in args else "isabelle"
    srv = Server(("127.0.0.1", 0), Handler)
    print(f'server "{name}" = 127.0.0.1:{srv.server_address[1]} (password "{PASSWORD}")', flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
