"""The Isabelle client against the recorded server transcripts (replayed byte for byte by the fake server)."""

from __future__ import annotations

import time

import pytest
from isabelle_fakes import FIXTURES, read_log

from proofsmith.envs.base import EnvCrashError, EnvStartError
from proofsmith.envs.isabelle.client import IsabelleClient, IsabelleCommandError
from proofsmith.envs.isabelle.framing import ByteMessageReader, encode_message
from proofsmith.envs.isabelle.messages import IsabelleProtocolError, ServerAddress, parse_reply, parse_use_theories
from proofsmith.envs.isabelle.symbols import symbol_range_to_chars
from proofsmith.envs.isabelle.theory import parse_goals

ALL_FILES = [
    "cancel",
    "help",
    "purge_theories",
    "session_build",
    "session_start",
    "session_stop",
    "shutdown",
    "unknown",
    "use_theories",
    "use_theories.Fail",
    "use_theories.Sledgehammer",
]


def _messages(data: bytes) -> list[str]:
    chunks = [data[i : i + 7] for i in range(0, len(data), 7)]  # small reads: framing must buffer

    def recv(deadline):
        return chunks.pop(0) if chunks else b""

    reader, out = ByteMessageReader(recv), []
    while (m := reader.read_message(None)) is not None:
        out.append(m)
    return out


@pytest.mark.parametrize("name", ALL_FILES)
def test_isabelle_framing_parses_every_recorded_file(responses_dir, name):
    msgs = _messages((responses_dir / name).read_bytes())
    replies = [parse_reply(m) for m in msgs]
    assert replies, name
    assert all(r.name in {"OK", "ERROR", "NOTE", "FINISHED", "FAILED"} for r in replies)
    if name.startswith(("session_", "use_theories")):
        assert replies[0].name == "OK" and "task" in replies[0].argument
        assert replies[-1].name == "FINISHED" and replies[-1].argument["task"] == replies[0].argument["task"]


def test_isabelle_framing_long_message_length_counts_trailing_lf():
    text = "use_theories " + '{"x":"' + "a" * 200 + '"}'
    data = encode_message(text)
    header, body = data.split(b"\n", 1)
    assert int(header) == len(body) == len(text) + 1
    assert _messages(data) == [text]
    assert encode_message("help") == b"help\n"


def test_isabelle_framing_accepts_missing_final_lf_but_not_a_cut_message(responses_dir):
    data = (responses_dir / "use_theories.Sledgehammer").read_bytes()
    assert not data.endswith(b"\n")
    last = parse_use_theories(parse_reply(_messages(data)[-1]).argument)
    assert last.ok and "Try this: by simp" in " ".join(m.message for m in last.nodes[0].messages)
    with pytest.raises(EnvCrashError):
        _messages(b"50\nOK {}")


def test_isabelle_garbage_reply_is_a_protocol_error():
    with pytest.raises(IsabelleProtocolError):
        parse_reply("%%% garbage")
    with pytest.raises(IsabelleProtocolError):
        parse_reply('OK {"task": ')


def test_isabelle_server_address_line():
    a = ServerAddress.parse('server "proofsmith" = 127.0.0.1:4711 (password "abc-123")')
    assert (a.name, a.host, a.port, a.password) == ("proofsmith", "127.0.0.1", 4711, "abc-123")
    with pytest.raises(ValueError):
        ServerAddress.parse("Isabelle2025-2 starting ...")


def test_isabelle_position_offsets_are_symbols_pointing_at_by():
    text = (FIXTURES / "example-theory" / "Example.thy").read_text()
    a, b = symbol_range_to_chars(text, 59, 61)  # pos of the recorded use_theories reply
    assert text[a:b] == "by"
    assert a != 58  # character offsets differ from symbol offsets: \<forall> and \<exists>


def _client(fake_server, use_theories=None) -> IsabelleClient:
    proc = fake_server(use_theories)
    assert proc.address.host == "127.0.0.1"
    return IsabelleClient(proc.address, connect_timeout=10)


def test_isabelle_help_lists_the_nine_commands(fake_server):
    client = _client(fake_server)
    assert client.help() == [
        "cancel",
        "echo",
        "help",
        "purge_theories",
        "session_build",
        "session_start",
        "session_stop",
        "shutdown",
        "use_theories",
    ]
    assert client.hello.isabelle_name == "Isabelle2025-2"


def test_isabelle_unknown_command_is_a_command_error(fake_server):
    client = _client(fake_server)
    with pytest.raises(IsabelleCommandError, match="Bad command 'unknown'"):
        client._sync("unknown")
    assert client.help()  # the client still works


def test_isabelle_session_build_reports_each_session(fake_server):
    notes = []
    result = _client(fake_server).session_build("examples", dirs=["/x"], timeout=10, on_note=notes.append)
    assert result.ok and result.return_code == 0
    assert [s.session for s in result.sessions] == ["Pure", "HOL", "examples"]
    assert result.sessions[2].timing.elapsed == pytest.approx(3.748)
    kinds = {n.kind for n in notes}
    assert kinds == {"writeln", "nodes_status"}
    statuses = [n for n in notes if n.kind == "nodes_status" and n.nodes_status]
    assert statuses[0].nodes_status[0][0].theory_name == "examples.Example"


def test_isabelle_session_start_and_stop(fake_server, tmp_path):
    client = _client(fake_server)
    started = client.session_start("HOL", timeout=10)
    assert started.session_id == "167dd6d8-1eeb-4315-8022-c8c527d9bd87"
    assert started.tmp_dir.startswith("/tmp/isabelle-")
    stopped = client.session_stop(started.session_id)
    assert stopped.ok and stopped.return_code == 0
    log = read_log(tmp_path)
    assert [e["command"] for e in log] == ["session_start", "session_stop"]
    assert log[1]["argument"] == {"session_id": started.session_id}


def test_isabelle_use_theories_ok_message_at_by(fake_server, tmp_path):
    client = _client(fake_server, "use_theories")
    theory_dir = str(FIXTURES / "example-theory")
    result = client.use_theories("sid", ["Example"], master_dir=theory_dir, watchdog_timeout=30, timeout=10)
    assert result.ok and result.errors == ()
    node = result.node("Example")
    assert node is not None and node.status.finished == 7 and node.status.consolidated
    msg = node.messages[0]
    assert msg.kind == "writeln" and msg.message == "theorem \\<forall>x. \\<exists>y. x = y"
    text = (FIXTURES / "example-theory" / "Example.thy").read_text()
    a, b = symbol_range_to_chars(text, msg.pos.offset, msg.pos.end_offset)
    assert (msg.pos.line, text[a:b]) == (5, "by")
    sent = read_log(tmp_path)[0]["argument"]
    assert sent == {"session_id": "sid", "theories": ["Example"], "master_dir": theory_dir, "watchdog_timeout": 30}


def test_isabelle_use_theories_fail_carries_the_open_goal(fake_server):
    result = _client(fake_server, "use_theories.Fail").use_theories("sid", ["Example"], timeout=10)
    assert not result.ok and len(result.errors) == 1
    err = result.errors[0]
    assert err.message.startswith("Failed to finish proof") and err.pos.line == 5
    goals = parse_goals(err.message)
    assert [g.conclusion for g in goals] == ["\\<And>x y. x = y"]
    assert result.node("Example").status.failed == 1


def test_isabelle_use_theories_sledgehammer_then_reconnects(fake_server):
    client = _client(fake_server, "use_theories.Sledgehammer")
    result = client.use_theories("sid", ["Problem"], timeout=10)
    texts = [m.message for m in result.node("Problem").messages]
    assert texts[0] == "Sledgehammering..." and texts[-1] == "Done"
    assert sum("Try this:" in t for t in texts) == 6
    assert client.help()  # the server closed that connection; the next command opens a new one


def test_isabelle_purge_cancel_shutdown(fake_server):
    proc = fake_server()
    client = IsabelleClient(proc.address)
    purged = client.purge_theories("sid", ["Mock"], master_dir="/tmp")
    assert [(n.node_name, n.theory_name) for n in purged.purged] == [("/tmp/Mock.thy", "Draft.Mock")]
    assert purged.retained == ()
    assert client.cancel("some-task") is None
    client.shutdown()
    deadline = time.monotonic() + 5
    while proc.alive and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not proc.alive


def test_isabelle_wrong_password_is_refused(fake_server):
    proc = fake_server()
    bad = ServerAddress(proc.address.name, proc.address.host, proc.address.port, "wrong")
    with pytest.raises(EnvStartError, match="refused the password"):
        IsabelleClient(bad, connect_timeout=5).help()
    assert IsabelleClient(proc.address).help()
