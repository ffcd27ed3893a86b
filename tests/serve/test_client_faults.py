"""`openai:MODEL@URL` against a scripted server: candidates from completions, retries with backoff on
429/5xx/timeouts/malformed or truncated bodies, connection refused, refusals that stop at once."""

from __future__ import annotations

import time

import pytest
from serve_helpers import FakeServer, completion, free_port, ok

from proofsmith.prover.generators.factory import GeneratorSpecError, check_spec, make_generator
from proofsmith.prover.generators.openai_client import GeneratorUnavailable, OpenAIGenerator, parse_spec, probe
from proofsmith.prover.generators.prompt import TACTIC_SEP

FAST = "#backoff=0&retries=3&request_timeout=5"


def gen(server: FakeServer, options: str = FAST) -> OpenAIGenerator:
    g = make_generator(f"openai:fake@{server.url}{options}")
    assert isinstance(g, OpenAIGenerator)
    return g


def test_candidates_are_deduped_scored_and_use_the_prompt_module():
    with FakeServer([ok(["lia.", " lia. ", "intros; lia.", "auto."])]) as s:
        cands = gen(s).generate("x : nat\n⊢ x + 0 = x", ["Lemma add_0_r : forall n, n + 0 = n."], 3)
        body = s.bodies[0]
    assert [t for t, _ in cands] == ["lia.", "intros; lia.", "auto."]
    assert [round(v, 3) for _, v in cands] == [-0.1, -0.3, -0.4]  # best score per tactic, best first
    assert body["model"] == "fake" and body["n"] == 5 and body["logprobs"] == 1  # 3 asked, oversampled
    assert body["prompt"] == "Lemma add_0_r : forall n, n + 0 = n.\n\nx : nat\n⊢ x + 0 = x" + TACTIC_SEP


def test_truncated_and_malformed_choices_are_dropped():
    body = completion(["rewrite H1", "lia.", "auto."])
    body["choices"][0]["finish_reason"] = "length"  # cut mid-tactic (`rewrite H1 in H2`?): not a tactic
    body["choices"][2]["logprobs"] = None  # no logprobs: ranked by position
    body["choices"].append({"index": 3, "finish_reason": "stop"})  # no text
    body["choices"].append("garbage")
    with FakeServer([(200, body, {}, 0.0)]) as s:
        cands = gen(s).generate("⊢ True", [], 4)
    assert [t for t, _ in cands] == ["lia.", "auto."]
    assert cands[1][1] == -2.0


def test_null_and_junk_logprobs():
    body = completion(["a.", "b."], logprobs=[[None, -0.5], ["x", -1.0]])  # null first token; junk
    with FakeServer([(200, body, {}, 0.0)]) as s:
        assert gen(s).generate("⊢ True", [], 2) == [("a.", -0.5), ("b.", -1.0)]


def test_429_and_5xx_are_retried_then_succeed():
    answers = [
        (429, {"error": {"message": "slow down"}}, {"Retry-After": "0"}, 0.0),
        (503, {"error": {"message": "loading"}}, {}, 0.0),
        (500, b"Internal Server Error", {}, 0.0),
        ok(["lia."]),
    ]
    with FakeServer(answers) as s:
        g = gen(s)
        assert g.generate("⊢ True", [], 1) == [("lia.", pytest.approx(-0.1))]
        assert g.requests_made == 4 and g.retried == 3 and len(s.bodies) == 4


def test_backoff_waits_between_attempts():
    with FakeServer([(503, {}, {}, 0.0), ok(["lia."])]) as s:
        t0 = time.monotonic()
        gen(s, "#backoff=0.4&retries=2").generate("⊢ True", [], 1)
        assert time.monotonic() - t0 >= 0.3  # 0.4 s +- 25 % jitter


def test_malformed_and_truncated_bodies_are_retried():
    answers = [
        (200, b"{not json", {}, 0.0),
        (200, {"choices": "nope"}, {}, 0.0),
        (200, completion(["lia."]), {"X-Truncate": "1"}, 0.0),  # the body ends before Content-Length
        ok(["auto."]),
    ]
    with FakeServer(answers) as s:
        g = gen(s)
        assert [t for t, _ in g.generate("⊢ True", [], 1)] == ["auto."]
        assert g.requests_made == 4


def test_a_server_that_stays_broken_raises_unavailable():
    with FakeServer([(502, b"bad gateway", {}, 0.0)]) as s:
        g = gen(s, "#backoff=0&retries=2")
        with pytest.raises(GeneratorUnavailable, match="HTTP 502.*after 3 attempts"):
            g.generate("⊢ True", [], 1)
        assert len(s.bodies) == 3


def test_connection_refused_raises_unavailable_after_retries():
    port = free_port()
    g = make_generator(f"openai:fake@http://127.0.0.1:{port}#backoff=0&retries=2")
    t0 = time.monotonic()
    with pytest.raises(GeneratorUnavailable, match="ConnectionError.*after 3 attempts"):
        g.generate("⊢ True", [], 1)
    assert time.monotonic() - t0 < 10
    assert probe(f"fake@http://127.0.0.1:{port}").startswith("the server does not answer")


def test_timeout_raises_unavailable():
    with FakeServer([(200, completion(["lia."]), {}, 3.0)]) as s:
        g = gen(s, "#backoff=0&retries=1&request_timeout=0.5")
        t0 = time.monotonic()
        with pytest.raises(GeneratorUnavailable, match="no answer within 0.5s"):
            g.generate("⊢ True", [], 1)
        assert time.monotonic() - t0 < 3.0


def test_refusals_are_not_retried():
    with FakeServer([(401, {"error": {"message": "bad key"}}, {}, 0.0)]) as s:
        with pytest.raises(GeneratorUnavailable, match="HTTP 401: bad key"):
            gen(s).generate("⊢ True", [], 1)
        assert len(s.bodies) == 1


def test_api_key_from_the_environment_is_sent_and_hidden(monkeypatch):
    monkeypatch.setenv("PROOFSMITH_OPENAI_API_KEY", "k-123")
    seen = []

    def answer(body):
        return (200, completion(["lia."]), {}, 0.0)

    with FakeServer([answer]) as s:
        g = gen(s)
        orig = g.session.request

        def spy(method, url, **kw):
            seen.append(kw["headers"].get("Authorization"))
            return orig(method, url, **kw)

        g.session.request = spy  # type: ignore[method-assign]
        g.generate("⊢ True", [], 1)
    assert seen == ["Bearer k-123"]
    assert "k-123" not in repr(g.config) and "k-123" not in str(g.describe())


def test_probe_names_the_models_served():
    with FakeServer([ok(["lia."])]) as s:
        assert probe(f"fake@{s.url}") is None
        assert "serves fake, not 'other'" in probe(f"other@{s.url}")


def test_spec_checks_and_options():
    cfg = parse_spec("m@http://127.0.0.1:8000#temperature=0&max_tokens=12")
    assert (cfg.url, cfg.temperature, cfg.max_tokens) == ("http://127.0.0.1:8000/v1", 0.0, 12)
    assert parse_spec("org/m@https://host/v1/").url == "https://host/v1"
    assert check_spec("ensemble:auto+openai:m@http://h:1") == "ensemble:auto+openai:m@http://h:1"
    for bad in ("openai:m", "openai:m@ftp://x", "openai:m@http://x#nope=1", "openai:m@http://x#retries=-1"):
        with pytest.raises(GeneratorSpecError):
            check_spec(bad)


def test_whole_proof_requests_use_the_proof_prompts():
    with FakeServer([ok(["intros. lia.\n", "intros. lia."])]) as s:
        g = gen(s)
        proofs = g.generate_proofs("Theorem t : forall n : nat, n + 0 = n.", 2)
        g.repair_proofs("Theorem t : True.", "exact I I.", "exact I I.", "Illegal application (*x*)", "⊢ True", 1)
    assert proofs == [("intros. lia.", pytest.approx(-0.1))]  # the same script once
    first, repair = s.bodies
    assert first["prompt"] == "Theorem t : forall n : nat, n + 0 = n.\nProof.\n" and "Qed." in first["stop"]
    assert "fails at `exact I I.`" in repair["prompt"] and "Illegal application ( *x* )" in repair["prompt"]
    assert repair["prompt"].endswith("A corrected proof: *)\nTheorem t : True.\nProof.\n")
