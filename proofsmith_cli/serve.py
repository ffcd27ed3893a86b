"""`proofsmith serve --model PATH|NAME`: an OpenAI-compatible completion server for a generator model
(`/v1/completions`, `/v1/models`), batching concurrent requests; provers use it as `openai:NAME@URL`."""

from __future__ import annotations

import argparse
import logging
import os
import re
import socket
from pathlib import Path

from proofsmith.cli.errors import UsageError, existing_dir, positive

log = logging.getLogger(__name__)

API_KEY_ENV = "PROOFSMITH_SERVE_API_KEY"
NAME = re.compile(r"^[\w.\-/:]+$")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        required=True,
        help="a `proofsmith train` output (generator.json), a model or LoRA adapter directory, or a Hub name",
    )
    p.add_argument("--adapter", type=Path, default=None, help="a LoRA adapter directory to put on --model")
    p.add_argument(
        "--no-merge", action="store_true", help="keep the LoRA adapter separate (default: folded into the weights)"
    )
    p.add_argument(
        "--served-model-name", default=None, help="the model name clients ask for (default: the model folder's name)"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback: %(default)s)")
    p.add_argument("--port", type=int, default=8000, help="port (0: any free port; default %(default)s)")
    p.add_argument("--max-batch", type=int, default=16, help="prompts per model call (default %(default)s)")
    p.add_argument(
        "--batch-wait-ms",
        type=float,
        default=10.0,
        help="how long the first request of a batch waits for others, ms (default %(default)s)",
    )
    p.add_argument("--device", default=None, help="cpu | cuda | cuda:N (default: cuda when there is one)")
    p.add_argument(
        "--api-key-env",
        default=None,
        metavar="VAR",
        help=f"require `Authorization: Bearer <key>` with the key in this environment variable "
        f"(default: ${API_KEY_ENV} when set, else no key)",
    )


def served_name(model: str, given: str | None) -> str:
    if given is not None:
        if not NAME.match(given):
            raise UsageError(f"--served-model-name {given!r}: use letters, digits and . _ - / : only")
        return given
    path = Path(model)
    return path.resolve().name if path.exists() else model


def api_key(var: str | None) -> str | None:
    """The key from `var` (which must then be set), else from $PROOFSMITH_SERVE_API_KEY if set."""
    if var is not None:
        value = os.environ.get(var, "")
        if not value:
            raise UsageError(f"--api-key-env {var}: the variable is not set (or empty)")
        return value
    return os.environ.get(API_KEY_ENV) or None


def port_free(host: str, port: int) -> None:
    """`port` can be bound on `host` now (checked before the model loads)."""
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be in [0, 65535], not {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise UsageError(f"--host {host}: cannot resolve ({e.strerror})") from None
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as e:
            raise UsageError(f"--host {host} --port {port}: cannot listen there ({e.strerror})") from None


def run(args: argparse.Namespace) -> int:
    from proofsmith.cli.errors import generator_spec
    from proofsmith.prover.serving import ServeConfig, serve

    # Everything is checked before the model loads.
    model = generator_spec(f"hf:{args.model}", "--model").partition(":")[2]
    adapter = None
    if args.adapter is not None:
        existing_dir(args.adapter, "--adapter")
        if not (args.adapter / "adapter_config.json").is_file():
            raise UsageError(f"--adapter {args.adapter}: not a LoRA adapter (no adapter_config.json)")
        adapter = str(args.adapter.resolve())
    positive(args.max_batch, "--max-batch")
    positive(args.batch_wait_ms, "--batch-wait-ms", allow_zero=True)
    name = served_name(args.model, args.served_model_name)
    key = api_key(args.api_key_env)
    port_free(args.host, args.port)
    cfg = ServeConfig(
        model=model,
        served_name=name,
        adapter=adapter,
        merge=not args.no_merge,
        host=args.host,
        port=args.port,
        max_batch=args.max_batch,
        batch_wait_ms=args.batch_wait_ms,
        device=args.device,
        api_key=key,
    )

    def ready(url: str) -> None:
        print(f"serving {name} at {url} ({'API key required' if key else 'no API key'}); Ctrl-C stops", flush=True)

    serve(cfg, ready=ready)
    return 0
