#!/usr/bin/env python3
"""A fake `fstar.exe --ide FILE` replaying the recorded F* IDE transcripts.

For each query read on stdin it finds the recorded query with the same name and arguments
(the `comment` key ignored; the first not yet used, else the last used) in FAKE_FSTAR_IN and
writes that query's recorded output lines from FAKE_FSTAR_OUT, with the query-id rewritten to
the one it received and compact JSON as real F* prints. The recordings had progress messages
stripped (tests/ide/cleanup.py); per the spec, `full-buffer` gets `full-buffer-started` /
`full-buffer-finished` progress around its recorded lines. A query with no recorded answer is
answered with nothing (as F* does for `cancel`); one that was never recorded makes the fake exit 3.

FAKE_FSTAR_FAULTS (JSON list of {"code_contains": s, "fault": f}) injects, for a push whose code
contains s: "hang" (ignore SIGINT, spawn a child like z3, never answer), "hang-interruptible"
(answer the failure a SIGINT causes), "crash" (exit 2), "garbage" (a broken JSON line),
"debug" (non-JSON lines before the real answer). FAKE_FSTAR_LOG records every query.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

FEATURES = [
    "autocomplete",
    "autocomplete/context",
    "compute",
    "compute/reify",
    "compute/pure-subterms",
    "describe-protocol",
    "describe-repl",
    "exit",
    "lookup",
    "lookup/context",
    "lookup/documentation",
    "lookup/definition",
    "peek",
    "pop",
    "push",
    "push-partial-checked-file",
    "search",
    "segment",
    "vfs-add",
    "tactic-ranges",
    "interrupt",
    "progress",
    "full-buffer",
    "format",
    "restart-solver",
    "cancel",
    "fly-deps",
]


def write(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def load() -> tuple[list[dict], dict[str, list[dict]]]:
    fixtures = Path(os.environ["FAKE_FSTAR_FIXTURES"])
    queries = [json.loads(l) for l in (fixtures / os.environ["FAKE_FSTAR_IN"]).read_text().splitlines() if l.strip()]
    outputs: dict[str, list[dict]] = {}
    for line in (fixtures / os.environ["FAKE_FSTAR_OUT"]).read_text().splitlines():
        obj = json.loads(line) if line.strip() else None
        if not obj or obj.get("kind") == "protocol-info":
            continue
        outputs.setdefault(str(obj.get("query-id")).split(".")[0], []).append(obj)
    return queries, outputs


def same(recorded: dict, query: str, args: dict) -> bool:
    rec_args = {k: v for k, v in recorded.get("args", {}).items() if k != "comment"}
    if query == "full-buffer" and "with-symbols" not in rec_args:
        # the recording predates `with-symbols` being required; current F* needs it
        args = {k: v for k, v in args.items() if k != "with-symbols"}
    return recorded["query"] == query and rec_args == args


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # F* ignores SIGINT outside push/compute
    queries, outputs = load()
    used: set[int] = set()
    last_used: dict[str, int] = {}
    faults = json.loads(os.environ.get("FAKE_FSTAR_FAULTS", "[]"))
    log = os.environ.get("FAKE_FSTAR_LOG")
    write({"kind": "protocol-info", "version": 3, "features": FEATURES})
    for line in sys.stdin:
        if not line.strip():
            continue
        q = json.loads(line)
        qid, query, args = q["query-id"], q["query"], q.get("args", {})
        if log:
            with open(log, "a") as f:
                f.write(json.dumps({"query": query, "args": args, "argv": sys.argv[1:]}) + "\n")
        fault = next(
            (x["fault"] for x in faults if query == "push" and x["code_contains"] in args.get("code", "")), None
        )
        if fault == "crash":
            sys.stderr.write("fake F*: Fatal error: segmentation fault\n")
            sys.stderr.flush()
            os._exit(2)
        if fault == "garbage":
            sys.stdout.write('{"kind":"response","query-id":"' + qid + '","status":\n')
            sys.stdout.flush()
            continue
        if fault == "debug":
            sys.stdout.write("(debug) Checking fragment\nZ3 says hello\n")
        if fault in ("hang", "hang-interruptible"):
            if fault == "hang":
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                z3 = subprocess.Popen(["sleep", "1000"])  # stays in our process group, like z3
                Path(os.environ["FAKE_FSTAR_PIDFILE"]).write_text(str(z3.pid))
            else:

                def interrupted(*_):
                    write({"kind": "response", "query-id": qid, "status": "failure", "response": []})  # noqa: B023 (called before qid changes)
                    raise KeyboardInterrupt

                signal.signal(signal.SIGINT, interrupted)
            try:
                while True:
                    time.sleep(0.1)
            except KeyboardInterrupt:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                continue
        if query in ("cancel", "restart-solver"):
            continue  # F* writes nothing for these
        key = f"{query} {json.dumps(args, sort_keys=True)}"
        index = next((i for i, r in enumerate(queries) if i not in used and same(r, query, args)), last_used.get(key))
        if index is None and query == "lookup" and "symbol-range" in args:
            continue  # a symbol-range lookup that finds nothing is answered with silence
        if index is None:
            sys.stderr.write(f"fake F*: no recorded answer for {key[:300]}\n")
            sys.stderr.flush()
            sys.exit(3)
        used.add(index)
        last_used[key] = index
        recorded_id = str(queries[index]["query-id"])
        if query == "full-buffer":
            write(
                {"kind": "message", "query-id": qid, "level": "progress", "contents": {"stage": "full-buffer-started"}}
            )
        for obj in outputs.get(recorded_id, []):
            obj = dict(obj)
            rid = str(obj.get("query-id"))
            obj["query-id"] = qid + rid[len(recorded_id) :]
            write(obj)
        if query == "full-buffer":
            write(
                {"kind": "message", "query-id": qid, "level": "progress", "contents": {"stage": "full-buffer-finished"}}
            )
        if query == "exit":
            write({"kind": "response", "query-id": qid, "status": "success", "response": None})
            return


if __name__ == "__main__":
    main()
