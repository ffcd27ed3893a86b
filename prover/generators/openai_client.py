"""`openai:MODEL@URL`: a generator whose model lives behind an OpenAI-compatible completion server
(`proofsmith serve`, vLLM, TGI, llama.cpp's server, SGLang).

Stepwise, it sends the prompt `prompt.model_input` builds (the focused state with the retrieved
premises, then `<tac>`) to `URL/v1/completions` with `n` samples and `logprobs`, and turns the
completions into candidates scored by their summed token log-probabilities (rank order when a server
sends none). Whole-proof mode (`prover.whole_proof`) uses `generate_proofs` and `repair_proofs`
with the whole-proof prompts of the same module.

Options after `#` (never sent to the server): `openai:M@URL#temperature=0&max_tokens=48`; see
`ClientConfig`. The API key comes from $PROOFSMITH_OPENAI_API_KEY, else $OPENAI_API_KEY; it is
never logged or written anywhere.

Faults: connection errors, timeouts, HTTP 429 and 5xx, and bodies that are not a completion are
retried with exponential backoff (a 429's Retry-After is honoured); past the retries the call raises
`GeneratorUnavailable`, and so does a request the server refuses (401, 404: a wrong key or model
name), at once. A completion cut at `max_tokens` (`finish_reason: length`) is not a tactic and is
dropped; choices without text are skipped.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from proofsmith.envs.limits import REQUEST_TIMEOUT
from proofsmith.prover.generators.base import Candidate, dedupe_candidates
from proofsmith.prover.generators.prompt import (
    WHOLE_PROOF_STOP,
    byte_length,
    model_input,
    repair_prompt,
    strip_marks,
    whole_proof_prompt,
)

log = logging.getLogger(__name__)

API_KEY_ENVS = ("PROOFSMITH_OPENAI_API_KEY", "OPENAI_API_KEY")


class GeneratorUnavailable(RuntimeError):
    """The generator server cannot be used (down, failing, or refusing the requests): the job stops."""


class SpecError(ValueError):
    """An `openai:` spec that cannot work; one-line message."""


@dataclass(frozen=True)
class ClientConfig:
    """How the client asks; the fields after `url` can be set in the spec after `#`."""

    model: str
    url: str  # the API base, ending in /v1
    temperature: float = 1.0  # 0: the server's greedy/beam choice (our server: the n best beams)
    max_tokens: int = 64  # per tactic
    oversample: float = 1.5  # completions asked per wanted tactic: duplicates are dropped
    stop: tuple[str, ...] = ("\n\n",)  # a tactic ends at a blank line (or the model's end of sequence)
    max_prompt_bytes: int = 2048  # the premises + state budget (ReProver's, in UTF-8 bytes)
    focus_goal: bool = True
    proof_max_tokens: int = 512  # per whole proof
    request_timeout: float = REQUEST_TIMEOUT
    retries: int = 4
    backoff: float = 0.5  # seconds before the first retry, doubled each time (capped at max_backoff)
    max_backoff: float = 8.0
    api_key: str | None = field(default=None, repr=False)


SPEC_OPTIONS = {
    "temperature": float,
    "max_tokens": int,
    "oversample": float,
    "proof_max_tokens": int,
    "max_prompt_bytes": int,
    "request_timeout": float,
    "retries": int,
    "backoff": float,
}


def api_base(url: str) -> str:
    """`http://host:port`, `.../v1` or `.../v1/` → `.../v1`."""
    base = url.rstrip("/")
    return base if base.endswith("/v1") else base + "/v1"


def parse_spec(arg: str) -> ClientConfig:
    """`MODEL@URL[#option=value&...]` → settings; `SpecError` when it cannot work (no network)."""
    model, at, rest = arg.partition("@")
    if not model or not at or not rest:
        raise SpecError(f"openai:{arg}: give MODEL@URL, e.g. openai:my-model@http://127.0.0.1:8000/v1")
    url, _, options = rest.partition("#")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SpecError(f"openai:{arg}: {url!r} is not an http(s):// URL with a host")
    try:
        _ = parts.port
    except ValueError:
        raise SpecError(f"openai:{arg}: bad port in {url!r}") from None
    settings: dict[str, Any] = {}
    for key, value in parse_qsl(options, keep_blank_values=True):
        if key not in SPEC_OPTIONS:
            raise SpecError(f"openai:{arg}: unknown option {key!r}; known: {', '.join(SPEC_OPTIONS)}")
        try:
            settings[key] = SPEC_OPTIONS[key](value)
        except ValueError:
            raise SpecError(f"openai:{arg}: {key}={value!r} is not a number") from None
    cfg = ClientConfig(model=model, url=api_base(url), **settings)
    bad = [
        name
        for name, ok in (
            ("temperature", 0 <= cfg.temperature <= 2),
            ("max_tokens", cfg.max_tokens > 0),
            ("oversample", cfg.oversample >= 1),
            ("proof_max_tokens", cfg.proof_max_tokens > 0),
            ("max_prompt_bytes", cfg.max_prompt_bytes > 0),
            ("request_timeout", cfg.request_timeout > 0),
            ("retries", cfg.retries >= 0),
            ("backoff", cfg.backoff >= 0),
        )
        if not ok
    ]
    if bad:
        raise SpecError(f"openai:{arg}: out of range: {', '.join(bad)}")
    return cfg


def check_spec_arg(arg: str) -> str:
    """The factory's check: the spec parses (no request is made); returned unchanged."""
    parse_spec(arg)
    return arg


def env_api_key() -> str | None:
    import os

    for var in API_KEY_ENVS:
        if os.environ.get(var):
            return os.environ[var]
    return None


def choice_score(choice: dict[str, Any], rank: int) -> float:
    """Summed token log-probabilities; `-rank` (the server's order) when the server sent none, or
    sent something that is not a list of numbers."""
    lp = choice.get("logprobs")
    values = lp.get("token_logprobs") if isinstance(lp, dict) else None
    if isinstance(values, list) and values:
        nums = [v for v in values if v is not None]  # some servers send null for the first token
        if nums and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in nums):
            total = float(sum(nums))
            if math.isfinite(total):
                return total
    return -float(rank)


class OpenAIGenerator:
    """A `TacticGenerator` (and whole-proof generator) over HTTP; one `requests` session per instance."""

    required_imports: tuple[str, ...] = ()

    def __init__(self, config: ClientConfig):
        import requests

        self.config = config
        self.session = requests.Session()
        self.requests_made = 0  # HTTP attempts, retries included (tests, benchmarks)
        self.retried = 0

    # ------------------------------------------------------------------ HTTP
    def _headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json"}
        if self.config.api_key:
            h["Authorization"] = f"Bearer {self.config.api_key}"
        return h

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        cfg = self.config
        delay = min(cfg.max_backoff, cfg.backoff * (2**attempt)) * (0.75 + 0.5 * random.random())
        if retry_after:
            try:
                delay = max(delay, min(float(retry_after), cfg.max_backoff))
            except ValueError:
                pass
        return delay

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, need: str | None = None
    ) -> dict[str, Any]:
        """One API call with retries; the decoded JSON object (holding a list under `need`, when
        given), or `GeneratorUnavailable`."""
        import requests

        cfg = self.config
        url = f"{cfg.url}{path}"
        why = ""
        for attempt in range(cfg.retries + 1):
            retry_after = None
            self.requests_made += 1
            try:
                resp = self.session.request(
                    method, url, json=body, headers=self._headers(), timeout=(cfg.request_timeout, cfg.request_timeout)
                )
            except requests.exceptions.Timeout:
                why = f"no answer within {cfg.request_timeout:g}s"
            except requests.exceptions.RequestException as e:  # refused, reset, DNS, broken chunked body
                why = f"{type(e).__name__}: {_first_line(str(e))}"
            else:
                if resp.status_code == 429 or resp.status_code >= 500:
                    why = f"HTTP {resp.status_code}: {_server_message(resp)}"
                    retry_after = resp.headers.get("Retry-After")
                elif resp.status_code >= 400:  # our request is wrong (key, model name): retrying cannot help
                    raise GeneratorUnavailable(f"{url}: HTTP {resp.status_code}: {_server_message(resp)}")
                else:
                    try:
                        data = resp.json()
                    except ValueError:
                        data = None
                    if isinstance(data, dict) and (need is None or isinstance(data.get(need), list)):
                        return data
                    what = "a JSON object" if need is None else f"a JSON object with a `{need}` list"
                    why = f"the answer is not {what} ({_first_line(resp.text)[:80]!r})"
            if attempt < cfg.retries:
                delay = self._wait(attempt, retry_after)
                self.retried += 1
                log.warning("%s: %s; retry %d/%d in %.1fs", url, why, attempt + 1, cfg.retries, delay)
                time.sleep(delay)
        raise GeneratorUnavailable(f"{url}: {why} (after {cfg.retries + 1} attempts)")

    def complete(self, prompt: str, n: int, max_tokens: int, stop: Sequence[str]) -> list[tuple[str, float, str]]:
        """(text, score, finish_reason) of each completion of `prompt`, in the server's order."""
        body: dict[str, Any] = {
            "model": self.config.model,
            "prompt": prompt,
            "n": n,
            "max_tokens": max_tokens,
            "temperature": self.config.temperature,
            "logprobs": 1,
        }
        if stop:
            body["stop"] = list(stop)
        choices = self.request("POST", "/completions", body, need="choices")["choices"]
        out = []
        for rank, c in enumerate(choices):
            if not isinstance(c, dict) or not isinstance(c.get("text"), str):
                log.warning("skipping a malformed choice: %r", c if not isinstance(c, dict) else sorted(c))
                continue
            out.append((c["text"], choice_score(c, rank), str(c.get("finish_reason") or "")))
        return out

    # ------------------------------------------------------------------ stepwise
    def prompt(self, state: str, premises: Sequence[str]) -> str:
        return model_input(
            state, premises, self.config.max_prompt_bytes, byte_length, seq2seq=False, focus=self.config.focus_goal
        )

    def generate(self, state_pp: str, premises: Sequence[str], num: int) -> list[Candidate]:
        n = max(num, math.ceil(num * self.config.oversample))
        cands = []
        for text, score, finish in self.complete(
            self.prompt(state_pp, premises), n, self.config.max_tokens, self.config.stop
        ):
            if finish == "length":  # cut off mid-tactic: not the tactic the model meant
                continue
            tactic = strip_marks(text).strip()
            if tactic:
                cands.append((tactic, score))
        return dedupe_candidates(cands, num)

    def generate_batch(
        self, states: Sequence[str], premises: Sequence[Sequence[str]], num: int
    ) -> list[list[Candidate]]:
        return [self.generate(s, p, num) for s, p in zip(states, premises)]

    # ------------------------------------------------------------------ whole proofs
    def _proofs(self, prompt: str, num: int) -> list[Candidate]:
        got = self.complete(prompt, num, self.config.proof_max_tokens, WHOLE_PROOF_STOP)
        # a script cut at max_tokens is kept: the checker reports where it stops, and a repair may finish it
        return dedupe_candidates([(text.strip(), score) for text, score, _ in got if text.strip()], num)

    def generate_proofs(self, statement: str, num: int) -> list[Candidate]:
        return self._proofs(whole_proof_prompt(statement), num)

    def repair_proofs(
        self, statement: str, proof: str, sentence: str, message: str, state: str, num: int
    ) -> list[Candidate]:
        return self._proofs(repair_prompt(statement, proof, sentence, message, state), num)

    def models(self) -> list[str]:
        """The model names the server lists (`GET /v1/models`)."""
        data = self.request("GET", "/models")
        items = data.get("data")
        return (
            [m["id"] for m in items if isinstance(m, dict) and isinstance(m.get("id"), str)]
            if isinstance(items, list)
            else []
        )

    def describe(self) -> dict[str, Any]:
        return {k.name: getattr(self.config, k.name) for k in fields(self.config) if k.name != "api_key"}


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0]


def _server_message(resp: Any) -> str:
    try:
        err = resp.json().get("error")
        if isinstance(err, dict) and err.get("message"):
            return _first_line(str(err["message"]))[:200]
        if isinstance(err, str):
            return _first_line(err)[:200]
    except (ValueError, AttributeError):
        pass
    return _first_line(resp.text or resp.reason or "")[:200]


def from_spec(arg: str) -> OpenAIGenerator:
    return OpenAIGenerator(replace(parse_spec(arg), api_key=env_api_key()))


def probe(arg: str, timeout: float = 10.0) -> str | None:
    """Why the server of spec `arg` cannot serve it now (unreachable, model not listed), or None.
    One quick try, no retries: `prove` calls it before any worker starts."""
    cfg = replace(parse_spec(arg), api_key=env_api_key(), retries=0, request_timeout=timeout)
    try:
        names = OpenAIGenerator(cfg).models()
    except GeneratorUnavailable as e:
        return f"the server does not answer: {e}"
    if names and cfg.model not in names:
        return f"the server at {cfg.url} serves {', '.join(names)}, not {cfg.model!r}"
    return None
