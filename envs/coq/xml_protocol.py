"""CoqIDE XML protocol (coqidetop 8.16, protocol 20220205): call encoding, incremental reader,
and typed decoding of the replies we use. See docs/specs/coqidetop-protocol.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from lxml import etree

from proofsmith.envs.base import EnvCrashError

NBSP = b"&nbsp;"


# --------------------------------------------------------------------------- encoding
def string(s: str) -> str:
    return f"<string>{escape(s)}</string>"


def state_id(n: int) -> str:
    return f'<state_id val="{int(n)}"/>'


def pair(a: str, b: str) -> str:
    return f"<pair>{a}{b}</pair>"


def call(name: str, arg: str) -> bytes:
    return f'<call val="{name}">{arg}</call>'.encode()


def call_init() -> bytes:
    return call("Init", '<option val="none"/>')


def call_about() -> bytes:
    return call("About", "<unit/>")


def call_add(sentence: str, parent: int) -> bytes:
    # ((((sentence, edit_id), (parent, verbose)), bp), (line_nb, bol_pos)); bp=0 keeps locs relative.
    inner = pair(pair(string(sentence), "<int>-1</int>"), pair(state_id(parent), '<bool val="true"/>'))
    return call("Add", pair(pair(inner, "<int>0</int>"), pair("<int>0</int>", "<int>0</int>")))


def call_goal() -> bytes:
    return call("Goal", "<unit/>")


def call_status(force: bool = True) -> bytes:
    return call("Status", f'<bool val="{"true" if force else "false"}"/>')


def call_edit_at(sid: int) -> bytes:
    return call("Edit_at", state_id(sid))


def call_query(text: str, sid: int, route: int = 0) -> bytes:
    return call("Query", pair(f'<route_id val="{route}"/>', pair(string(text), state_id(sid))))


def call_quit() -> bytes:
    return call("Quit", "<unit/>")


# --------------------------------------------------------------------------- reading
class XmlStreamReader:
    """Cuts coqidetop's unframed output into top-level elements (`value` / `feedback`).

    Bytes go to a pull parser under a synthetic root; an element is complete when its end tag
    brings the depth back to 1. `&nbsp;` (not an XML entity) is replaced by a space first,
    holding back a possible partial `&nbsp;` at the end of a chunk.
    """

    def __init__(self) -> None:
        self._parser = etree.XMLPullParser(events=("start", "end"), huge_tree=True, recover=False)
        self._parser.feed(b"<coq>")
        self._depth = 0
        self._pending = b""
        self._root: etree._Element | None = None

    def feed(self, data: bytes) -> list[etree._Element]:
        data = (self._pending + data).replace(NBSP, b" ")
        cut = data.rfind(b"&")
        if cut != -1 and len(data) - cut < len(NBSP) and NBSP.startswith(data[cut:]):
            data, self._pending = data[:cut], data[cut:]
        else:
            self._pending = b""
        try:
            self._parser.feed(data)
            out: list[etree._Element] = []
            for event, elem in self._parser.read_events():
                assert isinstance(elem, etree._Element)  # start/end events carry elements
                if event == "start":
                    self._depth += 1
                    if self._depth == 1:
                        self._root = elem
                    continue
                self._depth -= 1
                if self._depth == 1:
                    out.append(elem)
                    if self._root is not None:
                        self._root.remove(elem)  # keep memory flat over long sessions
            return out
        except etree.XMLSyntaxError as e:
            raise EnvCrashError(f"coqidetop sent malformed XML: {e}") from e


# --------------------------------------------------------------------------- decoding
def _attr(elem: etree._Element, name: str) -> str:
    """An attribute the protocol always sends; its absence means a reply we cannot read."""
    value = elem.get(name)
    if value is None:
        raise EnvCrashError(f"coqidetop sent <{elem.tag}> without its '{name}' attribute")
    return value


def _child(elem: etree._Element, path: str) -> etree._Element:
    found = elem.find(path)
    if found is None:
        raise EnvCrashError(f"coqidetop sent <{elem.tag}> without <{path}>")
    return found


def richpp_text(elem: etree._Element | None) -> str:
    """Plain text of a `<richpp>` (or any) element: all character data in document order."""
    if elem is None:
        return ""
    return "".join(str(t) for t in elem.itertext())


@dataclass(frozen=True)
class CoqGoal:
    goal_id: str
    hypotheses: tuple[str, ...]
    conclusion: str
    name: str | None = None


@dataclass(frozen=True)
class CoqGoals:
    """The four lists of a `Goal` reply. `background` flattens the focus zipper, innermost first."""

    foreground: tuple[CoqGoal, ...]
    background: tuple[CoqGoal, ...]
    shelved: tuple[CoqGoal, ...]
    given_up: tuple[CoqGoal, ...]

    @property
    def complete(self) -> bool:
        return not (self.foreground or self.background or self.shelved or self.given_up)


@dataclass(frozen=True)
class Message:
    level: str
    text: str
    state_id: int
    loc: tuple[int, int] | None = None
    route: int = 0


@dataclass
class Reply:
    """One `<value>` plus the feedback that preceded it."""

    good: bool
    value: etree._Element | None  # the value element itself
    fail_state: int | None = None  # last good state on failure
    fail_text: str = ""
    fail_loc: tuple[int, int] | None = None
    messages: list[Message] = field(default_factory=list)
    axioms_added: bool = False

    def error_messages(self) -> list[Message]:
        return [m for m in self.messages if m.level == "error"]


def _goal(g: etree._Element) -> CoqGoal:
    kids = list(g)
    gid = kids[0].text or ""
    hyps = tuple(richpp_text(h).strip() for h in kids[1])
    concl = richpp_text(kids[2]).strip()
    name = None
    if len(kids) > 3 and kids[3].get("val") == "some":
        name = kids[3][0].text
    return CoqGoal(gid, hyps, concl, name)


def _goal_list(lst: etree._Element) -> tuple[CoqGoal, ...]:
    return tuple(_goal(g) for g in lst if g.tag == "goal")


def _value(value: etree._Element | None) -> etree._Element:
    """The `<value>` of a good reply (a good reply always carries one)."""
    if value is None:
        raise EnvCrashError("coqidetop sent a good reply without a value")
    return value


def decode_goals(value: etree._Element | None) -> CoqGoals | None:
    """`<value val="good"><option …>` of a Goal call → CoqGoals, or None when no proof is open."""
    value = _value(value)
    opt = value[0]
    if opt.get("val") == "none":
        return None
    goals = opt[0]
    fg, bg, shelved, given_up = list(goals)
    background: list[CoqGoal] = []
    for zipper_level in bg:  # <pair><list>before</list><list>after</list></pair>
        before, after = list(zipper_level)
        background.extend(_goal_list(before))
        background.extend(_goal_list(after))
    return CoqGoals(_goal_list(fg), tuple(background), _goal_list(shelved), _goal_list(given_up))


def decode_add(value: etree._Element | None) -> int:
    """New state id from a good Add reply."""
    return int(_attr(_value(value)[0][0], "val"))


def decode_state_id(value: etree._Element | None) -> int:
    value = _value(value)
    return int(_attr(value[0], "val"))


def decode_about(value: etree._Element | None) -> tuple[str, ...]:
    value = _value(value)
    return tuple(s.text or "" for s in value[0])


def decode_status(value: etree._Element | None) -> dict:
    value = _value(value)
    st = value[0]
    path, proof_name, all_proofs, proof_num = list(st)
    return {
        "path": [s.text for s in path],
        "proof_name": proof_name[0].text if proof_name.get("val") == "some" else None,
        "all_proofs": [s.text for s in all_proofs],
    }


def decode_feedback(fb: etree._Element) -> tuple[Message | None, bool]:
    """(message if this feedback carries one, whether it reports an added axiom)."""
    sid_el = fb.find("state_id")
    sid = int(_attr(sid_el, "val")) if sid_el is not None else 0
    content = fb.find("feedback_content")
    if content is None:
        return None, False
    kind = content.get("val")
    if kind == "addedaxiom":
        return None, True
    if kind != "message":
        return None, False
    msg = _child(content, "message")
    level = _attr(_child(msg, "message_level"), "val")
    loc = None
    loc_el = msg.find("option/loc")
    if loc_el is not None:
        loc = (int(_attr(loc_el, "start")), int(_attr(loc_el, "stop")))
    text = richpp_text(msg.find("richpp"))
    return Message(level, text, sid, loc, int(fb.get("route", "0"))), False


def decode_fail(value: etree._Element) -> tuple[int, str, tuple[int, int] | None]:
    sid = int(_attr(_child(value, "state_id"), "val"))
    text = richpp_text(value.find("richpp")).strip()
    loc = None
    if value.get("loc_s") is not None:
        loc = (int(_attr(value, "loc_s")), int(_attr(value, "loc_e")))
    return sid, text, loc
