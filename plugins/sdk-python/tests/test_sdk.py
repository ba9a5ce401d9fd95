"""The SDK's pure parts, on the build machine (no componentize-py, no host):
header parsing, transform and routing batch walking, the list format."""

import sys
import unittest
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from switchyard_plugin import ALLOW, PASS, Action, Decision, Headers  # noqa: E402
from switchyard_plugin._report import format_uncaught, reported  # noqa: E402
from switchyard_plugin.config import split_list  # noqa: E402
from switchyard_plugin.routing import walk_route_batch  # noqa: E402
from switchyard_plugin.transform import walk_batch  # noqa: E402

BLOCK = b"NATS/1.0\r\nX-Region: eu\r\nTrace:  a1 \r\nX-Region: us\r\n\r\n"


@dataclass
class Span:
    offset: int
    len: int


@dataclass
class Ref:
    subject: Span
    reply: Span | None
    headers: Span | None
    payload: Span


def batch(messages):
    """Lays messages out the way the broker does: one buffer, spans into it."""
    data = bytearray()

    def put(b):
        span = Span(len(data), len(b))
        data.extend(b)
        return span

    refs = [
        Ref(put(s.encode()), None if r is None else put(r.encode()), None if h is None else put(h), put(p))
        for s, r, h, p in messages
    ]
    return bytes(data), refs


class HeadersTest(unittest.TestCase):
    def test_in_order_with_repeats(self):
        h = Headers(BLOCK)
        self.assertEqual(list(h), [("X-Region", "eu"), ("Trace", "a1"), ("X-Region", "us")])
        self.assertEqual(h.get("X-Region"), "eu")
        self.assertEqual(h.get_all("X-Region"), ["eu", "us"])
        self.assertIsNone(h.get("x-region"))
        self.assertEqual(h.get_ignore_case("x-region"), "eu")

    def test_status(self):
        self.assertEqual(Headers(b"NATS/1.0 503\r\n\r\n").status(), 503)
        self.assertEqual(Headers(b"NATS/1.0 408 Request Timeout\r\n\r\n").status(), 408)
        self.assertIsNone(Headers(BLOCK).status())

    def test_malformed_lines_are_skipped(self):
        h = Headers(b"NATS/1.0\r\nno colon\r\n: empty\r\nA:\xff\r\nB: ok\r\n\r\nC: after\r\n")
        self.assertEqual(list(h), [("B", "ok")])
        self.assertFalse(Headers(b""))
        self.assertFalse(Headers(b"garbage"))


class BatchTest(unittest.TestCase):
    def test_only_non_pass_verdicts(self):
        data, refs = batch(
            [("a.1", None, None, b"keep"), ("a.2", "_INBOX.x", b"NATS/1.0\r\nK: v\r\n\r\n", b"drop"), ("a.3", None, None, b"edit")]
        )
        seen = []

        def decide(m):
            seen.append((m.index, m.subject, m.reply))
            if m.payload == b"drop":
                self.assertEqual(m.headers.get("K"), "v")
                return Action.drop()
            return Action.with_payload(b"EDIT") if m.payload == b"edit" else PASS

        verdicts = walk_batch(data, refs, decide)
        self.assertEqual(seen[1], (1, "a.2", "_INBOX.x"))
        self.assertEqual([(i, a.kind) for i, a in verdicts], [(1, "drop"), (2, "modify")])

    def test_spans_outside_the_buffer_read_as_empty(self):
        data, refs = batch([("ok", None, None, b"p")])
        refs[0].payload = Span(2**32 - 1, 2**32 - 1)
        refs[0].subject = Span(1, 9)
        walk_batch(data, refs, lambda m: self.assertEqual((m.payload, m.subject), (b"", "")))


@dataclass
class RouteRef:
    subject: Span
    reply: Span | None
    headers: Span | None
    payload_size: int


@dataclass
class Publisher:
    user: str
    client_id: int
    client_name: str | None


def route_batch(messages):
    """A routing batch as the broker lays it out: metadata only."""
    data, refs = batch([(s, r, h, b"") for s, r, h, _ in messages])
    return data, [RouteRef(ref.subject, ref.reply, ref.headers, size) for ref, (_, _, _, size) in zip(refs, messages)]


class RouteBatchTest(unittest.TestCase):
    def test_one_decision_per_message_in_order(self):
        data, refs = route_batch(
            [("orders.1", None, None, 3), ("orders.2", "_INBOX.x", b"NATS/1.0\r\nRegion: eu\r\n\r\n", 0), ("orders.3", None, None, 5)]
        )
        fetched, seen = [], []

        def fetch(index):
            fetched.append(index)
            return f"payload {index}".encode()

        def decide(req):
            seen.append((req.index, req.subject, req.reply, req.publisher.user))
            if req.headers.get("Region"):
                return Decision.reroute("eu." + req.subject)
            if req.index == 2:
                self.assertEqual(req.payload, b"payload 2")
                self.assertEqual(req.payload, b"payload 2")  # cached: fetched once
                return Decision.deny("no")
            return ALLOW

        verdicts = walk_route_batch(data, refs, Publisher("alice", 7, None), fetch, decide)
        self.assertEqual(
            seen, [(0, "orders.1", None, "alice"), (1, "orders.2", "_INBOX.x", "alice"), (2, "orders.3", None, "alice")]
        )
        self.assertEqual(fetched, [2])
        self.assertEqual([(i, d.kind, d.value) for i, d in verdicts], [(1, "reroute", "eu.orders.2"), (2, "deny", "no")])
        self.assertEqual(walk_route_batch(data, refs, None, fetch, lambda r: None), [])

    def test_spans_outside_the_buffer_read_as_empty(self):
        data, refs = route_batch([("ok", None, None, 0)])
        refs[0].subject = Span(1, 9)
        walk_route_batch(data, refs, None, lambda i: b"", lambda r: self.assertEqual(r.subject, ""))


class ConfigTest(unittest.TestCase):
    def test_lists_trim_and_skip_empty_items(self):
        self.assertEqual(split_list(" a.> , b ,,c"), ["a.>", "b", "c"])
        self.assertEqual(split_list(" , "), [])


class ReportTest(unittest.TestCase):
    def test_an_escaping_exception_is_written_with_its_frames_then_raised(self):
        def inner():
            raise ValueError("boom")

        written = []
        real = sys.stderr
        sys.stderr = type("W", (), {"write": lambda self, s: written.append(s), "flush": lambda self: None})()
        try:
            with self.assertRaises(ValueError):
                reported(inner)
        finally:
            sys.stderr = real
        text = "".join(written)
        self.assertTrue(text.startswith("Traceback (most recent call last):\n"), text)
        self.assertIn(", in inner\n", text)
        self.assertTrue(text.endswith("ValueError: boom\n"), text)

    def test_a_returning_call_writes_nothing(self):
        self.assertEqual(reported(lambda a: a + 1, 1), 2)
        self.assertEqual(format_uncaught(KeyError("k")).splitlines()[-1], "KeyError: 'k'")


if __name__ == "__main__":
    unittest.main()
