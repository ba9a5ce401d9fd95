#!/usr/bin/env python3
"""Traffic, sampling and verdict of the Switchyard soak (run by benches/soak.sh).

benches/soak.sh builds the broker and the plugins, writes the configuration,
starts `switchyard serve` and then runs this script against it; read the
header of soak.sh for what the soak does and its pass/fail rules. This script
needs nats-py (the project's .venv) and takes everything from the
environment:

  SOAK_SECS         traffic time in seconds (default 600)
  SOAK_HOST         broker address (default 127.0.0.1)
  SOAK_PORT         client port (required)
  SOAK_HTTP_PORT    monitoring port (required)
  SOAK_PID          the broker's pid (required: sampled and sent SIGHUP)
  SOAK_TENANTS      the broker's tenant directory (required: alpha.toml is
                    rewritten before each SIGHUP)
  SOAK_OUT          directory for samples.csv (default: none written)
  SOAK_RATE         messages/s of each publisher (default 150)
  SOAK_REQ_RATE     requests/s across the service import (default 40)
  SOAK_BUSY_RATE    16 KiB messages/s on beta's busy.feed (default 60)
  SOAK_SAMPLE_SECS  RSS/fd sampling period (default 5)
  SOAK_HUP_SECS     SIGHUP period (default 5)
  SOAK_STORM_SECS   reconnect storm period (default 10)
  SOAK_STORM_SIZE   clients per storm (default 20)
  SOAK_SLOW_SECS    period of new raw slow consumers (default 15)
  SOAK_SLOW_LIMIT   seconds a slow consumer may live before it counts as
                    not cut off (default 60)
  SOAK_WARMUP_SECS  samples before this are left out of the growth check
                    (default SOAK_SECS/6, at most 60)
  SOAK_RSS_TOL_PCT  allowed RSS growth, percent of the first quarter's
                    median (default 25) ...
  SOAK_RSS_TOL_MIB  ... but never less than this many MiB (default 16)
  SOAK_FD_TOL       allowed growth of open fds (default 8)
  SOAK_DRAIN_SECS   wait for in-flight messages after the traffic stops
                    (default 15)
  SOAK_P99_MAX_MS   fail if the request p99 exceeds this (default: report only)

Exit status: 0 pass, 1 a check failed, 2 the soak itself could not run.
"""

import asyncio
import csv
import json
import os
import re
import signal
import socket
import statistics
import struct
import sys
import time
import urllib.request

import nats
from nats.errors import NoRespondersError, TimeoutError as NatsTimeout


def env_int(name, default):
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_float(name, default):
    value = os.environ.get(name)
    return default if value in (None, "") else float(value)


SECS = env_int("SOAK_SECS", 600)
HOST = os.environ.get("SOAK_HOST", "127.0.0.1")
PORT = env_int("SOAK_PORT", 0)
HTTP_PORT = env_int("SOAK_HTTP_PORT", 0)
PID = env_int("SOAK_PID", 0)
TENANTS = os.environ.get("SOAK_TENANTS", "")
OUT = os.environ.get("SOAK_OUT", "")
RATE = env_float("SOAK_RATE", 150)
REQ_RATE = env_float("SOAK_REQ_RATE", 40)
BUSY_RATE = env_float("SOAK_BUSY_RATE", 60)
SAMPLE_SECS = env_float("SOAK_SAMPLE_SECS", 5)
HUP_SECS = env_float("SOAK_HUP_SECS", 5)
STORM_SECS = env_float("SOAK_STORM_SECS", 10)
STORM_SIZE = env_int("SOAK_STORM_SIZE", 20)
SLOW_SECS = env_float("SOAK_SLOW_SECS", 15)
SLOW_LIMIT = env_float("SOAK_SLOW_LIMIT", 60)
WARMUP_SECS = env_float("SOAK_WARMUP_SECS", min(60.0, SECS / 6))
RSS_TOL_PCT = env_float("SOAK_RSS_TOL_PCT", 25)
RSS_TOL_MIB = env_float("SOAK_RSS_TOL_MIB", 16)
FD_TOL = env_int("SOAK_FD_TOL", 8)
DRAIN_SECS = env_float("SOAK_DRAIN_SECS", 15)
P99_MAX_MS = os.environ.get("SOAK_P99_MAX_MS", "")

URL = f"nats://{HOST}:{PORT}"
PASSWORDS = {t: f"{t}-soak-pass" for t in ("alpha", "beta", "gamma", "svc")}
TRAFFIC_TENANTS = ("alpha", "beta", "gamma")
BUSY_PAYLOAD = 16 * 1024
# Failures found along the way; the verdict lists them all.
FAILURES = []
REPORTING = False
T0 = time.monotonic()


def now():
    return time.monotonic() - T0


def log(text):
    print(f"[{now():7.1f}s] {text}", flush=True)


def fail(text):
    """Records a failed check; logged at once while the traffic runs, listed
    in the verdict either way."""
    FAILURES.append(text)
    if not REPORTING:
        log(f"FAIL: {text}")


# --- sequence checks -------------------------------------------------------


class Stream:
    """One publisher's numbered messages: payload `<seq>|<padding>`."""

    def __init__(self, name):
        self.name = name
        self.sent = 0

    def next_payload(self, size=32):
        self.sent += 1
        head = b"%d|" % self.sent
        return head + b"." * max(0, size - len(head))


class Sink:
    """What one consumer (or one queue group, all members together) saw of a
    stream: every sequence number exactly once is the pass."""

    def __init__(self, label, stream, queue_group=False):
        self.label = label
        self.stream = stream
        self.queue_group = queue_group
        self.seen = set()
        self.received = 0
        self.duplicates = 0
        self.out_of_order = 0
        self.last = {}  # per member: last sequence number seen

    def record(self, payload, member=0):
        seq = int(payload.split(b"|", 1)[0])
        self.received += 1
        if seq in self.seen:
            self.duplicates += 1
        else:
            self.seen.add(seq)
        if seq < self.last.get(member, 0):
            self.out_of_order += 1
        self.last[member] = seq

    def lost(self):
        return self.stream.sent - len(self.seen)

    def complete(self):
        return len(self.seen) >= self.stream.sent


# --- long-lived clients ----------------------------------------------------


class Clients:
    """Every long-lived nats-py connection, so that a disconnect (by a
    reload, a slow-consumer cut or anything else) is noticed and named."""

    def __init__(self):
        self.conns = []
        self.closing = False
        self.disconnects = []
        self.async_errors = []

    async def connect(self, tenant, name):
        async def disconnected():
            if not self.closing:
                self.disconnects.append(name)
                log(f"long-lived client {name} disconnected")

        async def error(e):
            # nats-py reports its own slow-consumer drops and -ERRs here.
            self.async_errors.append(f"{name}: {type(e).__name__}: {e}")
            log(f"client {name} error: {type(e).__name__}: {e}")

        nc = await nats.connect(
            URL,
            user=tenant,
            password=PASSWORDS[tenant],
            name=name,
            allow_reconnect=False,
            disconnected_cb=disconnected,
            error_cb=error,
            connect_timeout=10,
            pending_size=8 * 1024 * 1024,
        )
        self.conns.append((name, nc))
        return nc

    async def close_all(self):
        self.closing = True
        for _, nc in self.conns:
            try:
                await asyncio.wait_for(nc.close(), 5)
            except Exception:
                pass


async def subscribe(nc, subject, sink, queue="", member=0):
    async def cb(msg):
        sink.record(msg.data, member)

    # Generous client-side limits: a delivery nats-py drops on its side
    # would look like a loss (it is reported to error_cb, hence a failure).
    return await nc.subscribe(subject, queue=queue, cb=cb, pending_msgs_limit=1 << 22,
                              pending_bytes_limit=1 << 30)


async def ticker(rate, stop, action):
    """Calls `action()` `rate` times a second, in 50 ms ticks, until stop."""
    loop = asyncio.get_running_loop()
    tick = 0.05
    due = loop.time()
    owed = 0.0
    while not stop.is_set():
        owed += rate * tick
        while owed >= 1:
            owed -= 1
            await action()
        due += tick
        delay = due - loop.time()
        if delay < -1:  # fell far behind (a busy machine): do not catch up in a burst
            due = loop.time()
            delay = 0
        await asyncio.sleep(max(0.0, delay))


# --- traffic ---------------------------------------------------------------


class Traffic:
    def __init__(self):
        self.clients = Clients()
        self.sinks = []
        self.stop = asyncio.Event()
        self.tasks = []
        self.publishers = []
        self.latencies = []
        self.latency_at = []  # when each answered request was sent (now())
        self.hup_at = []  # when each SIGHUP was sent (now())
        # Plugin counters restart when a reload loads the plugins again, so
        # they are read before each SIGHUP and added up.
        self.plugin_totals = {}
        self.req_sent = 0
        self.req_ok = 0
        self.req_lost = []
        self.req_wrong = 0
        self.req_inflight = set()
        self.hostile = {"trap": 0, "loop": 0, "memory": 0, "ok": 0}
        self.hostile_delivered = {}
        self.storms = 0
        self.storm_clients = 0
        self.storm_failed = []
        self.slow_started = 0
        self.slow_cut = []  # seconds from SUB to cut-off
        self.slow_not_cut = 0
        self.slow_unjudged = 0  # still open when the traffic stopped
        self.slow_errors = []
        self.reloads = 0
        self.reload_failed = 0

    async def setup(self):
        c = self.clients
        for tenant in TRAFFIC_TENANTS:
            pub = await c.connect(tenant, f"{tenant}-pub")
            data, work = Stream(f"{tenant} data.*"), Stream(f"{tenant} work.jobs")
            subs = [await c.connect(tenant, f"{tenant}-sub{i}") for i in range(2)]
            wild = Sink(f"{tenant} sub data.>", data)
            star = Sink(f"{tenant} sub data.*", data)
            await subscribe(subs[0], "data.>", wild)
            await subscribe(subs[1], "data.*", star)
            group = Sink(f"{tenant} queue work.jobs (3 members)", work, queue_group=True)
            for i in range(3):
                member = await c.connect(tenant, f"{tenant}-worker{i}")
                await subscribe(member, "work.jobs", group, queue="workers", member=i)
                await member.flush()
            for s in subs:
                await s.flush()
            self.sinks += [wild, star, group]
            self.publishers.append((tenant, pub, data, work))

        # Busy subject in beta: a reader that keeps up, and raw slow consumers.
        self.busy_pub = await c.connect("beta", "beta-busy-pub")
        self.busy = Stream("beta busy.feed")
        busy_reader = await c.connect("beta", "beta-busy-reader")
        busy_sink = Sink("beta sub busy.feed (16 KiB)", self.busy)
        await subscribe(busy_reader, "busy.feed", busy_sink)
        await busy_reader.flush()
        self.sinks.append(busy_sink)

        # Hostile plugins in gamma: count what gets through, check nothing.
        hostile_reader = await c.connect("gamma", "gamma-hostile-reader")

        async def hostile_cb(msg):
            key = msg.subject
            self.hostile_delivered[key] = self.hostile_delivered.get(key, 0) + 1

        await hostile_reader.subscribe("hostile.>", cb=hostile_cb)
        await hostile_reader.flush()

        # The service: svc exports echo.request; alpha requests svc.echo.
        for i in range(2):
            responder = await c.connect("svc", f"svc-responder{i}")

            async def echo(msg):
                await msg.respond(msg.data)

            await responder.subscribe("echo.request", queue="responders", cb=echo)
            await responder.flush()
        self.requester = await c.connect("alpha", "alpha-requester")

    def start(self):
        spawn = self.tasks.append
        for tenant, pub, data, work in self.publishers:
            spawn(asyncio.create_task(self.publish_loop(tenant, pub, data, work)))
        spawn(asyncio.create_task(self.busy_loop()))
        spawn(asyncio.create_task(self.request_loop()))
        spawn(asyncio.create_task(self.storm_loop()))
        spawn(asyncio.create_task(self.slow_loop()))
        spawn(asyncio.create_task(self.hup_loop()))

    async def publish_loop(self, tenant, nc, data, work):
        n = 0

        async def one():
            nonlocal n
            n += 1
            await nc.publish(f"data.s{n % 4}", data.next_payload())
            await nc.publish("work.jobs", work.next_payload())
            # gamma's publisher also provokes the hostile plugins, on the same
            # connection as its checked traffic: a trap at 2/s, a loop and a
            # memory bomb at 0.5/s each, and between two traps a harmless
            # message on the trap's subject, which passes whenever the plugin
            # is neither backing off nor disabled (it shows the recovery).
            # They go out in different ticks, so never in one plugin batch.
            every = max(2, int(RATE / 2))
            if tenant == "gamma" and n % every == every // 2:
                await nc.publish("hostile.trap.ok", b"ok")
                self.hostile["ok"] += 1
            if tenant == "gamma" and n % every == 0:
                await nc.publish("hostile.trap.x", b"trap")
                self.hostile["trap"] += 1
                if n % (4 * every) == 0:
                    await nc.publish("hostile.loop.x", b"spin")
                    await nc.publish("hostile.memory.x", b"grow")
                    self.hostile["loop"] += 1
                    self.hostile["memory"] += 1

        await ticker(RATE, self.stop, one)

    async def busy_loop(self):
        async def one():
            await self.busy_pub.publish("busy.feed", self.busy.next_payload(BUSY_PAYLOAD))

        await ticker(BUSY_RATE, self.stop, one)

    async def request_loop(self):
        async def one():
            task = asyncio.create_task(self.request_once())
            self.req_inflight.add(task)
            task.add_done_callback(self.req_inflight.discard)

        await ticker(REQ_RATE, self.stop, one)

    async def request_once(self):
        self.req_sent += 1
        body = b"%d|request" % self.req_sent
        start = time.perf_counter()
        try:
            msg = await self.requester.request("svc.echo", body, timeout=5)
        except (NatsTimeout, asyncio.TimeoutError):
            self.req_lost.append("timeout")
            return
        except NoRespondersError:
            self.req_lost.append("no responders")
            return
        except Exception as e:  # noqa: BLE001 - anything else is a lost request too
            self.req_lost.append(type(e).__name__)
            return
        self.latencies.append(time.perf_counter() - start)
        self.latency_at.append(now())
        if msg.data == body:
            self.req_ok += 1
        else:
            self.req_wrong += 1

    async def storm_loop(self):
        """Bursts of short-lived clients: half nats-py (connect, subscribe,
        publish to itself, receive, close), half raw sockets that subscribe
        and drop the TCP connection without UNSUB or goodbye."""
        while not self.stop.is_set():
            await self.sleep_or_stop(STORM_SECS)
            if self.stop.is_set():
                break
            self.storms += 1
            jobs = [self.storm_client(i) for i in range(STORM_SIZE)]
            await asyncio.gather(*jobs)

    async def storm_client(self, i):
        tenant = TRAFFIC_TENANTS[i % 3]
        subject = f"storm.{self.storms}.{i}"
        self.storm_clients += 1
        try:
            if i % 2 == 0:
                nc = await nats.connect(
                    URL, user=tenant, password=PASSWORDS[tenant], allow_reconnect=False,
                    connect_timeout=10, name=f"storm-{i}",
                )
                sub = await nc.subscribe(subject)
                await nc.publish(subject, b"x")
                await sub.next_msg(timeout=10)
                await nc.close()
            else:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, PORT), 10)
                await asyncio.wait_for(reader.readline(), 10)  # INFO
                connect = {"verbose": False, "pedantic": False, "user": tenant,
                           "pass": PASSWORDS[tenant], "protocol": 1, "name": f"storm-raw-{i}"}
                writer.write(b"CONNECT " + json.dumps(connect).encode() + b"\r\n"
                             + f"SUB {subject} 1\r\nSUB storm.> 2\r\nPING\r\n".encode())
                await writer.drain()
                line = await asyncio.wait_for(reader.readline(), 10)
                if line.strip() != b"PONG":
                    raise RuntimeError(f"expected PONG, got {line[:80]!r}")
                writer.transport.abort()  # RST, no goodbye
        except Exception as e:  # noqa: BLE001
            self.storm_failed.append(f"storm {self.storms} client {i}: {type(e).__name__}: {e}")

    async def slow_loop(self):
        while not self.stop.is_set():
            await self.sleep_or_stop(SLOW_SECS)
            if self.stop.is_set():
                break
            self.tasks.append(asyncio.create_task(self.slow_consumer(self.slow_started)))
            self.slow_started += 1

    async def slow_consumer(self, n):
        """A raw client in beta that subscribes to busy.feed and never reads
        after INFO. It sends a PING every 0.5 s; once the broker has closed
        the connection, the kernel answers those with a reset, which is how
        the cut-off is seen."""
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, (HOST, PORT)), 10)
            await asyncio.wait_for(loop.sock_recv(sock, 4096), 10)  # INFO, the only read
            connect = {"verbose": False, "pedantic": False, "user": "beta",
                       "pass": PASSWORDS["beta"], "protocol": 1, "name": f"slow-{n}"}
            await loop.sock_sendall(sock, b"CONNECT " + json.dumps(connect).encode()
                                    + b"\r\nSUB busy.feed 1\r\nPING\r\n")
            start = loop.time()
            while loop.time() - start < SLOW_LIMIT:
                await asyncio.sleep(0.5)
                try:
                    sock.send(b"PING\r\n")
                except BlockingIOError:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    self.slow_cut.append(loop.time() - start)
                    return
                if tcp_state(sock) in (7, 8):  # CLOSE or CLOSE_WAIT: the broker closed
                    self.slow_cut.append(loop.time() - start)
                    return
                if self.stop.is_set():
                    # busy.feed has stopped, so it will not fill up any more.
                    self.slow_unjudged += 1
                    return
            self.slow_not_cut += 1
            fail(f"slow consumer slow-{n} was not cut off within {SLOW_LIMIT:.0f} s")
        except Exception as e:  # noqa: BLE001
            self.slow_errors.append(f"slow-{n}: {type(e).__name__}: {e}")
        finally:
            sock.close()

    async def hup_loop(self):
        base = open(os.path.join(TENANTS, "alpha.toml")).read()
        while not self.stop.is_set():
            await self.sleep_or_stop(HUP_SECS)
            if self.stop.is_set():
                break
            before = varz().get("config_load_time")
            marker = (f'\n[[users]]\nuser = "reload-marker"\n'
                      f'password = "generation-{self.reloads + self.reload_failed + 1}"\n')
            path = os.path.join(TENANTS, "alpha.toml")
            with open(path + ".new", "w") as f:
                f.write(base + marker)
            os.replace(path + ".new", path)
            self.add_plugin_counters(metrics_or_empty())
            os.kill(PID, signal.SIGHUP)
            self.hup_at.append(now())
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                if varz().get("config_load_time") != before:
                    self.reloads += 1
                    break
            else:
                self.reload_failed += 1
                fail("a SIGHUP did not change /varz config_load_time within 10 s")

    def add_plugin_counters(self, ms):
        for (name, labels), value in ms.items():
            m = re.match(r"switchyard_plugin_(calls|errors|traps|timeouts)_total$", name)
            labels = dict(labels)
            if m and labels.get("tenant") == "gamma":
                key = (labels.get("plugin"), m.group(1))
                self.plugin_totals[key] = self.plugin_totals.get(key, 0) + value

    async def sleep_or_stop(self, secs):
        try:
            await asyncio.wait_for(self.stop.wait(), secs)
        except asyncio.TimeoutError:
            pass

    async def finish(self):
        self.stop.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.req_inflight:
            await asyncio.gather(*list(self.req_inflight), return_exceptions=True)
        for _, nc, _, _ in self.publishers:
            await nc.flush(timeout=10)
        await self.busy_pub.flush(timeout=10)
        deadline = time.monotonic() + DRAIN_SECS
        while time.monotonic() < deadline and not all(s.complete() for s in self.sinks):
            await asyncio.sleep(0.2)


def tcp_state(sock):
    try:
        return struct.unpack("B", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1))[0]
    except OSError:
        return 0


# --- the broker's resources ------------------------------------------------


def http_get(path):
    with urllib.request.urlopen(f"http://{HOST}:{HTTP_PORT}{path}", timeout=5) as r:
        return r.read().decode()


def varz():
    try:
        return json.loads(http_get("/varz"))
    except Exception:  # noqa: BLE001 - a missed scrape is not a verdict
        return {}


def metrics():
    """Prometheus text to {(name, frozenset(labels)): value}."""
    out = {}
    for line in http_get("/metrics").splitlines():
        m = re.match(r"^([a-z_]+)(?:\{(.*)\})? ([0-9.e+-]+|NaN)$", line)
        if not m:
            continue
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def metrics_or_empty():
    try:
        return metrics()
    except Exception:  # noqa: BLE001 - a missed scrape is not a verdict
        return {}


def cpu_secs(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def broker_alive():
    try:
        os.kill(PID, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{PID}/status") as f:
            return "\nState:\tZ" not in f.read()
    except FileNotFoundError:
        return False


def proc_sample():
    rss = hwm = 0
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    fds = len(os.listdir(f"/proc/{PID}/fd"))
    return rss, hwm, fds


class Sampler:
    def __init__(self):
        self.samples = []  # (t, rss_kib, hwm_kib, fds, connections)
        self.died = False

    async def run(self, stop):
        while not stop.is_set():
            if not broker_alive():
                self.died = True
                fail("the broker died during the soak")
                stop.set()
                return
            rss, hwm, fds = proc_sample()
            conns = varz().get("connections", -1)
            self.samples.append((now(), rss, hwm, fds, conns))
            try:
                await asyncio.wait_for(stop.wait(), SAMPLE_SECS)
            except asyncio.TimeoutError:
                pass


def growth(samples, index, label, tolerance):
    """Last quarter's median against the first quarter's, after warm-up."""
    kept = [s for s in samples if s[0] >= WARMUP_SECS]
    if len(kept) < 8:
        return f"{label}: only {len(kept)} samples after warm-up, too few to judge growth", None
    q = len(kept) // 4
    first = statistics.median(s[index] for s in kept[:q])
    last = statistics.median(s[index] for s in kept[-q:])
    allowed = tolerance(first)
    return (first, last, allowed), last - first > allowed


# --- the run ----------------------------------------------------------------


def pct(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def main():
    for name, value in (("SOAK_PORT", PORT), ("SOAK_HTTP_PORT", HTTP_PORT), ("SOAK_PID", PID)):
        if not value:
            print(f"soak.py: {name} is required (run benches/soak.sh)", file=sys.stderr)
            return 2
    if not TENANTS or not os.path.isfile(os.path.join(TENANTS, "alpha.toml")):
        print("soak.py: SOAK_TENANTS must name the broker's tenant directory", file=sys.stderr)
        return 2

    traffic = Traffic()
    try:
        await traffic.setup()
    except Exception as e:  # noqa: BLE001
        print(f"soak.py: cannot set up the clients: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    log(f"{len(traffic.clients.conns)} long-lived clients connected; traffic for {SECS} s")
    sampler_stop = asyncio.Event()
    s = Sampler()
    sampler = asyncio.create_task(s.run(sampler_stop))
    metrics_start = metrics()
    cpu_start = (cpu_secs(PID), time.process_time(), time.monotonic())
    traffic.start()

    end = time.monotonic() + SECS
    next_progress = time.monotonic() + 30
    while time.monotonic() < end and not s.died:
        await asyncio.sleep(1)
        if time.monotonic() >= next_progress:
            next_progress += 30
            last = s.samples[-1] if s.samples else (0, 0, 0, 0, 0)
            lost_so_far = len(traffic.req_lost)
            log(f"rss {last[1] / 1024:.1f} MiB, fds {last[3]}, conns {last[4]}, "
                f"published {sum(p[2].sent + p[3].sent for p in traffic.publishers)}, "
                f"requests {traffic.req_sent} ({lost_so_far} lost), reloads {traffic.reloads}, "
                f"storms {traffic.storms}, slow consumers cut {len(traffic.slow_cut)}")
    if s.died:
        await traffic.finish()
        return report(traffic, s, metrics_start, {})
    log("traffic stopped; draining")
    await traffic.finish()
    # A few more samples with only the long-lived clients, then the verdict.
    sampler_stop.set()
    await sampler
    final_metrics = metrics() if broker_alive() else {}
    wall = time.monotonic() - cpu_start[2]
    log(f"CPU over {wall:.0f} s: broker {cpu_secs(PID) - cpu_start[0]:.0f} s "
        f"({100 * (cpu_secs(PID) - cpu_start[0]) / wall:.0f}% of a core), this client "
        f"{time.process_time() - cpu_start[1]:.0f} s; load average {os.getloadavg()[0]:.1f}")
    rc = report(traffic, s, metrics_start, final_metrics)
    await traffic.clients.close_all()
    return rc


def report(t, s, m0, m1):
    global REPORTING
    REPORTING = True
    print()
    print(f"== soak report: {SECS} s against pid {PID} at {HOST}:{PORT} ==")
    print()
    print("messages to consumers that kept up (sent / received / lost / duplicates / out of order):")
    for sink in t.sinks:
        print(f"  {sink.label:42} {sink.stream.sent:8} {sink.received:8} {sink.lost():6} "
              f"{sink.duplicates:6} {sink.out_of_order:6}")
        if sink.lost() > 0:
            fail(f"{sink.label}: lost {sink.lost()} of {sink.stream.sent} messages")
        if sink.duplicates > 0:
            fail(f"{sink.label}: {sink.duplicates} duplicate deliveries")
        if sink.out_of_order > 0:
            fail(f"{sink.label}: {sink.out_of_order} messages out of order")
    lost_total = sum(max(0, x.lost()) for x in t.sinks)
    print(f"  total lost: {lost_total}")

    print()
    lat_ms = [x * 1000 for x in t.latencies]
    print(f"requests alpha svc.echo -> svc echo.request (service import): sent {t.req_sent}, "
          f"answered {t.req_ok}, wrong answer {t.req_wrong}, lost {len(t.req_lost)}")
    if lat_ms:
        print(f"  latency ms: p50 {pct(lat_ms, 50):.2f}  p90 {pct(lat_ms, 90):.2f}  "
              f"p99 {pct(lat_ms, 99):.2f}  p99.9 {pct(lat_ms, 99.9):.2f}  max {max(lat_ms):.2f}")
        near = [ms for ms, at in zip(lat_ms, t.latency_at)
                if any(0 <= at - h < 1.0 for h in t.hup_at)]
        far = [ms for ms, at in zip(lat_ms, t.latency_at)
               if not any(0 <= at - h < 1.0 for h in t.hup_at)]
        if near and far:
            print(f"  sent within 1 s after a SIGHUP: {len(near)} requests, p50 {pct(near, 50):.2f}, "
                  f"p99 {pct(near, 99):.2f}, max {max(near):.2f}; the others: p50 {pct(far, 50):.2f}, "
                  f"p99 {pct(far, 99):.2f}, max {max(far):.2f}")
    if t.req_lost:
        kinds = {k: t.req_lost.count(k) for k in set(t.req_lost)}
        fail(f"{len(t.req_lost)} requests got no answer ({kinds})")
    if t.req_wrong:
        fail(f"{t.req_wrong} requests got another request's answer")
    if P99_MAX_MS and lat_ms and pct(lat_ms, 99) > float(P99_MAX_MS):
        fail(f"request p99 {pct(lat_ms, 99):.2f} ms is over SOAK_P99_MAX_MS={P99_MAX_MS}")

    print()
    sc0 = sum(v for (n, _), v in m0.items() if n == "switchyard_slow_consumers_total")
    sc1 = sum(v for (n, _), v in m1.items() if n == "switchyard_slow_consumers_total")
    cut = sorted(t.slow_cut)
    print(f"slow consumers (raw, beta busy.feed, never read): started {t.slow_started}, "
          f"seen cut off {len(cut)}, not cut off {t.slow_not_cut}, still young at the end "
          f"{t.slow_unjudged}, errors {len(t.slow_errors)}; "
          f"broker's switchyard_slow_consumers_total +{sc1 - sc0:.0f}")
    if cut:
        print(f"  seconds from SUB to cut-off: min {cut[0]:.1f}, median {statistics.median(cut):.1f}, "
              f"max {cut[-1]:.1f}")
    for e in t.slow_errors[:5]:
        print(f"  error: {e}")
    if t.slow_errors:
        fail(f"{len(t.slow_errors)} slow consumers could not be set up")
    if t.slow_started and not cut:
        fail("no slow consumer was ever cut off")

    print()
    print(f"reconnect storms: {t.storms} storms of {STORM_SIZE} clients ({t.storm_clients} clients "
          f"in all), failed {len(t.storm_failed)}")
    for e in t.storm_failed[:5]:
        print(f"  {e}")
    if t.storm_failed:
        fail(f"{len(t.storm_failed)} storm clients could not connect, subscribe and get an answer")

    print()
    print(f"reloads (SIGHUP every {HUP_SECS:g} s): {t.reloads} done, {t.reload_failed} not seen; "
          f"long-lived clients disconnected: {len(t.clients.disconnects)}")
    if t.clients.disconnects:
        fail(f"long-lived clients disconnected: {', '.join(t.clients.disconnects)}")
    if t.clients.async_errors:
        print(f"  client-side errors: {len(t.clients.async_errors)}; first: {t.clients.async_errors[0]}")
        fail(f"{len(t.clients.async_errors)} errors reported to long-lived clients")

    print()
    plugin_names = ("hostile_trap", "hostile_loop", "hostile_memory")
    print("plugin traps (gamma; provoked / delivered on hostile.> / broker's counters at the end):")
    print(f"  provoked: trap {t.hostile['trap']}, loop {t.hostile['loop']}, "
          f"memory {t.hostile['memory']}, harmless beside them {t.hostile['ok']}")
    print(f"  delivered: {dict(sorted(t.hostile_delivered.items()))}")
    t.add_plugin_counters(m1)
    print("  broker's counters (switchyard_plugin_*_total, added up over the reloads, which")
    print("  restart them; events between the last scrape and a reload are missed):")
    for p in plugin_names:
        vals = {k: t.plugin_totals.get((p, k), 0) for k in ("calls", "errors", "traps", "timeouts")}
        print(f"  {p:15} calls {vals['calls']:.0f}, errors {vals['errors']:.0f}, "
              f"traps {vals['traps']:.0f}, timeouts {vals['timeouts']:.0f}")
    if t.hostile_delivered.get("hostile.trap.x", 0):
        fail("a message that traps hostile_trap was delivered (fail-closed)")
    if t.hostile_delivered.get("hostile.loop.x", 0):
        fail("a message that loops hostile_loop was delivered (fail-closed)")

    print()
    print(f"broker resources (sampled every {SAMPLE_SECS:g} s, {len(s.samples)} samples, "
          f"warm-up {WARMUP_SECS:g} s):")
    if s.samples:
        first, last = s.samples[0], s.samples[-1]
        peak_rss = max(x[1] for x in s.samples)
        peak_fd = max(x[3] for x in s.samples)
        print(f"  RSS MiB: start {first[1] / 1024:.1f}, end {last[1] / 1024:.1f}, "
              f"max {peak_rss / 1024:.1f}, high-water {last[2] / 1024:.1f}")
        print(f"  open fds: start {first[3]}, end {last[3]}, max {peak_fd}")
        step = max(1, len(s.samples) // 12)
        print("  time s   RSS MiB   fds   connections")
        for x in s.samples[::step] + ([s.samples[-1]] if (len(s.samples) - 1) % step else []):
            print(f"  {x[0]:6.0f}  {x[1] / 1024:8.1f}  {x[3]:4}  {x[4]:5}")
        rss, rss_grew = growth(s.samples, 1, "RSS",
                               lambda f: max(f * RSS_TOL_PCT / 100, RSS_TOL_MIB * 1024))
        fds, fd_grew = growth(s.samples, 3, "fds", lambda f: FD_TOL)
        if rss_grew is None:
            print(f"  {rss}")
        else:
            print(f"  RSS growth: first-quarter median {rss[0] / 1024:.1f} MiB, last-quarter "
                  f"median {rss[1] / 1024:.1f} MiB, allowed +{rss[2] / 1024:.1f} MiB")
            if rss_grew:
                fail(f"RSS grew from {rss[0] / 1024:.1f} to {rss[1] / 1024:.1f} MiB (median of the "
                     f"first and last quarter after warm-up; allowed +{rss[2] / 1024:.1f} MiB)")
        if fd_grew is None:
            print(f"  {fds}")
        else:
            print(f"  fd growth: first-quarter median {fds[0]:g}, last-quarter median {fds[1]:g}, "
                  f"allowed +{fds[2]}")
            if fd_grew:
                fail(f"open fds grew from {fds[0]:g} to {fds[1]:g} (median of the first and last "
                     f"quarter after warm-up; allowed +{fds[2]})")
        if OUT:
            with open(os.path.join(OUT, "samples.csv"), "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["t_secs", "rss_kib", "hwm_kib", "fds", "connections"])
                w.writerows((f"{x[0]:.1f}", x[1], x[2], x[3], x[4]) for x in s.samples)
            print(f"  all samples: {os.path.join(OUT, 'samples.csv')}")

    print()
    if FAILURES:
        print(f"SOAK FAILED ({len(FAILURES)} problems):")
        for f in FAILURES:
            print(f"  - {f}")
        return 1
    print("SOAK PASSED: no message lost, no growth beyond the tolerances")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
