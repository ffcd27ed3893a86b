"""An OpenAI-compatible completion server for any generator model the project loads (`proofsmith serve`).

Endpoints: `POST /v1/completions` (`prompt` as a string or a list, `n`, `max_tokens`, `temperature`,
`stop`, `logprobs`), `GET /v1/models`, and two of our own: `GET /health` and `GET /stats` (batch
sizes, for tuning). Responses are shaped like OpenAI's (`choices[i].text`,
`choices[i].logprobs.token_logprobs`, `finish_reason`, `usage`), so `openai:MODEL@URL` talks to this
server, vLLM, TGI or llama.cpp alike.

Concurrent requests are batched dynamically: the first waiting request opens a window of
`batch_wait_ms`; everything that arrives in it (up to `max_batch` prompts) goes to the model in one
`generate` call per distinct (n, max_tokens, temperature). The model runs in one worker thread, so
the event loop keeps accepting requests while a batch generates.

`temperature: 0` asks for the `n` best beams (beam search, length penalty 0, as the in-process HF
generator does); `temperature > 0` samples. Prompts are used as given (`prompt.model_input` builds
them on the client); a seq2seq model drops the decoder-only `<tac>` mark at the end.

An API key, when set, is read from an environment variable and compared in constant time; it is
never logged. The server listens on loopback unless told otherwise.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from proofsmith.prover.generators.prompt import TACTIC_SEP

log = logging.getLogger(__name__)

MAX_N = 256  # completions per prompt
MAX_STOP = 4  # stop sequences per request (OpenAI's limit)
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class RequestError(ValueError):
    """A request the server cannot answer (HTTP 400); the message names the field."""

    def __init__(self, message: str, param: str | None = None, status: int = 400):
        super().__init__(message)
        self.param, self.status = param, status


@dataclass
class Choice:
    """One completion: its text, its tokens with their log-probabilities, and why it ended."""

    text: str
    tokens: list[str]
    token_logprobs: list[float]
    text_offset: list[int]
    finish_reason: str  # "stop" (end of sequence or a stop string) | "length" (max_tokens reached)


@dataclass(frozen=True)
class Sampling:
    """The generation settings a batch shares."""

    n: int
    max_tokens: int
    temperature: float


@dataclass
class Completions:
    """What the engine returns for a list of prompts: `n` choices per prompt, and token counts."""

    choices: list[list[Choice]]
    prompt_tokens: list[int]


def cut_at_stop(text: str, stop: Sequence[str]) -> int | None:
    """Where the earliest stop string starts in `text`, or None."""
    hits = [i for s in stop if s and (i := text.find(s)) >= 0]
    return min(hits) if hits else None


class CompletionEngine:
    """A Hugging Face model + tokenizer (an `HFTacticGenerator`'s) answering raw completion prompts."""

    def __init__(self, model: Any, tokenizer: Any, max_input_tokens: int, default_max_tokens: int):
        from proofsmith.prover.generators.hf import is_seq2seq

        self.model, self.tokenizer = model, tokenizer
        self.max_input_tokens, self.default_max_tokens = max_input_tokens, default_max_tokens
        self.seq2seq = is_seq2seq(model)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.truncation_side = "left"  # keep the end of the prompt (the goal) when it is too long

    @classmethod
    def load(cls, model: str, adapter: str | None = None, merge: bool = True, device: str | None = None):
        """Whatever `hf:PATH` loads: a training output (generator.json), a model or adapter directory,
        or a Hub name; a LoRA adapter folded into the weights unless `merge=False`."""
        from proofsmith.prover.generators.hf import HFTacticGenerator

        gen = HFTacticGenerator.from_pretrained(model, adapter=adapter, device=device, merge_adapter=merge)
        return cls(gen.model, gen.tokenizer, gen.config.max_input_tokens, gen.config.max_new_tokens)

    def _prompt_text(self, prompt: str) -> str:
        if self.seq2seq and prompt.endswith(TACTIC_SEP):
            return prompt[: -len(TACTIC_SEP)]
        return prompt

    def complete(self, prompts: Sequence[str], sampling: Sampling) -> Completions:
        import torch

        tok, model = self.tokenizer, self.model
        tok.padding_side = "right" if self.seq2seq else "left"
        device = next(model.parameters()).device
        enc = tok(
            [self._prompt_text(p) for p in prompts],
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=self.max_input_tokens,
            add_special_tokens=self.seq2seq,
        ).to(device)
        n = sampling.n
        common: dict[str, Any] = dict(
            max_new_tokens=sampling.max_tokens,
            num_return_sequences=n,
            output_scores=True,
            return_dict_in_generate=True,
            pad_token_id=tok.pad_token_id,
            eos_token_id=tok.eos_token_id,
            min_new_tokens=1,
        )
        with torch.no_grad():
            if sampling.temperature > 0:
                out = model.generate(**enc, do_sample=True, temperature=sampling.temperature, top_k=0, **common)
                trans = model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
            else:
                out = model.generate(
                    **enc, do_sample=False, num_beams=n, length_penalty=0.0, early_stopping=True, **common
                )
                beams = getattr(out, "beam_indices", None)
                trans = model.compute_transition_scores(out.sequences, out.scores, beams, normalize_logits=False)
        gen = out.sequences[:, -trans.shape[1] :]
        ends = {tok.eos_token_id, tok.pad_token_id}
        choices: list[list[Choice]] = []
        for i in range(len(prompts)):
            row = []
            for j in range(n):
                k = i * n + j
                ids: list[int] = []
                lps: list[float] = []
                reason = "length"
                for t, lp in zip(gen[k].tolist(), trans[k].tolist()):
                    if t in ends:
                        reason = "stop"
                        break
                    ids.append(int(t))
                    lps.append(float(lp) if math.isfinite(lp) else -1e9)
                row.append(self._choice(ids, lps, reason))
            choices.append(row)
        counts = [int(m.sum()) for m in enc["attention_mask"]]
        return Completions(choices, counts)

    def _choice(self, ids: list[int], lps: list[float], reason: str) -> Choice:
        """Text and per-token pieces (prefix decodes, so pieces always add up to the text)."""
        tok = self.tokenizer
        prefixes = [""] + [tok.decode(ids[: k + 1], skip_special_tokens=True) for k in range(len(ids))]
        pieces, offsets = [], []
        for k in range(len(ids)):
            before, after = prefixes[k], prefixes[k + 1]
            offsets.append(len(before))
            pieces.append(after[len(before) :] if after.startswith(before) else tok.decode([ids[k]]))
        return Choice(prefixes[-1], pieces, lps, offsets, reason)


def apply_stop(choice: Choice, stop: Sequence[str]) -> Choice:
    """The choice cut before its first stop string (its tokens and log-probabilities with it)."""
    cut = cut_at_stop(choice.text, stop)
    if cut is None:
        return choice
    keep = sum(1 for off in choice.text_offset if off < cut)
    tokens = choice.tokens[:keep]
    if tokens:  # the last kept token may run into the stop string
        tokens[-1] = tokens[-1][: max(0, cut - choice.text_offset[keep - 1])]
    return Choice(choice.text[:cut], tokens, choice.token_logprobs[:keep], choice.text_offset[:keep], "stop")


@dataclass
class _Job:
    prompts: list[str]
    sampling: Sampling
    future: asyncio.Future


@dataclass
class ServerStats:
    requests: int = 0
    prompts: int = 0
    batches: list[int] = field(default_factory=list)  # prompts per model call
    generate_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "prompts": self.prompts,
            "batches": len(self.batches),
            "batch_sizes": self.batches[-1000:],
            "mean_batch": (sum(self.batches) / len(self.batches)) if self.batches else 0.0,
            "generate_seconds": round(self.generate_seconds, 3),
        }


class Batcher:
    """Gathers concurrent requests for up to `wait_ms` (or `max_batch` prompts) and answers them
    together, one model call per distinct sampling setting."""

    def __init__(self, engine: CompletionEngine, max_batch: int = 16, wait_ms: float = 10.0):
        self.engine, self.max_batch, self.wait = engine, max_batch, wait_ms / 1000.0
        self.queue: asyncio.Queue[_Job] = asyncio.Queue()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="generate")
        self.stats = ServerStats()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def submit(self, prompts: list[str], sampling: Sampling) -> Completions:
        fut = asyncio.get_running_loop().create_future()
        await self.queue.put(_Job(prompts, sampling, fut))
        return await fut

    async def _gather(self) -> list[_Job]:
        jobs = [await self.queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait
        while sum(len(j.prompts) for j in jobs) < self.max_batch:
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                jobs.append(await asyncio.wait_for(self.queue.get(), left))
            except asyncio.TimeoutError:
                break
        return jobs

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = await self._gather()
            groups: dict[Sampling, list[_Job]] = {}
            for job in jobs:
                groups.setdefault(job.sampling, []).append(job)
            for sampling, group in groups.items():
                prompts = [p for j in group for p in j.prompts]
                t0 = time.monotonic()
                try:
                    outs: list[Completions] = []
                    for i in range(0, len(prompts), self.max_batch):
                        chunk = prompts[i : i + self.max_batch]
                        self.stats.batches.append(len(chunk))
                        outs.append(await loop.run_in_executor(self.executor, self.engine.complete, chunk, sampling))
                except Exception as e:  # every waiting request gets the error, none hangs
                    log.exception("generation failed for a batch of %d prompts", len(prompts))
                    for j in group:
                        if not j.future.done():
                            j.future.set_exception(e)
                    continue
                finally:
                    self.stats.generate_seconds += time.monotonic() - t0
                choices = [c for o in outs for c in o.choices]
                counts = [c for o in outs for c in o.prompt_tokens]
                at = 0
                for j in group:
                    k = len(j.prompts)
                    if not j.future.done():
                        j.future.set_result(Completions(choices[at : at + k], counts[at : at + k]))
                    at += k


# ---------------------------------------------------------------------------------------------- HTTP
def _error(status: int, message: str, kind: str = "invalid_request_error", param: str | None = None) -> web.Response:
    return web.json_response({"error": {"message": message, "type": kind, "param": param, "code": None}}, status=status)


def _int(body: dict, name: str, default: int, low: int, high: int) -> int:
    v = body.get(name, default)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
        raise RequestError(f"{name} must be an integer in [{low}, {high}], not {v!r}", name)
    return v


def parse_completion_request(
    body: Any, served: str, default_max_tokens: int
) -> tuple[list[str], Sampling, list[str], bool]:
    """(prompts, sampling, stop strings, logprobs wanted) of a `/v1/completions` body; `RequestError` if bad."""
    if not isinstance(body, dict):
        raise RequestError("the body must be a JSON object")
    model = body.get("model")
    if model is not None and model != served:
        raise RequestError(f"the model `{model}` does not exist; this server serves `{served}`", "model", 404)
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        prompts = [prompt]
    elif isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        prompts = list(prompt)
    else:
        raise RequestError("prompt must be a string or a non-empty list of strings", "prompt")
    if body.get("echo"):
        raise RequestError("echo is not supported", "echo")
    n = _int(body, "n", 1, 1, MAX_N)
    max_tokens = _int(body, "max_tokens", default_max_tokens, 1, 4096)
    temperature = body.get("temperature", 1.0)
    if temperature is None:
        temperature = 1.0
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2:
        raise RequestError(f"temperature must be a number in [0, 2], not {temperature!r}", "temperature")
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else stop if stop is not None else []
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops) or len(stops) > MAX_STOP:
        raise RequestError(f"stop must be a string or a list of at most {MAX_STOP} strings", "stop")
    logprobs = body.get("logprobs")
    if logprobs is not None and (isinstance(logprobs, bool) or not isinstance(logprobs, int) or not 0 <= logprobs <= 5):
        raise RequestError(f"logprobs must be an integer in [0, 5] or null, not {logprobs!r}", "logprobs")
    return prompts, Sampling(n, max_tokens, float(temperature)), [s for s in stops if s], logprobs is not None


def completion_json(served: str, result: Completions, stop: list[str], logprobs: bool) -> dict[str, Any]:
    choices = []
    completion_tokens = 0
    for i, row in enumerate(result.choices):
        for j, raw in enumerate(row):
            c = apply_stop(raw, stop)
            completion_tokens += len(c.tokens)
            lp = None
            if logprobs:
                lp = {
                    "tokens": c.tokens,
                    "token_logprobs": c.token_logprobs,
                    "top_logprobs": None,
                    "text_offset": c.text_offset,
                }
            choices.append(
                {"index": i * len(row) + j, "text": c.text, "logprobs": lp, "finish_reason": c.finish_reason}
            )
    prompt_tokens = sum(result.prompt_tokens)
    return {
        "id": f"cmpl-{uuid.uuid4().hex[:24]}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": served,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def make_app(
    engine: CompletionEngine, served: str, api_key: str | None = None, max_batch: int = 16, wait_ms: float = 10.0
) -> web.Application:
    """The aiohttp application; the batcher starts and stops with it."""
    batcher = Batcher(engine, max_batch, wait_ms)
    created = int(time.time())

    @web.middleware
    async def auth(request: web.Request, handler):
        if api_key is not None and request.path.startswith("/v1/"):
            given = request.headers.get("Authorization", "")
            token = given[7:] if given.startswith("Bearer ") else ""
            if not hmac.compare_digest(token.encode(), api_key.encode()):
                return _error(401, "invalid or missing API key (Authorization: Bearer ...)", "authentication_error")
        return await handler(request)

    async def models(request: web.Request) -> web.Response:
        data = [{"id": served, "object": "model", "created": created, "owned_by": "proofsmith"}]
        return web.json_response({"object": "list", "data": data})

    async def completions(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "the body is not JSON")
        try:
            prompts, sampling, stop, logprobs = parse_completion_request(body, served, engine.default_max_tokens)
        except RequestError as e:
            return _error(e.status, str(e), "invalid_request_error" if e.status == 400 else "not_found_error", e.param)
        batcher.stats.requests += 1
        batcher.stats.prompts += len(prompts)
        try:
            result = await batcher.submit(prompts, sampling)
        except Exception as e:
            return _error(500, f"generation failed: {type(e).__name__}: {e}", "server_error")
        return web.json_response(completion_json(served, result, stop, logprobs))

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "model": served})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(batcher.stats.to_json())

    async def on_startup(app: web.Application) -> None:
        batcher.start()

    async def on_cleanup(app: web.Application) -> None:
        await batcher.stop()

    app = web.Application(middlewares=[auth], client_max_size=8 * 1024**2)
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/completions", completions)
    app.router.add_get("/health", health)
    app.router.add_get("/stats", stats)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app["batcher"] = batcher
    return app


@dataclass(frozen=True)
class ServeConfig:
    model: str
    served_name: str
    adapter: str | None = None
    merge: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    max_batch: int = 16
    batch_wait_ms: float = 10.0
    device: str | None = None
    api_key: str | None = field(default=None, repr=False)  # never printed or logged


async def _serve(cfg: ServeConfig, engine: CompletionEngine, ready: Any = None) -> None:
    import signal

    app = make_app(engine, cfg.served_name, cfg.api_key, cfg.max_batch, cfg.batch_wait_ms)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, cfg.host, cfg.port)
    await site.start()
    port = cfg.port
    for addr in runner.addresses:
        if isinstance(addr, tuple) and len(addr) >= 2:
            port = int(addr[1])
            break
    host = f"[{cfg.host}]" if ":" in cfg.host else cfg.host
    url = f"http://{host}:{port}/v1"
    if ready is not None:
        ready(url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread
            pass
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def serve(cfg: ServeConfig, engine: CompletionEngine | None = None, ready: Any = None) -> None:
    """Load the model (unless given) and serve until SIGINT/SIGTERM; `ready(url)` once listening."""
    if engine is None:
        engine = CompletionEngine.load(cfg.model, cfg.adapter, cfg.merge, cfg.device)
    if cfg.host not in LOOPBACK and cfg.api_key is None:
        log.warning("serving on %s without an API key: anyone who reaches this address can use the model", cfg.host)
    asyncio.run(_serve(cfg, engine, ready))
