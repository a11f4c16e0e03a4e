#!/usr/bin/env python3
"""Fixture HTTP(S) server for secfud integration tests.

Serves files from --root on 127.0.0.1 and misbehaves on demand, following
per-path rules set at start (--rules FILE) or at run time through a JSON
control API under /_fixture/ on the same server:

  POST /_fixture/rules   {"path": "/x", "rules": {...}, "append": false}
                         (or a list of such objects); "rules": null clears
  GET  /_fixture/rules   the current rule queues
  POST /_fixture/reset   clears rules, stats and swaps; body may hold
                         {"keep_rules": true} or {"keep_stats": true}
  GET  /_fixture/stats   counters and the request log
  GET  /_fixture/ping    {"ok": true}

Rules of one path form a queue: the head applies to each request; an entry
with "once" or "count" is dropped when used up, so "append" lets a test
script a sequence (first request truncated, second answered with a wrong
range, ...). The rule keys are described above RULE_KINDS below. Unknown keys
and bad values are refused (HTTP 400, or exit 2 for --rules).

Stats (GET /_fixture/stats, and --stats-file rewritten after every
connection and request):
  {"connections": N,            TCP connections accepted, control ones too
   "data_connections": N,       connections that asked for a file
   "tls_handshake_failures": N, "requests": N, "bytes_sent": N,
   "control_requests": N,
   "paths": {"/x": {"count": N, "bytes_sent": N, "dropped": N,
                    "requests": [{"method", "status", "bytes_sent",
                                  "connection" (its number), "rule" (bool),
                                  "headers" {name: value}, "time" (epoch)}]}}}

`--canary` starts a listener without HTTP that only counts connections and
reports them through --stats-file (for "this must never happen" checks).

`fixture-server.py ctl ...` is the small client that tests/lib/fixture.sh
uses for the control API (see ctl_main).

Python standard library only; every wait and every stream is bounded by the
server's lifetime (--lifetime) and ends at once on SIGTERM.
"""

import argparse
import email.utils
import hashlib
import http.client
import http.server
import json
import mimetypes
import os
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.parse

CONTROL_PREFIX = "/_fixture/"
MAX_CONTROL_BODY = 1 << 20          # control requests and drained GET bodies
MAX_LOG_PER_PATH = 500              # request log entries kept per path
MAX_CANARY_LOG = 100                # first lines kept by the canary
MAX_CANARY_PEEK = 4096              # bytes the canary reads from a peer
CHUNK_SIZE = 16384                  # body write size
RANDOM_BLOCK_SIZE = 65536           # repeated by endless streams
DEFAULT_STALL = 3600.0              # "stall" default, seconds
DEFAULT_LIFETIME = 900.0            # the server exits after this long
DEFAULT_IDLE_TIMEOUT = 30.0         # socket timeout of a connection
RESET_PAUSE = 0.2                   # lets the client read before an RST

# The rules: key -> kind, how validate_rules checks the value.
#   status                int       answer with this status code (100-999)
#   body                  str       answer with this body instead of the file
#   retry_after           scalar    Retry-After header value, sent verbatim
#   headers               headers   extra headers {name: value|[values]|null};
#                                   a name replaces the default header, null removes it
#   truncate_at           count     send N body bytes, then close cleanly
#   reset_at              count     send N body bytes, then RST (SO_LINGER 0)
#   endless               bool      stream random bytes forever, no Content-Length
#   chunked               bool      endless: use chunked encoding (default true)
#   content_length_lie    count     advertise this Content-Length
#   drip                  drip      {bytes: N, interval: seconds}: send slowly
#   stall_after           count     send N body bytes, then hold the connection
#   stall                 seconds   how long stalls last (default 3600)
#   stall_before_headers  bool      read the request, never answer
#   redirect              redirect  {location: URL, status: 302}
#   range                 range     honour | ignore | wrong
#   swap_after            swap      {bytes: N, with: FILE}: after N bytes of a
#                                   response, later requests get FILE (new ETag)
#   etag                  str       ETag to send and compare instead of the real one
#   delay                 seconds   wait this long before answering
#   once                  bool      apply to the next request only
#   count                 positive  apply to the next N requests only
RULE_KINDS = {
    "status": "int", "body": "str", "retry_after": "scalar", "headers": "headers",
    "truncate_at": "count", "reset_at": "count", "endless": "bool", "chunked": "bool",
    "content_length_lie": "count", "drip": "drip", "stall_after": "count", "stall": "seconds",
    "stall_before_headers": "bool", "redirect": "redirect", "range": "range", "swap_after": "swap",
    "etag": "str", "delay": "seconds", "once": "bool", "count": "positive",
}

RANGE_MODES = ("honour", "ignore", "wrong")


class RuleError(ValueError):
    pass


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and value == value and value not in (float("inf"), float("-inf")))


# The kinds of RULE_KINDS whose value is one JSON scalar: kind -> (test of the
# value, what the error says was expected).
SIMPLE_KINDS = {
    "int": (lambda v: _is_int(v) and 100 <= v <= 999, "expected a status code 100-999"),
    "str": (lambda v: isinstance(v, str), "expected a string"),
    "scalar": (lambda v: isinstance(v, (str, int, float)) and not isinstance(v, bool),
               "expected a string or a number"),
    "bool": (lambda v: isinstance(v, bool), "expected true or false"),
    "count": (lambda v: _is_int(v) and v >= 0, "expected an integer >= 0"),
    "positive": (lambda v: _is_int(v) and v >= 1, "expected an integer >= 1"),
    "seconds": (lambda v: _is_number(v) and v >= 0, "expected a number of seconds >= 0"),
}


def validate_rules(rules, root):
    """Checks a rule object; raises RuleError with a one-line reason."""
    if not isinstance(rules, dict):
        raise RuleError("rules must be a JSON object")
    for key, value in rules.items():
        if key not in RULE_KINDS:
            raise RuleError("unknown rule %r" % key)
        kind = RULE_KINDS[key]
        bad = "rule %r: " % key
        if kind in SIMPLE_KINDS:
            valid, expected = SIMPLE_KINDS[kind]
            if not valid(value):
                raise RuleError(bad + expected)
        elif kind == "headers":
            if not isinstance(value, dict):
                raise RuleError(bad + "expected an object")
            for name, hval in value.items():
                if not name or any(c in name for c in " \t\r\n:"):
                    raise RuleError(bad + "bad header name %r" % name)
                vals = hval if isinstance(hval, list) else [hval]
                for v in vals:
                    if v is None and not isinstance(hval, list):
                        continue
                    if not isinstance(v, (str, int, float)) or isinstance(v, bool):
                        raise RuleError(bad + "header %r: bad value" % name)
                    if "\r" in str(v) or "\n" in str(v):
                        raise RuleError(bad + "header %r: CR or LF in value" % name)
        elif kind == "drip":
            if (not isinstance(value, dict) or set(value) - {"bytes", "interval"}
                    or not _is_int(value.get("bytes")) or value["bytes"] < 1
                    or not _is_number(value.get("interval", 0))
                    or value.get("interval", 0) < 0):
                raise RuleError(bad + "expected {\"bytes\": N>=1, \"interval\": seconds}")
        elif kind == "redirect":
            if (not isinstance(value, dict) or set(value) - {"location", "status"}
                    or not isinstance(value.get("location"), str)
                    or "\r" in value["location"] or "\n" in value["location"]):
                raise RuleError(bad + "expected {\"location\": URL, \"status\": N}")
            status = value.get("status", 302)
            if not _is_int(status) or not 100 <= status <= 999:
                raise RuleError(bad + "bad status")
        elif kind == "range":
            if value not in RANGE_MODES:
                raise RuleError(bad + "expected one of " + ", ".join(RANGE_MODES))
        elif kind == "swap":
            if (not isinstance(value, dict) or set(value) - {"bytes", "with"}
                    or not _is_int(value.get("bytes")) or value["bytes"] < 0
                    or not isinstance(value.get("with"), str)):
                raise RuleError(bad + "expected {\"bytes\": N, \"with\": FILE}")
            if resolve_file(root, "/" + value["with"].lstrip("/")) is None:
                raise RuleError(bad + "no such file under the root: %r" % value["with"])
    if rules.get("once") and "count" in rules:
        raise RuleError("rules 'once' and 'count' exclude each other")
    if "chunked" in rules and not rules.get("endless"):
        raise RuleError("rule 'chunked' needs 'endless'")


def resolve_file(root, urlpath):
    """Maps a URL path to a regular file under root, or None."""
    path = urllib.parse.unquote(urlpath)
    if "\0" in path:
        return None
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return None
    full = os.path.realpath(os.path.join(root, *parts))
    if full != root and not full.startswith(root + os.sep):
        return None
    if not os.path.isfile(full):
        return None
    return full


def quote_etag(value):
    if value.startswith('"') or value.startswith("W/"):
        return value
    return '"%s"' % value


def etag_list_matches(header, etag, weak):
    """If-None-Match (weak) / If-Range (strong) comparison."""
    header = header.strip()
    if header == "*":
        return True
    if etag is None:
        return False

    def opaque(tag):
        tag = tag.strip()
        return tag[2:] if tag.startswith("W/") else tag

    for tag in header.split(","):
        tag = tag.strip()
        if weak:
            if opaque(tag) == opaque(etag):
                return True
        elif tag == etag and not tag.startswith("W/"):
            return True
    return False


def parse_http_date(value):
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    return parsed.timestamp()


def parse_range(header, size):
    """Returns (start, end) inclusive, "unsatisfiable", or None (ignore)."""
    header = header.strip()
    if not header.lower().startswith("bytes="):
        return None
    spec = header[6:].strip()
    if "," in spec or "-" not in spec:
        return None
    first, last = (s.strip() for s in spec.split("-", 1))
    if not first:
        if not last.isdigit():
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            return "unsatisfiable"
        return (max(0, size - suffix), size - 1)
    if not first.isdigit() or (last and not last.isdigit()):
        return None
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        return "unsatisfiable"
    return (start, min(end, size - 1))


class Source:
    """What a response body is made of: a file or bytes in memory."""

    def __init__(self, path=None, data=None, etag_cache=None):
        self.path = path
        self.data = data
        if path is not None:
            st = os.stat(path)
            self.size = st.st_size
            self.mtime = int(st.st_mtime)
            self.etag = etag_cache.get(path, st)
            self.content_type = (mimetypes.guess_type(path)[0]
                                 or "application/octet-stream")
        else:
            self.size = len(data)
            self.mtime = None
            self.etag = '"%s"' % hashlib.sha256(data).hexdigest()[:32]
            text = data.lstrip()[:1]
            self.content_type = ("text/html; charset=utf-8" if text == b"<"
                                 else "text/plain; charset=utf-8")

    def chunks(self, start, length):
        if self.data is not None:
            for off in range(start, start + length, CHUNK_SIZE):
                yield self.data[off:min(off + CHUNK_SIZE, start + length)]
            return
        with open(self.path, "rb") as f:
            f.seek(start)
            left = length
            while left > 0:
                block = f.read(min(CHUNK_SIZE, left))
                if not block:
                    return
                left -= len(block)
                yield block


class EtagCache:
    def __init__(self):
        self.lock = threading.Lock()
        self.cache = {}

    def get(self, path, st):
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        with self.lock:
            hit = self.cache.get(path)
            if hit and hit[0] == key:
                return hit[1]
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        etag = '"%s"' % digest.hexdigest()[:32]
        with self.lock:
            self.cache[path] = (key, etag)
        return etag


def write_json_atomic(path, obj):
    tmp = "%s.tmp.%d.%d" % (path, os.getpid(), threading.get_ident())
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


class Stats:
    """Counters and the request log, safe across handler threads."""

    def __init__(self, stats_file):
        self.lock = threading.Lock()
        self.file_lock = threading.Lock()
        self.stats_file = stats_file
        self.generation = 0
        self.reset()

    def reset(self):
        with self.lock:
            self.generation += 1
            self.data = {
                "connections": 0,
                "data_connections": 0,
                "tls_handshake_failures": 0,
                "requests": 0,
                "bytes_sent": 0,
                "control_requests": 0,
                "paths": {},
            }
        self.flush()

    def connection(self):
        with self.lock:
            self.data["connections"] += 1
            conn_id = self.data["connections"]
        self.flush()
        return conn_id

    def handshake_failed(self):
        with self.lock:
            self.data["tls_handshake_failures"] += 1
        self.flush()

    def control(self):
        with self.lock:
            self.data["control_requests"] += 1

    def begin(self, conn, path, method, headers, ruled):
        with self.lock:
            if conn.counted_generation != self.generation:
                conn.counted_generation = self.generation
                self.data["data_connections"] += 1
            self.data["requests"] += 1
            entry = self.data["paths"].setdefault(
                path, {"count": 0, "bytes_sent": 0, "dropped": 0, "requests": []})
            entry["count"] += 1
            hdrs = {}
            for name, value in headers.items():
                hdrs[name] = hdrs[name] + ", " + value if name in hdrs else value
            rec = {"method": method, "status": None, "bytes_sent": 0,
                   "connection": conn.conn_id, "rule": ruled, "headers": hdrs,
                   "time": round(time.time(), 3)}
            entry["requests"].append(rec)
            if len(entry["requests"]) > MAX_LOG_PER_PATH:
                entry["requests"].pop(0)
                entry["dropped"] += 1
            return (self.generation, entry, rec)

    def status(self, handle, code):
        with self.lock:
            handle[2]["status"] = code

    def sent(self, handle, nbytes):
        with self.lock:
            if handle[0] != self.generation:
                return
            handle[1]["bytes_sent"] += nbytes
            handle[2]["bytes_sent"] += nbytes
            self.data["bytes_sent"] += nbytes

    def snapshot(self):
        with self.lock:
            return json.loads(json.dumps(self.data))

    def flush(self):
        if not self.stats_file:
            return
        snap = self.snapshot()
        with self.file_lock:
            write_json_atomic(self.stats_file, snap)


class Fixture:
    """Server-wide state: root, rules, swaps, stats, the stop event."""

    def __init__(self, args, stop):
        self.root = os.path.realpath(args.root)
        self.stop = stop
        self.idle_timeout = args.idle_timeout
        self.quiet = args.quiet
        self.tls = args.tls_cert is not None
        self.ssl_ctx = None
        self.lock = threading.Lock()
        self.rules = {}          # path -> [{"rules": {...}, "left": N|None}]
        self.swapped = {}        # path -> file name under root
        self.stats = Stats(args.stats_file)
        self.etags = EtagCache()
        self.random_block = os.urandom(RANDOM_BLOCK_SIZE)
        self.abortive = set()    # sockets to close with an RST
        self.abortive_lock = threading.Lock()

    def wait(self, seconds):
        """Sleeps; True when the server is stopping."""
        return self.stop.wait(max(0.0, seconds))

    def check_rules(self, path, rules):
        if not isinstance(path, str) or not path.startswith("/"):
            raise RuleError("'path' must be a string starting with '/'")
        if path.startswith(CONTROL_PREFIX):
            raise RuleError("rules cannot apply to the control API")
        if rules is not None:
            validate_rules(rules, self.root)

    def set_rules(self, path, rules, append):
        """Replaces (or appends to) the rule queue of path; None clears."""
        self.check_rules(path, rules)
        with self.lock:
            if rules is None or (not rules and not append):
                self.rules.pop(path, None)
                return
            left = 1 if rules.get("once") else rules.get("count")
            entry = {"rules": rules, "left": left}
            if append:
                self.rules.setdefault(path, []).append(entry)
            else:
                self.rules[path] = [entry]

    def load_rules(self, obj):
        if isinstance(obj, dict) and "path" not in obj:
            items = [{"path": p, "rules": r} for p, r in obj.items()]
        elif isinstance(obj, dict):
            items = [obj]
        elif isinstance(obj, list):
            items = obj
        else:
            raise RuleError("expected a rule object or a list of them")
        # all or nothing: check every entry before the first takes effect
        for item in items:
            if not isinstance(item, dict) or set(item) - {"path", "rules", "append"}:
                raise RuleError("a rule entry has the keys path, rules, append")
            if not isinstance(item.get("append", False), bool):
                raise RuleError("'append' must be true or false")
            self.check_rules(item.get("path"), item.get("rules"))
        for item in items:
            self.set_rules(item["path"], item.get("rules"), item.get("append", False))

    def take_rules(self, path):
        with self.lock:
            queue = self.rules.get(path)
            if not queue:
                return None
            entry = queue[0]
            if entry["left"] is not None:
                entry["left"] -= 1
                if entry["left"] <= 0:
                    queue.pop(0)
                    if not queue:
                        del self.rules[path]
            return entry["rules"]

    def dump_rules(self):
        with self.lock:
            return json.loads(json.dumps(self.rules))

    def reset(self, keep_rules, keep_stats):
        with self.lock:
            if not keep_rules:
                self.rules.clear()
                self.swapped.clear()
        if not keep_stats:
            self.stats.reset()

    def source_for(self, path):
        with self.lock:
            swapped = self.swapped.get(path)
        if swapped is not None:
            path = "/" + swapped.lstrip("/")
        full = resolve_file(self.root, path)
        if full is None:
            return None
        try:
            return Source(path=full, etag_cache=self.etags)
        except OSError:
            return None

    def swap(self, path, other):
        with self.lock:
            self.swapped.setdefault(path, other)


class Connection:
    def __init__(self, conn_id):
        self.conn_id = conn_id
        self.counted_generation = None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "secfu-fixture/1"

    def version_string(self):
        return self.server_version

    def setup(self):
        self.fx = self.server.fx
        self.timeout = self.fx.idle_timeout
        super().setup()
        self.conn = Connection(self.fx.stats.connection())

    def handle(self):
        if self.fx.tls:
            try:
                self.connection.do_handshake()
            except (OSError, ValueError) as e:
                self.fx.stats.handshake_failed()
                self.log_message("TLS handshake failed: %s", e)
                self.close_connection = True
                return
        try:
            super().handle()
        except OSError as e:
            # the peer went away or a write timed out: nothing to answer
            self.log_message("connection ended: %s", e)
            self.close_connection = True

    def log_message(self, format, *args):
        if not self.fx.quiet:
            conn_id = self.conn.conn_id if hasattr(self, "conn") else 0
            sys.stderr.write("fixture[%d] %s\n" % (conn_id, format % args))

    # Every method goes through one dispatcher.
    def do_GET(self):
        self.dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = do_GET

    def dispatch(self):
        path = urllib.parse.urlsplit(self.path).path or "/"
        if path.startswith(CONTROL_PREFIX):
            self.control(path[len(CONTROL_PREFIX):])
            return
        self.drain_body()
        self.serve(path)

    def body_length(self):
        """The request's Content-Length (0 without one), or None when it is
        not a number from 0 to MAX_CONTROL_BODY."""
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return None
        return length if 0 <= length <= MAX_CONTROL_BODY else None

    def drain_body(self):
        """Reads a request body nobody needs, or gives up the connection."""
        if self.headers.get("Content-Length") is None:
            if self.headers.get("Transfer-Encoding"):
                self.close_connection = True
            return
        length = self.body_length()
        if length is None:
            self.close_connection = True
            return
        self.rfile.read(length)

    # ------------------------------------------------------------- control
    def control(self, name):
        self.fx.stats.control()
        length = self.body_length()
        if length is None:
            self.close_connection = True
            self.reply_json(413, {"error": "control request body too large or bad length"})
            return
        body = self.rfile.read(length)
        try:
            obj = json.loads(body.decode("utf-8")) if body.strip() else None
        except (UnicodeDecodeError, ValueError) as e:
            self.reply_json(400, {"error": "bad JSON: %s" % e})
            return
        cmd = (self.command, name)
        try:
            if cmd == ("GET", "ping"):
                self.reply_json(200, {"ok": True})
            elif cmd == ("GET", "stats"):
                self.reply_json(200, self.fx.stats.snapshot())
            elif cmd == ("GET", "rules"):
                self.reply_json(200, self.fx.dump_rules())
            elif cmd == ("POST", "rules"):
                if obj is None:
                    raise RuleError("expected a JSON body")
                self.fx.load_rules(obj)
                self.reply_json(200, {"ok": True})
            elif cmd == ("POST", "reset"):
                obj = obj or {}
                if not isinstance(obj, dict) or set(obj) - {"keep_rules", "keep_stats"}:
                    raise RuleError("reset takes {keep_rules, keep_stats}")
                self.fx.reset(bool(obj.get("keep_rules")), bool(obj.get("keep_stats")))
                self.reply_json(200, {"ok": True})
            else:
                self.reply_json(404, {"error": "no control endpoint %s %s" % cmd})
        except RuleError as e:
            self.reply_json(400, {"error": str(e)})

    def reply_json(self, code, obj):
        indent = 1 if code == 200 else None     # errors: one line
        data = (json.dumps(obj, indent=indent, sort_keys=True) + "\n").encode()
        self.send_response_only(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    # ------------------------------------------------------------- serving
    def serve(self, path):
        fx = self.fx
        rules = fx.take_rules(path) or {}
        self.path_key = path
        self.handle_ = fx.stats.begin(self.conn, path, self.command, self.headers, bool(rules))
        self.bytes_sent = 0
        try:
            self.serve_rules(path, rules)
        finally:
            self.log_message('"%s %s" %s %d%s', self.command, self.path,
                             self.handle_[2]["status"], self.bytes_sent,
                             " rule=" + json.dumps(rules, sort_keys=True) if rules else "")
            fx.stats.flush()

    def serve_rules(self, path, rules):
        fx = self.fx
        if rules.get("stall_before_headers"):
            self.close_connection = True
            fx.wait(rules.get("stall", DEFAULT_STALL))
            return
        if rules.get("delay") and fx.wait(rules["delay"]):
            self.close_connection = True
            return
        if self.command not in ("GET", "HEAD"):
            body = b"method not allowed\n"
            self.head(405, [("Content-Type", "text/plain"), ("Allow", "GET, HEAD"),
                            ("Content-Length", str(len(body)))], rules)
            self.body_out(Source(data=body).chunks(0, len(body)), rules, False)
            return
        redirect = rules.get("redirect")
        if redirect is not None:
            self.head(redirect.get("status", 302),
                      [("Location", redirect["location"]), ("Content-Length", "0")], rules)
            return
        if rules.get("endless"):
            self.serve_endless(rules)
            return

        status = rules.get("status")
        generated = False
        if "body" in rules:
            src = Source(data=rules["body"].encode("utf-8"))
        else:
            src = fx.source_for(path)
            if src is not None and status is not None and not 200 <= status <= 299:
                src = None
            if src is None:
                if status is None:
                    status = 404
                reason = self.responses.get(status, ("",))[0]
                generated = True
                src = Source(data=("%d %s\n" % (status, reason)).encode())
        etag = quote_etag(rules["etag"]) if "etag" in rules else src.etag
        if generated and "etag" not in rules:
            etag = None
        lastmod = src.mtime

        headers = [("Content-Type", src.content_type), ("Accept-Ranges", "bytes")]
        if etag is not None:
            headers.append(("ETag", etag))
        if lastmod is not None:
            headers.append(("Last-Modified", email.utils.formatdate(lastmod, usegmt=True)))

        start, length = 0, src.size
        if status is None:
            status = 200
            if self.not_modified(etag, lastmod):
                self.head(304, headers[2:], rules)
                return
            mode = rules.get("range", "honour")
            rng = self.headers.get("Range")
            if rng is not None and not self.if_range_holds(etag, lastmod):
                rng = None
            parsed = parse_range(rng, src.size) if rng is not None else None
            if mode == "honour" and parsed == "unsatisfiable":
                body = b"416 Range Not Satisfiable\n"
                self.head(416, [("Content-Type", "text/plain"),
                                ("Content-Range", "bytes */%d" % src.size),
                                ("Content-Length", str(len(body)))] + headers[1:], rules)
                self.body_out(Source(data=body).chunks(0, len(body)), rules, False)
                return
            if mode == "honour" and parsed is not None:
                status, start, length = 206, parsed[0], parsed[1] - parsed[0] + 1
            elif mode == "wrong" and src.size > 0:
                # a 206 for another range than the one asked for (or for
                # one nobody asked for); Content-Range tells the truth
                asked = parsed[0] if isinstance(parsed, tuple) else 0
                wrong = 0 if asked > 0 else min(1, src.size - 1)
                status, start, length = 206, wrong, src.size - wrong
            if status == 206:
                headers.append(("Content-Range", "bytes %d-%d/%d" % (start, start + length - 1,
                                                                      src.size)))
        no_body = status in (204, 304) or status < 200
        if not no_body:
            advertised = rules.get("content_length_lie", length)
            headers.insert(1, ("Content-Length", str(advertised)))
        if "content_length_lie" in rules:
            self.close_connection = True
        self.head(status, headers, rules)
        if no_body or self.command == "HEAD":
            return
        self.body_out(src.chunks(start, length), rules, False)

    def serve_endless(self, rules):
        chunked = rules.get("chunked", True)
        status = rules.get("status", 200)
        headers = [("Content-Type", "application/octet-stream")]
        if chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        else:
            headers.append(("Connection", "close"))
        if "content_length_lie" in rules:
            headers.append(("Content-Length", str(rules["content_length_lie"])))
        if "etag" in rules:
            headers.append(("ETag", quote_etag(rules["etag"])))
        self.close_connection = True
        self.head(status, headers, rules)
        if self.command == "HEAD":
            return

        def forever():
            while not self.fx.stop.is_set():
                yield self.fx.random_block
        self.body_out(forever(), rules, chunked)

    def not_modified(self, etag, lastmod):
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            return etag_list_matches(inm, etag, weak=True)
        ims = self.headers.get("If-Modified-Since")
        if ims is not None and lastmod is not None:
            when = parse_http_date(ims)
            return when is not None and lastmod <= when
        return False

    def if_range_holds(self, etag, lastmod):
        cond = self.headers.get("If-Range")
        if cond is None:
            return True
        cond = cond.strip()
        if cond.startswith('"') or cond.startswith("W/"):
            return etag_list_matches(cond, etag, weak=False)
        when = parse_http_date(cond)
        return when is not None and lastmod is not None and int(when) == lastmod

    def head(self, status, headers, rules):
        """Sends the status line and headers, with the rules' changes."""
        headers = list(headers)
        if "retry_after" in rules:
            headers.append(("Retry-After", str(rules["retry_after"])))
        for name, value in rules.get("headers", {}).items():
            headers = [h for h in headers if h[0].lower() != name.lower()]
            for v in (value if isinstance(value, list) else [value]):
                if v is not None:
                    headers.append((name, str(v)))
        self.fx.stats.status(self.handle_, status)
        self.send_response_only(status)
        self.send_header("Server", self.version_string())
        self.send_header("Date", self.date_time_string())
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()

    def body_out(self, chunks, rules, chunked):
        """Writes a body, applying cut, drip, stall and swap rules."""
        fx = self.fx
        cuts = [(rules[k], k) for k in ("truncate_at", "reset_at", "stall_after") if k in rules]
        cut = min(cuts) if cuts else None
        drip = rules.get("drip")
        piece = drip["bytes"] if drip else CHUNK_SIZE
        swap = rules.get("swap_after")
        sent = 0

        def check_swap():
            if swap is not None and sent >= swap["bytes"]:
                fx.swap(self.path_key, swap["with"])

        check_swap()
        if cut is not None and cut[0] == 0:
            self.cut(cut[1], rules)
            return
        first = True
        for chunk in chunks:
            pos = 0
            while pos < len(chunk):
                if drip and not first and fx.wait(drip.get("interval", 0)):
                    self.close_connection = True
                    return
                first = False
                n = min(piece, len(chunk) - pos)
                if cut is not None:
                    n = min(n, cut[0] - sent)
                data = chunk[pos:pos + n]
                if chunked:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                else:
                    self.wfile.write(data)
                pos += n
                sent += n
                self.bytes_sent = sent
                fx.stats.sent(self.handle_, n)
                check_swap()
                if cut is not None and sent >= cut[0]:
                    self.cut(cut[1], rules)
                    return
            if fx.stop.is_set():
                self.close_connection = True
                return
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def cut(self, kind, rules):
        self.close_connection = True
        sock = self.connection
        if kind == "truncate_at":
            if isinstance(sock, ssl.SSLSocket):
                # close_notify, then FIN (from shutdown_request)
                try:
                    sock.settimeout(1.0)
                    sock.unwrap()
                except (OSError, ValueError):
                    pass
        elif kind == "reset_at":
            self.fx.wait(RESET_PAUSE)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with self.fx.abortive_lock:
                self.fx.abortive.add(sock)
        else:
            self.fx.wait(rules.get("stall", DEFAULT_STALL))


class FixtureHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 64

    def server_bind(self):
        # no reverse lookup of the address (HTTPServer.server_bind does one)
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.server_address[0]
        self.server_port = self.server_address[1]

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.fx.ssl_ctx is not None:
            try:
                sock = self.fx.ssl_ctx.wrap_socket(sock, server_side=True,
                                                   do_handshake_on_connect=False)
            except (OSError, ValueError):
                sock.close()
                raise OSError("TLS wrap failed")
        return sock, addr

    def shutdown_request(self, request):
        with self.fx.abortive_lock:
            abortive = request in self.fx.abortive
            self.fx.abortive.discard(request)
        if abortive:
            request.close()          # SO_LINGER 0: the kernel sends an RST
        else:
            super().shutdown_request(request)

    def handle_error(self, request, client_address):
        if not self.fx.quiet:
            super().handle_error(request, client_address)


def printable(data):
    line = data.split(b"\n", 1)[0].rstrip(b"\r")[:200]
    return "".join(chr(b) if 32 <= b < 127 else "?" for b in line)


def run_canary(args, stop):
    """Counts connections; never speaks HTTP."""
    lock = threading.Lock()
    stats = {"mode": "canary", "connections": 0, "first_lines": []}

    def flush():
        with lock:
            snap = json.loads(json.dumps(stats))
            write_json_atomic(args.stats_file, snap)

    def peek(conn):
        try:
            conn.settimeout(1.0)
            data = b""
            deadline = time.monotonic() + 1.0
            while b"\n" not in data and len(data) < MAX_CANARY_PEEK \
                    and time.monotonic() < deadline:
                block = conn.recv(MAX_CANARY_PEEK - len(data))
                if not block:
                    break
                data += block
        except OSError:
            pass
        finally:
            conn.close()
        if data:
            with lock:
                if len(stats["first_lines"]) < MAX_CANARY_LOG:
                    stats["first_lines"].append(printable(data))
            flush()

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.bind, args.port))
    listener.listen(64)
    listener.settimeout(0.2)
    flush()
    write_port_file(args.port_file, listener.getsockname()[1])
    deadline = time.monotonic() + args.lifetime
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        except OSError:
            if stop.is_set():
                break
            continue
        with lock:
            stats["connections"] += 1
        flush()
        threading.Thread(target=peek, args=(conn,), daemon=True).start()
    listener.close()
    flush()
    return 0


def write_port_file(path, port):
    if path:
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, path)
    else:
        print(port, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="fixture-server.py",
        description="Misbehaving HTTP(S) fixture server for secfud tests (127.0.0.1 only).")
    p.add_argument("--root", default=".", help="directory served")
    p.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    p.add_argument("--port-file", help="write the chosen port here (else stdout)")
    p.add_argument("--bind", default="127.0.0.1", help="must be 127.0.0.1")
    p.add_argument("--rules", help="JSON file with rules to load at start")
    p.add_argument("--tls-cert", help="PEM certificate (chain): serve HTTPS")
    p.add_argument("--tls-key", help="PEM private key for --tls-cert")
    p.add_argument("--canary", action="store_true",
                   help="no HTTP: count connections into --stats-file")
    p.add_argument("--stats-file", help="rewrite the stats to this file")
    p.add_argument("--lifetime", type=float, default=DEFAULT_LIFETIME,
                   help="exit after this many seconds (default %(default)s)")
    p.add_argument("--idle-timeout", type=float, default=DEFAULT_IDLE_TIMEOUT,
                   help="socket timeout per connection (default %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no request log on stderr")
    args = p.parse_args(argv)
    if args.bind != "127.0.0.1":
        p.error("--bind: only 127.0.0.1 is allowed")
    if not 0 <= args.port <= 65535:
        p.error("--port: out of range")
    if args.lifetime <= 0 or args.idle_timeout <= 0:
        p.error("--lifetime and --idle-timeout must be positive")
    if (args.tls_cert is None) != (args.tls_key is None):
        p.error("--tls-cert and --tls-key go together")
    if args.canary:
        if not args.stats_file:
            p.error("--canary needs --stats-file")
        if args.tls_cert or args.rules:
            p.error("--canary takes no --tls-cert or --rules")
    elif not os.path.isdir(args.root):
        p.error("--root: not a directory: %s" % args.root)
    return args


def serve_main(argv):
    args = parse_args(argv)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if args.canary:
        return run_canary(args, stop)

    fx = Fixture(args, stop)
    if args.rules:
        try:
            with open(args.rules) as f:
                fx.load_rules(json.load(f))
        except (OSError, ValueError) as e:
            print("fixture-server.py: --rules %s: %s" % (args.rules, e), file=sys.stderr)
            return 2
    if fx.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            ctx.load_cert_chain(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as e:
            print("fixture-server.py: TLS: %s" % e, file=sys.stderr)
            return 2
        fx.ssl_ctx = ctx

    server = FixtureHTTPServer((args.bind, args.port), Handler, bind_and_activate=False)
    server.fx = fx
    try:
        server.server_bind()
        server.server_activate()
    except OSError as e:
        server.server_close()
        print("fixture-server.py: cannot listen on %s:%d: %s" % (args.bind, args.port, e),
              file=sys.stderr)
        return 2
    write_port_file(args.port_file, server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              daemon=True)
    thread.start()
    if not stop.wait(args.lifetime):
        print("fixture-server.py: lifetime of %gs is over, exiting" % args.lifetime,
              file=sys.stderr)
        stop.set()
    server.shutdown()
    server.server_close()
    fx.stats.flush()
    return 0


# ------------------------------------------------------------------- client
def ctl_main(argv):
    """Client of the control API, for shell scripts.

    ctl [--port P] [--tls] [--stats-file F] [--timeout S] COMMAND ...
      rule PATH JSON [--append]   set (or append) the rules of PATH
      clear PATH                  drop the rules of PATH
      reset [JSON]                POST /_fixture/reset
      stats                       print the stats JSON
      rules                       print the rules JSON
      stat [--default V] KEY...   print one value of the stats (a list
                                  takes an index, -1 = last; header names
                                  match case-insensitively)
    With --stats-file the stats come from that file (canary mode).
    """
    p = argparse.ArgumentParser(prog="fixture-server.py ctl")
    p.add_argument("--port", type=int)
    p.add_argument("--tls", action="store_true")
    p.add_argument("--stats-file")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("command", choices=("rule", "clear", "reset", "stats", "rules", "stat"))
    p.add_argument("words", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)

    def call(method, name, obj=None):
        if args.port is None:
            p.error("--port is needed")
        if args.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE      # our own test server
            conn = http.client.HTTPSConnection("127.0.0.1", args.port,
                                               timeout=args.timeout, context=ctx)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=args.timeout)
        body = json.dumps(obj).encode() if obj is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, CONTROL_PREFIX + name, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read(MAX_CONTROL_BODY * 64)
        conn.close()
        reply = json.loads(data.decode())
        if resp.status != 200:
            raise RuleError(reply.get("error", "HTTP %d" % resp.status))
        return reply

    def parse_json(text):
        try:
            return json.loads(text)
        except ValueError as e:
            raise RuleError("bad JSON argument %r: %s" % (text, e))

    words = args.words
    try:
        if args.command == "rule":
            append = "--append" in words
            words = [w for w in words if w != "--append"]
            if len(words) != 2:
                p.error("rule PATH JSON [--append]")
            call("POST", "rules", {"path": words[0], "rules": parse_json(words[1]),
                                   "append": append})
        elif args.command == "clear":
            if len(words) != 1:
                p.error("clear PATH")
            call("POST", "rules", {"path": words[0], "rules": None})
        elif args.command == "reset":
            call("POST", "reset", parse_json(words[0]) if words else {})
        elif args.command in ("stats", "rules"):
            if args.command == "stats" and args.stats_file:
                with open(args.stats_file) as f:
                    print(f.read(), end="")
            else:
                print(json.dumps(call("GET", args.command), indent=1, sort_keys=True))
        elif args.command == "stat":
            default = None
            if words[:1] == ["--default"] and len(words) >= 2:
                default, words = words[1], words[2:]
            if args.stats_file:
                with open(args.stats_file) as f:
                    value = json.load(f)
            else:
                value = call("GET", "stats")
            for key in words:
                if isinstance(value, list):
                    try:
                        value = value[int(key)]
                    except (ValueError, IndexError):
                        value = None
                elif isinstance(value, dict):
                    if key in value:
                        value = value[key]
                    else:
                        low = {k.lower(): v for k, v in value.items()}
                        value = low.get(key.lower())
                else:
                    value = None
                if value is None:
                    break
            if value is None:
                if default is None:
                    return 1
                value = default
            if isinstance(value, bool):
                print("true" if value else "false")
            elif isinstance(value, (str, int, float)):
                print(value)
            else:
                print(json.dumps(value, sort_keys=True))
    except (OSError, ValueError, http.client.HTTPException) as e:
        print("fixture-server.py ctl: %s" % e, file=sys.stderr)
        return 1
    return 0


def main(argv):
    if argv[:1] == ["ctl"]:
        return ctl_main(argv[1:])
    return serve_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
