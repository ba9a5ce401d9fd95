"""Behavioural smoke test of the built plugins, without the broker.

Instantiates each component under wasmtime's Python bindings (a newer
wasmtime than the broker's 48, same component model), with the host
imports written in Python, and checks its answers: registrations, verdicts,
decisions, grants, and that each hostile plugin fails the way it should
(trap, epoch deadline, memory cap). The broker's own tests are the real
gate; this lets a plugin author check a change in seconds.

Usage: python smoke.py DIR   (DIR holds the .wasm files)
Run through scripts/smoke-plugins.sh, which builds and installs what it needs.
"""
import hashlib
import struct
import sys
import threading
import time

import wasmtime
from wasmtime import Config, Engine, Store
from wasmtime.component import Component, Linker, Record, Variant

WASM_DIR = sys.argv[1]
cfg = Config()
cfg.epoch_interruption = True
engine = Engine(cfg)
_components = {}

def component(name):
    if name not in _components:
        _components[name] = Component.from_file(engine, f"{WASM_DIR}/{name}.wasm")
    return _components[name]

class Host:
    """What the broker would hold for one plugin: its config, the tenant's
    key-value store (TTLs ignored) and the log lines."""
    def __init__(self, config):
        self.config = dict(config)
        self.kv = {}
        self.logs = []
        self.payload = b""

def instantiate(name, config=None, mem=64 << 20):
    host = Host(config or {})
    linker = Linker(engine)
    linker.add_wasip2()
    with linker.root() as root:
        with root.add_instance("switchyard:plugin/types@0.1.0"):
            pass
        with root.add_instance("switchyard:plugin/host@0.1.0") as h:
            h.add_func("log", lambda s, lvl, msg: host.logs.append((lvl, msg)))
            h.add_func("config-get", lambda s, k: host.config.get(k))
            h.add_func("config-entries", lambda s: sorted(host.config.items()))
            h.add_func("now-ms", lambda s: int(time.time() * 1000))
            h.add_func("monotonic-ns", lambda s: time.monotonic_ns())
        with root.add_instance("switchyard:plugin/kv@0.1.0") as k:
            k.add_func("get", lambda s, key: host.kv.get(key))
            def kv_set(s, key, val, ttl):
                host.kv[key] = val
                return None
            k.add_func("set", kv_set)
            k.add_func("delete", lambda s, key: host.kv.pop(key, None) and None)
            def incr(s, key, delta, ttl):
                old = host.kv.get(key, b"\0" * 8)
                n = struct.unpack("<q", old)[0] if len(old) == 8 else 0
                n += delta
                host.kv[key] = struct.pack("<q", n)
                return n
            k.add_func("increment", incr)
        with root.add_instance("switchyard:plugin/message-payload@0.1.0") as m:
            m.add_func("payload", lambda s: host.payload)
    store = Store(engine)
    store.set_wasi(wasmtime.WasiConfig())
    store.set_limits(memory_size=mem)
    store.set_epoch_deadline(1_000_000)
    inst = linker.instantiate(store, component(name))
    return store, inst, host

def call(store, inst, iface, fn, *args, ticks=None):
    idx = inst.get_export_index(store, iface)
    f = inst.get_func(store, inst.get_export_index(store, fn, idx))
    if ticks is not None:
        store.set_epoch_deadline(ticks)
    r = f(store, *args)
    f.post_return(store)
    return r

T = "switchyard:plugin/transformer@0.1.0"
R = "switchyard:plugin/router@0.1.0"
A = "switchyard:plugin/authenticator@0.1.0"

def span(o, l):
    r = Record(); r.offset = o; r.len = l; return r

def batch(msgs):
    """msgs: list of (subject, reply, headers, payload)"""
    data = bytearray(); refs = []
    def put(b):
        s = span(len(data), len(b)); data.extend(b); return s
    for subj, reply, hdrs, payload in msgs:
        m = Record()
        m.subject = put(subj.encode())
        m.reply = put(reply.encode()) if reply is not None else None
        setattr(m, "headers", put(hdrs) if hdrs is not None else None)
        m.payload = put(payload)
        refs.append(m)
    b = Record(); b.data = bytes(data); b.messages = refs
    return b

def route_req(subject, headers=None, size=0, user="", cid=1):
    p = Record(); p.user = user; setattr(p, "client-id", cid); setattr(p, "client-name", None)
    r = Record(); r.subject = subject; r.reply = None; r.headers = headers
    setattr(r, "payload-size", size); r.publisher = p
    return r

def connect(**kw):
    r = Record()
    for f in ["user", "password", "token", "jwt", "nkey", "client-name", "client-lang", "client-version", "tls-peer"]:
        setattr(r, f, kw.get(f.replace("-", "_")))
    setattr(r, "nkey-verified", False); setattr(r, "remote-addr", "127.0.0.1:1")
    return r

fails = 0; passes = 0
def check(name, cond, detail=""):
    global fails, passes
    if cond: passes += 1
    else:
        fails += 1; print(f"FAIL {name} {detail}")

def expect_trap(name, fn):
    try:
        fn()
    except (wasmtime.WasmtimeError, wasmtime.Trap) as e:
        check(name, True); return str(e)
    check(name, False, "no trap")

# noop_transform
s, i, h = instantiate("noop_transform", {"subjects": "a.>, b"})
reg = call(s, i, T, "register")
check("noop reg", reg.subjects == ["a.>", "b"] and not getattr(reg, "wants-payload"), vars(reg))
check("noop batch", call(s, i, T, "transform-batch", batch([("a.1", None, None, b"x")] * 256)) == [])

# noop_router
s, i, h = instantiate("noop_router")
check("noop_router reg", call(s, i, R, "register").subjects == [">"])
check("noop_router", call(s, i, R, "route", route_req("x")) == Variant("allow"))

# uppercase
s, i, h = instantiate("uppercase")
v = call(s, i, T, "transform-batch", batch([("a", None, None, b"Hello"), ("a", None, None, b"OK 1")]))
check("uppercase", len(v) == 1 and v[0].index == 0 and v[0].action.payload.payload == b"HELLO", v)

# redact_json
s, i, h = instantiate("redact_json", {"fields": "password, card.number", "non_json": "reject"})
reg = call(s, i, T, "register")
check("redact reg", getattr(reg, "wants-payload") is True)
v = call(s, i, T, "transform-batch", batch([
    ("u.1", None, None, b'{"user":"a","password":"p"}'),
    ("u.2", None, None, b'{"user":"a"}'),
    ("u.3", "_INBOX.1", None, b'not json'),
    ("u.4", None, None, b'{"card":{"number":"4111","exp":"1"}}'),
]))
by_index = {x.index: x.action for x in v}
check("redact verdicts", sorted(by_index) == [0, 2, 3], sorted(by_index))
check("redact top-level", by_index[0].tag == "modify" and by_index[0].payload.payload == b'{"user":"a","password":"[REDACTED]"}', by_index[0])
check("redact non-json", by_index[2] == Variant("reject", "payload is not JSON"), by_index[2])
check("redact nested", by_index[3].payload.payload == b'{"card":{"number":"[REDACTED]","exp":"1"}}')
s, i, h = instantiate("redact_json", {"non_json": "explode"})
expect_trap("redact bad config traps in register", lambda: call(s, i, T, "register"))
check("redact bad config logged", any("non_json" in m for _, m in h.logs), h.logs)

# rate_limit
s, i, h = instantiate("rate_limit", {"limit": "2", "window_ms": "1000", "key_by": "user"})
call(s, i, R, "register")
res = [call(s, i, R, "route", route_req("x", user="bob", cid=n)) for n in range(3)]
check("rate_limit", res == [Variant("allow"), Variant("allow"), Variant("deny", "rate limit exceeded")], res)
check("rate_limit key", "rate_limit.u.bob" in h.kv, h.kv.keys())
check("rate_limit other user", call(s, i, R, "route", route_req("x", user="eve")) == Variant("allow"))

# content_router by header
s, i, h = instantiate("content_router", {"subjects": "orders.new", "header": "X-Region", "target": "orders.{value}.new"})
reg = call(s, i, R, "register")
check("cr reg", getattr(reg, "wants-headers") and not getattr(reg, "wants-payload"))
hdr = b"NATS/1.0\r\nx-region: eu\r\n\r\n"
check("cr header", call(s, i, R, "route", route_req("orders.new", headers=hdr)) == Variant("reroute", "orders.eu.new"))
check("cr missing", call(s, i, R, "route", route_req("orders.new")) == Variant("allow"))
bad = b"NATS/1.0\r\nX-Region: eu.>\r\n\r\n"
check("cr bad token", call(s, i, R, "route", route_req("orders.new", headers=bad)).tag == "deny")
# by field, with default
s, i, h = instantiate("content_router", {"subjects": "orders.new", "field": "meta.region", "target": "orders.{value}.new", "default": "orders.unrouted"})
call(s, i, R, "register")
h.payload = b'{"meta":{"region":"us"}}'
check("cr field", call(s, i, R, "route", route_req("orders.new", size=len(h.payload))) == Variant("reroute", "orders.us.new"))
h.payload = b'{}'
check("cr default", call(s, i, R, "route", route_req("orders.new", size=2)) == Variant("reroute", "orders.unrouted"))
s, i, h = instantiate("content_router")
expect_trap("cr no config traps", lambda: call(s, i, R, "register"))

# api_key_auth
key = "s3cret-key"
hx = hashlib.sha256(key.encode()).hexdigest()
s, i, h = instantiate("api_key_auth", {f"key.{hx}": "tenant=acme;user=svc;pub=orders.>;sub=_INBOX.>;ttl_ms=60000"})
g = call(s, i, A, "authenticate", connect(token=key))
check("auth token", isinstance(g, Record) and g.tenant == "acme" and g.user == "svc" and g.publish.allow == ["orders.>"], g)
check("auth expiry", getattr(g, "expires-at-ms") > time.time() * 1000)
g = call(s, i, A, "authenticate", connect(user="apikey", password=key))
check("auth password", isinstance(g, Record) and g.tenant == "acme")
g = call(s, i, A, "authenticate", connect(token="nope"))
check("auth unknown", isinstance(g, str) and "unknown API key" in g and "nope" not in g, g)
g = call(s, i, A, "authenticate", connect())
check("auth none", isinstance(g, str) and "no API key" in g, g)

# hostile_trap
s, i, h = instantiate("hostile_trap")
check("trap pass", call(s, i, T, "transform-batch", batch([("a", None, None, b"ok")])) == [])
expect_trap("trap on payload", lambda: call(s, i, T, "transform-batch", batch([("a", None, None, b"trap")])))
s, i, h = instantiate("hostile_trap", {"mode": "always"})
expect_trap("trap always", lambda: call(s, i, T, "transform-batch", batch([("a", None, None, b"ok")])))

# hostile_loop: epoch deadline
s, i, h = instantiate("hostile_loop")
def tick():
    for _ in range(50):
        time.sleep(0.01); engine.increment_epoch()
t = threading.Thread(target=tick); t.start()
t0 = time.time()
expect_trap("loop interrupted", lambda: call(s, i, T, "transform-batch", batch([("a", None, None, b"")]), ticks=2))
t.join()
check("loop quick", time.time() - t0 < 1.0, time.time() - t0)

# hostile_memory
s, i, h = instantiate("hostile_memory", mem=16 << 20)
expect_trap("memory unbounded", lambda: call(s, i, T, "transform-batch", batch([("a", None, None, b"")])))
s, i, h = instantiate("hostile_memory", {"mode": "leak", "leak_kib": "1024"}, mem=16 << 20)
ok = 0
try:
    for n in range(40):
        call(s, i, T, "transform-batch", batch([("a", None, None, b"")])); ok += 1
except (wasmtime.WasmtimeError, wasmtime.Trap):
    pass
check("memory leak passes then traps at cap", 5 < ok < 16, ok)

# hostile_output
# The Python bindings lift list<u8> as one value per byte and run out of
# wasmtime's hostcall fuel past a few MiB, so check a 2 MiB answer here; the
# default 9 MiB is for the broker's own size checks.
s, i, h = instantiate("hostile_output", {"size_kib": "2048"}, mem=64 << 20)
v = call(s, i, T, "transform-batch", batch([("a", None, None, b"")]))
check("output big", len(v[0].action.payload.payload) == 2048 * 1024)
s, i, h = instantiate("hostile_output", mem=8 << 20)
expect_trap("output big past memory cap traps", lambda: call(s, i, T, "transform-batch", batch([("a", None, None, b"")])))
s, i, h = instantiate("hostile_output", {"mode": "many-split"})
v = call(s, i, T, "transform-batch", batch([("a.b", None, None, b"")]))
check("output split", len(v[0].action.payload) == 100000 and v[0].action.payload[0].subject == "a.b")
s, i, h = instantiate("hostile_output", {"mode": "bad-index"})
v = call(s, i, T, "transform-batch", batch([("a", None, None, b"")] * 3))
check("output bad index", v[0].index == 3)

# hostile_register
s, i, h = instantiate("hostile_register")
expect_trap("register trap", lambda: call(s, i, T, "register"))
s, i, h = instantiate("hostile_register", {"mode": "invalid-subject"})
check("register invalid", call(s, i, T, "register").subjects == ["orders.>.new"])

print(f"{passes} passed, {fails} failed")
sys.exit(1 if fails else 0)
