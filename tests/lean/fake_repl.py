#!/usr/bin/env python3
"""A stand-in for the Lean REPL that answers from a recorded transcript (`X.in` + `X.expected.out`).

It reads stdin with the REPL's own rule (lines up to one that is blank after trimming, each
right-stripped, concatenated with no separator; text starting with `#` or `--` gets no reply),
checks each request equals (as JSON) the transcript's next request, and writes the recorded reply
bytes verbatim. Every raw byte received is appended to `--log`. Faults for robustness tests:
`--fault crash|hang|garbage|oom --fault-at I [--fault-once MARKER]` (I = transcript request index).
A wrong request, or one past the transcript's end, kills the server (exit 3/4) like a REPL crash.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def split_requests(text: str) -> list[str]:
    """The REPL's request framing (protocol spec §2.1), applied to a whole `.in` file."""
    requests, current = [], []
    for line in text.split("\n"):
        if line.strip():
            current.append(line.rstrip())
        elif current:
            requests.append("".join(current))
            current = []
    if current:
        requests.append("".join(current))
    return requests


def split_responses(data: bytes) -> list[bytes]:
    """Recorded replies, each with its terminating blank line (replies never contain an empty line)."""
    return [chunk + b"\n\n" for chunk in data.split(b"\n\n") if chunk.strip()]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", help="path to X.in; replies come from X.expected.out")
    ap.add_argument("--start", type=int, default=0, help="first transcript request to expect")
    ap.add_argument("--log")
    ap.add_argument("--fault", choices=["crash", "hang", "garbage", "oom"])
    ap.add_argument("--fault-at", type=int, default=-1)
    ap.add_argument("--fault-once", help="marker file: fault only if it does not exist yet (then create it)")
    args = ap.parse_args()

    scenario = Path(args.scenario)
    requests = split_requests(scenario.read_text(encoding="utf-8"))
    replies = split_responses(scenario.with_suffix(".expected.out").read_bytes())
    log = open(args.log, "ab") if args.log else None
    out = sys.stdout.buffer
    index = args.start
    lines: list[bytes] = []

    while True:
        raw = sys.stdin.buffer.readline()
        if log and raw:
            log.write(raw)
            log.flush()
        if raw and raw.strip():
            lines.append(raw)
            continue
        if not lines:
            if not raw:
                return 0  # EOF between requests: normal exit
            continue  # a blank line where a request should start (the client must not send these)
        text = "".join(line.decode("utf-8").rstrip() for line in lines)
        lines = []
        if text.startswith(("#", "--")):
            continue
        try:
            got = json.loads(text)
        except json.JSONDecodeError:
            print(f"uncaught exception: Could not parse JSON:\n{text}", file=sys.stderr)
            return 1
        if index >= len(requests):
            print(f"transcript {scenario.name} exhausted; got {text}", file=sys.stderr)
            return 4
        if got != json.loads(requests[index]):
            print(
                f"transcript {scenario.name} request {index}: expected {requests[index]}, got {text}", file=sys.stderr
            )
            return 3
        reply = replies[index]
        if args.fault and index == args.fault_at and _arm(args.fault_once):
            if args.fault == "crash":  # EOF in the middle of a reply
                out.write(reply[: len(reply) // 2])
                out.flush()
                print("PANIC at Lean.Elab (fake)", file=sys.stderr)
                return 1
            if args.fault == "hang":
                time.sleep(3600)
            if args.fault == "garbage":
                out.write(b"INTERNAL PANIC: unreachable code\n{{{ not json\n\n")
                out.flush()
                index += 1
                continue
            if args.fault == "oom":  # what Lean's runtime prints when an allocation fails
                print("INTERNAL PANIC: out of memory", file=sys.stderr, flush=True)
                return 1
        out.write(reply)
        out.flush()
        index += 1
        if not raw:
            return 0


def _arm(marker: str | None) -> bool:
    if marker is None:
        return True
    if os.path.exists(marker):
        return False
    Path(marker).touch()
    return True


if __name__ == "__main__":
    sys.exit(main())
