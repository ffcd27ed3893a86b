"""Helpers for the serving tests: a tiny model trained here to propose `lia`, `proofsmith serve` in a
subprocess, and a scripted OpenAI-style HTTP server for the fault cases."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

NAMES = ["n", "m", "k", "x", "y", "a", "b", "p", "q", "r", "s", "t"]


def lia_theorems():
    """Linear-arithmetic states whose tactic is `lia.` (or `intros; lia.` under a forall)."""
    from proofsmith.dataset.schema import TheoremRecord, TracedTactic

    recs = []
    for i, v in enumerate(NAMES):
        w = NAMES[(i + 3) % len(NAMES)]
        pairs = [
            (f"⊢ forall {v} {w} : nat, {v} + {w} = {w} + {v}", "intros; lia."),
            (f"{v}, {w} : nat\n⊢ {v} + {w} = {w} + {v}", "lia."),
            (f"⊢ forall {v} : nat, {v} <= {v} + {i}", "intros; lia."),
            (f"{v} : nat\n⊢ {v} * 2 = {v} + {v}", "lia."),
        ]
        for j, (state, tac) in enumerate(pairs):
            recs.append(
                TheoremRecord(
                    "",
                    "",
                    "Syn/L.v",
                    f"Syn.L.t{i}_{j}",
                    (i * 10 + j, 1),
                    (i * 10 + j, 5),
                    (TracedTactic(tac, (tac, ()), state, ""),),
                    f"Lemma t{i}_{j} : {state.split('⊢ ')[1]}.",
                )
            )
    return recs


def train_lia_model(out: Path) -> Path:
    """A tiny scratch decoder (stage 1 + LoRA, merged) that proposes `lia.`; about 5 s on one CPU thread."""
    import torch

    from proofsmith.dataset.corpus import Corpus
    from proofsmith.dataset.loading import write_dataset
    from proofsmith.dataset.schema import CorpusFile
    from proofsmith.training.pipeline import TrainConfig, run_training

    torch.set_num_threads(1)
    data = out / "data"
    write_dataset(data, lia_theorems(), Corpus([CorpusFile("Syn/L.v", (), ())]), {"backend": "coq"}, num_eval=3)
    model = out / "lia"
    run_training(
        TrainConfig(
            data=data,
            out=model,
            config="tiny",
            stage1_steps=60,
            stage2_steps=60,
            batch_size=8,
            eval_every=1000,
            max_input_tokens=64,
            max_target_tokens=16,
            lr_pretrain=1e-2,
            lr_lora=1e-2,
            merge=True,
            progress=False,
            retriever="none",
            num_premises=0,
        )
    )
    return model


def quiet_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PROOFSMITH_SERVE_API_KEY", "PROOFSMITH_OPENAI_API_KEY")}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false", **extra)
    return env


class ServeProcess:
    """`proofsmith serve` on a free port; `url` is its API base (…/v1)."""

    def __init__(self, model: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120.0):
        self.log = open(Path(model).parent / f"serve-{time.time_ns()}.err", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "proofsmith.cli.main", "serve", "--model", str(model), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env or quiet_env(),
        )
        assert self.proc.stdout is not None
        self.banner = self.proc.stdout.readline()  # printed once listening
        m = re.search(r"(http://\S+/v1)", self.banner)
        if not m:
            self.stop()
            raise AssertionError(f"serve did not start: {self.banner!r} {self.stderr()[-2000:]}")
        self.url = m.group(1)

    def stderr(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return Path(self.log.name).read_text()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()
        return self.proc.returncode


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------- fakes
def completion(texts: list[str], finish: str = "stop", logprobs: list[list[float]] | None = None) -> dict[str, Any]:
    """An OpenAI-shaped completion body."""
    choices = []
    for i, text in enumerate(texts):
        lp = {"tokens": [text], "token_logprobs": logprobs[i] if logprobs else [-0.1 * (i + 1)], "top_logprobs": None}
        choices.append({"index": i, "text": text, "logprobs": lp, "finish_reason": finish})
    return {"id": "cmpl-x", "object": "text_completion", "model": "fake", "choices": choices, "usage": {}}


# An answer of the fake server: (status, body bytes or JSON-able, headers, seconds to wait first), or a
# callable of the request body giving one.
Answer = tuple[int, Any, dict[str, str], float]


class FakeServer:
    """A scripted OpenAI-style server on loopback: each POST /v1/completions takes the next scripted
    answer (the last one repeats); GET /v1/models lists `fake`. `close_after=N` stops listening
    after N completions (a server going away mid-job)."""

    def __init__(self, answers: list[Answer | Callable[[dict], Answer]], close_after: int | None = None, port: int = 0):
        self.answers = list(answers)
        self.bodies: list[dict] = []
        self.close_after = close_after
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status: int, body: Any, headers: dict[str, str], wait: float, truncate: bool = False):
                if wait:
                    time.sleep(wait)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data) + (50 if truncate else 0)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                    self.wfile.flush()
                except OSError:
                    pass
                if truncate:
                    self.close_connection = True

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]}, {}, 0)
                else:
                    self._send(404, {"error": {"message": "no such path"}}, {}, 0)

            def do_POST(self):
                if fake.closed:  # gone: a kept-alive connection dies too
                    self.close_connection = True
                    return
                n = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(n) or b"{}")
                fake.bodies.append(body)
                i = min(len(fake.bodies) - 1, len(fake.answers) - 1)
                answer = fake.answers[i]
                if callable(answer):
                    answer = answer(body)
                status, payload, headers, wait = answer
                headers = dict(headers)
                truncate = headers.pop("X-Truncate", None) is not None
                self._send(status, payload, headers, wait, truncate=truncate)
                if fake.close_after is not None and len(fake.bodies) >= fake.close_after:
                    self.close_connection = True
                    fake.closed = True
                    threading.Thread(target=fake.shutdown, daemon=True).start()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.closed = False
        self.stopped = False
        self.thread.start()

    def shutdown(self) -> None:
        """Stop listening (idempotent)."""
        if not self.stopped:
            self.stopped = True
            self.httpd.shutdown()
            self.httpd.server_close()

    def close(self) -> None:
        self.closed = True
        self.shutdown()

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def ok(texts: list[str], **kw) -> Answer:
    return (200, completion(texts, **kw), {}, 0.0)
