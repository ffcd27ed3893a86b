"""`proofsmith serve`: the OpenAI-compatible endpoints over real HTTP, dynamic batching, the API key."""

from __future__ import annotations

import math
import threading

import pytest
import requests
from serve_helpers import ServeProcess, quiet_env

PROMPT = "z : nat\n⊢ z + 3 = 3 + z<tac>"


@pytest.fixture(scope="module")
def server(lia_model):
    s = ServeProcess(lia_model, "--served-model-name", "lia", "--batch-wait-ms", "200", "--max-batch", "8")
    yield s
    assert s.stop() == 0  # SIGTERM: a clean stop


def post(server, **body):
    return requests.post(f"{server.url}/completions", json={"model": "lia", **body}, timeout=60)


def test_models_and_health(server):
    assert "serving lia at http://127.0.0.1:" in server.banner and "no API key" in server.banner
    data = requests.get(f"{server.url}/models", timeout=10).json()
    assert data["object"] == "list" and [m["id"] for m in data["data"]] == ["lia"]
    assert requests.get(server.url.removesuffix("/v1") + "/health", timeout=10).json()["status"] == "ok"


def test_completions_beams_with_logprobs(server):
    r = post(server, prompt=PROMPT, n=4, logprobs=1, max_tokens=8, temperature=0)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "text_completion" and body["model"] == "lia"
    choices = body["choices"]
    assert [c["index"] for c in choices] == [0, 1, 2, 3]
    assert choices[0]["text"] == "lia."  # what the tiny model was trained to say
    sums = []
    for c in choices:
        lp = c["logprobs"]
        assert "".join(lp["tokens"]) == c["text"]
        assert len(lp["token_logprobs"]) == len(lp["tokens"]) == len(lp["text_offset"]) >= 1
        assert all(isinstance(v, float) and v <= 0 for v in lp["token_logprobs"])
        assert c["finish_reason"] in ("stop", "length")
        sums.append(sum(lp["token_logprobs"]))
    assert sums[0] == max(sums) and math.isfinite(sums[0])  # beams come best first
    usage = body["usage"]
    assert usage["prompt_tokens"] > 0
    assert usage["completion_tokens"] == sum(len(c["logprobs"]["tokens"]) for c in choices)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_max_tokens_stop_and_prompt_lists(server):
    c = post(server, prompt=PROMPT, n=1, max_tokens=1, temperature=0, logprobs=0).json()["choices"][0]
    assert c["finish_reason"] == "length" and len(c["logprobs"]["tokens"]) == 1
    c = post(server, prompt=PROMPT, n=1, max_tokens=8, temperature=0, stop=["."]).json()["choices"][0]
    assert c["text"] == "lia" and c["finish_reason"] == "stop" and c["logprobs"] is None
    body = post(server, prompt=[PROMPT, "⊢ forall q : nat, q * 2 = q + q<tac>"], n=2, max_tokens=8, temperature=0.7)
    choices = body.json()["choices"]
    assert [c["index"] for c in choices] == [0, 1, 2, 3] and all(isinstance(c["text"], str) for c in choices)


@pytest.mark.parametrize(
    "body, status, param",
    [
        ({"prompt": PROMPT, "n": 0}, 400, "n"),
        ({"prompt": PROMPT, "temperature": "hot"}, 400, "temperature"),
        ({"prompt": PROMPT, "stop": ["a", "b", "c", "d", "e"]}, 400, "stop"),
        ({"prompt": 42}, 400, "prompt"),
        ({"prompt": PROMPT, "echo": True}, 400, "echo"),
        ({"prompt": PROMPT, "model": "gpt-9"}, 404, "model"),
    ],
)
def test_bad_requests_get_openai_errors(server, body, status, param):
    r = requests.post(f"{server.url}/completions", json=body, timeout=30)
    assert r.status_code == status
    assert r.json()["error"]["param"] == param and r.json()["error"]["message"]


def test_not_json_is_a_400(server):
    r = requests.post(f"{server.url}/completions", data=b"{nope", timeout=30)
    assert r.status_code == 400 and "JSON" in r.json()["error"]["message"]


def test_concurrent_requests_are_batched(server):
    before = requests.get(server.url.removesuffix("/v1") + "/stats", timeout=10).json()
    results: list[int] = []

    def one(i: int) -> None:
        r = post(server, prompt=f"z{i} : nat\n⊢ z{i} + 1 = 1 + z{i}<tac>", n=2, max_tokens=6, temperature=0)
        results.append(r.status_code)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == [200] * 6
    after = requests.get(server.url.removesuffix("/v1") + "/stats", timeout=10).json()
    assert after["requests"] - before["requests"] == 6
    new = after["batch_sizes"][len(before["batch_sizes"]) :]
    assert sum(new) == 6 and max(new) > 1, new  # at least two requests shared one model call


def test_api_key_required_and_never_printed(lia_model):
    secret = "s3cret-key-for-test"
    s = ServeProcess(lia_model, "--api-key-env", "MY_KEY", env=quiet_env(MY_KEY=secret))
    try:
        assert "API key required" in s.banner
        assert requests.get(f"{s.url}/models", timeout=10).status_code == 401
        bad = requests.get(f"{s.url}/models", headers={"Authorization": "Bearer wrong"}, timeout=10)
        assert bad.status_code == 401 and bad.json()["error"]["type"] == "authentication_error"
        good = requests.post(
            f"{s.url}/completions",
            json={"prompt": PROMPT, "max_tokens": 4},
            headers={"Authorization": f"Bearer {secret}"},
            timeout=30,
        )
        assert good.status_code == 200 and good.json()["choices"]
    finally:
        s.stop()
    assert secret not in s.banner and secret not in s.stderr()


def test_a_port_in_use_is_bad_input_before_the_model_loads(lia_model, capsys):
    import socket

    from proofsmith.cli.main import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", "--model", str(lia_model), "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("proofsmith: error: --host 127.0.0.1 --port") and "cannot listen" in err
    assert len(err.splitlines()) == 1
