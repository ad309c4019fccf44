"""A loopback HTTP proxy that misbehaves on purpose, like a flaky hospital network.

Sits between the client and a real service and, per request, as a *plan* decides: pass it on,
reset the connection half-way through the body, answer 500 / 503 / 429 (with Retry-After)
without forwarding, stall until the client gives up (after the whole body, or half-way
through it, leaving the client blocked with the rest in flight), or forward the request and then reset
instead of returning the answer (the server did the work, the client never heard: the case
that catches non-idempotent retries).

It speaks just enough HTTP/1.1 for that: requests must carry ``Content-Length`` (the app never
sends chunked bodies); each forwarded request uses a fresh upstream connection and the answer
ends the client connection.
"""

from __future__ import annotations

import enum
import random
import socket
import socketserver
import struct
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass


class Fault(enum.Enum):
    PASS = "pass"
    RESET_MID_BODY = "reset-mid-body"
    DROP_RESPONSE = "drop-response"
    STATUS_500 = "500"
    STATUS_503 = "503"
    STATUS_429 = "429"
    STALL = "stall"
    STALL_MID_BODY = "stall-mid-body"


#: The faults random plans draw from (stalling mid-body is for scripted plans: the crash tests).
ALL_FAULTS = tuple(f for f in Fault if f not in (Fault.PASS, Fault.STALL_MID_BODY))


@dataclass(frozen=True)
class RequestHead:
    method: str
    path: str
    headers: dict[str, str]

    @property
    def content_length(self) -> int:
        return int(self.headers.get("content-length", "0") or 0)


Plan = Callable[[RequestHead], Fault]


def random_plan(seed: int, rate: float, faults: Iterable[Fault] = ALL_FAULTS,
                only: Callable[[RequestHead], bool] = lambda head: True) -> Plan:
    """Each request matching ``only`` meets a random fault with probability ``rate``."""
    rng = random.Random(seed)
    choices = tuple(faults)
    lock = threading.Lock()

    def plan(head: RequestHead) -> Fault:
        if not only(head):
            return Fault.PASS
        with lock:
            return rng.choice(choices) if rng.random() < rate else Fault.PASS

    return plan


def scripted_plan(faults: Iterable[Fault]) -> Plan:
    """The given faults in order, one per request, then PASS for ever."""
    queue = list(faults)
    lock = threading.Lock()

    def plan(head: RequestHead) -> Fault:
        with lock:
            return queue.pop(0) if queue else Fault.PASS

    return plan


_REASONS = {Fault.STATUS_500: (500, "Internal Server Error"),
            Fault.STATUS_503: (503, "Service Unavailable"),
            Fault.STATUS_429: (429, "Too Many Requests")}


class FaultProxy:
    """``with FaultProxy(("127.0.0.1", port), plan) as proxy: ... proxy.url ...``"""

    def __init__(self, upstream: tuple[str, int], plan: Plan, *, retry_after: int = 1,
                 stall_seconds: float = 30.0) -> None:
        self.upstream = upstream
        self.plan = plan
        self.retry_after = retry_after
        self.stall_seconds = stall_seconds
        self.applied: Counter[Fault] = Counter()
        #: Set once a request is stalled half-way through its body.
        self.stalled_mid_body = threading.Event()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def faults_applied(self) -> int:
        with self._lock:
            return sum(n for fault, n in self.applied.items() if fault is not Fault.PASS)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def _serve(self, client: socket.socket) -> None:
        reader = client.makefile("rb")
        try:
            while not self._stopping.is_set():
                head_bytes = _read_head(reader)
                if head_bytes is None:
                    return
                head = _parse_head(head_bytes)
                fault = self.plan(head)
                with self._lock:
                    self.applied[fault] += 1
                if not self._apply(fault, client, reader, head, head_bytes):
                    return
        except OSError:
            return
        finally:
            reader.close()
            client.close()

    def _apply(self, fault: Fault, client: socket.socket, reader, head: RequestHead,
               head_bytes: bytes) -> bool:
        """Handle one request; True when the client connection may carry another."""
        length = head.content_length
        if fault is Fault.RESET_MID_BODY:
            reader.read(length // 2)
            _reset(client)
            return False
        if fault in _REASONS:
            _drain(reader, length)
            status, reason = _REASONS[fault]
            body = b'{"detail": "Injected fault.", "code": "fault"}'
            extra = f"Retry-After: {self.retry_after}\r\n" if fault is Fault.STATUS_429 else ""
            client.sendall((f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                            f"Content-Length: {len(body)}\r\n{extra}\r\n").encode() + body)
            return True
        if fault is Fault.STALL:
            _drain(reader, length)
            self._stopping.wait(self.stall_seconds)
            return False
        if fault is Fault.STALL_MID_BODY:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)  # no autotuning:
            _drain(reader, length // 2)  # the rest backs up into the client, as on a dead link
            self.stalled_mid_body.set()
            self._stopping.wait(self.stall_seconds)
            return False
        answer = self._forward(reader, head_bytes, length)
        if fault is Fault.DROP_RESPONSE:
            _reset(client)
            return False
        client.sendall(answer)
        return False

    def _forward(self, reader, head_bytes: bytes, length: int) -> bytes:
        lines = head_bytes.decode("latin-1").split("\r\n")
        kept = [line for line in lines[1:] if line and not line.lower().startswith("connection:")]
        request_head = "\r\n".join([lines[0], *kept, "Connection: close", "", ""]).encode("latin-1")
        with socket.create_connection(self.upstream, timeout=120) as upstream:
            upstream.sendall(request_head)
            left = length
            while left > 0:
                chunk = reader.read(min(left, 1 << 20))
                if not chunk:
                    raise OSError("client went away mid-body")
                upstream.sendall(chunk)
                left -= len(chunk)
            chunks = []
            while data := upstream.recv(1 << 20):
                chunks.append(data)
        answer = b"".join(chunks)
        head, _, body = answer.partition(b"\r\n\r\n")
        head_lines = [h for h in head.split(b"\r\n") if not h.lower().startswith(b"connection:")]
        return b"\r\n".join([*head_lines, b"Connection: close"]) + b"\r\n\r\n" + body


def _read_head(reader) -> bytes | None:
    lines: list[bytes] = []
    while True:
        line = reader.readline(65537)
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            return b"".join(lines) if lines else None
        lines.append(line)


def _parse_head(raw: bytes) -> RequestHead:
    lines = raw.decode("latin-1").split("\r\n")
    method, path, _ = [*lines[0].split(" ", 2), "", ""][:3]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return RequestHead(method, path, headers)


def _drain(reader, length: int) -> None:
    left = length
    while left > 0:
        chunk = reader.read(min(left, 1 << 20))
        if not chunk:
            raise OSError("client went away mid-body")
        left -= len(chunk)


def _reset(sock: socket.socket) -> None:
    """Close with RST rather than FIN, as a dropped link or a firewall does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
