"""The client side of Siphon's control protocol (docs/protocol.md) over one stream socket.

A reader thread splits the stream into lines, completes waiting calls by id and hands events
to a callback in arrival order. Calls from many threads share the stream. The socket is
non-blocking and every operation on it is made under one lock, since an ssl.SSLSocket must not
be read and written by two threads at once; waits happen outside the lock, with deadlines.
"""

import itertools
import json
import select
import socket
import ssl
import threading
import time

from . import constants as c
from .errors import error, from_reply

MAX_MESSAGE = 1 << 20
POLL_SECONDS = 0.5

# commands allowed on a read-only connection: the Java protocol's Command.Query records (a test there
# compares this set with them)
QUERIES = frozenset(
    (
        "qmp_capabilities",
        "version",
        "domain-list",
        "domain-info",
        "domain-disks",
        "domain-xml-desc",
        "block-info",
        "block-stats",
        "block-job-info",
    )
)


class _Pending:
    __slots__ = ("done", "value", "failure")

    def __init__(self):
        self.done = threading.Event()
        self.value = None
        self.failure = None


class Session:
    """One open control connection; ``on_event(name, data)`` and ``on_close(reason)`` run on the reader thread."""

    def __init__(self, sock, peer: str, read_only: bool, timeout: float, on_event, on_close):
        self._sock = sock
        self._peer = peer
        self._timeout = timeout
        self._on_event = on_event
        self._on_close = on_close
        self._io = threading.Lock()
        self._send_lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}
        self._pending_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._buffer = bytearray()
        self._closed = False
        self._closed_by_client = False
        self._close_reason = None
        self._why = "connection to %s is closed" % peer
        sock.setblocking(False)
        greeting = self._read_greeting(time.monotonic() + timeout)
        # on the daemon's read-only socket the daemon itself refuses what changes something
        self.read_only = read_only
        self.server_read_only = "read-only" in (greeting.get("capabilities") or [])
        self._reader = threading.Thread(target=self._read_loop, name="siphon-reader", daemon=True)
        self._reader.start()

    @property
    def peer(self) -> str:
        return self._peer

    @property
    def timeout(self) -> float:
        return self._timeout

    def is_alive(self) -> bool:
        return not self._closed

    # --- socket operations, each under the lock, waiting outside it ---

    def _wait(self, want_write: bool, deadline: float | None) -> None:
        wait = POLL_SECONDS if deadline is None else min(POLL_SECONDS, max(0.0, deadline - time.monotonic()))
        try:
            if want_write:
                select.select([], [self._sock], [], wait)
            else:
                select.select([self._sock], [], [], wait)
        except (OSError, ValueError):
            pass  # the socket was closed meanwhile; the next operation says so

    def _recv(self, deadline: float | None) -> bytes:
        """Some bytes (b"" at end of stream); raises TimeoutError after ``deadline``."""
        while True:
            if self._closed and self._closed_by_client:
                return b""
            with self._io:
                try:
                    return self._sock.recv(65536)
                except (BlockingIOError, ssl.SSLWantReadError):
                    want_write = False
                except ssl.SSLWantWriteError:
                    want_write = True
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError()
            self._wait(want_write, deadline)

    def _send(self, data: bytes, deadline: float) -> None:
        # one line at a time, whole: a partial send must not let another thread's line in
        if not self._send_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise TimeoutError()
        try:
            self._send_all(memoryview(data), deadline)
        finally:
            self._send_lock.release()

    def _send_all(self, view: memoryview, deadline: float) -> None:
        while view:
            with self._io:
                try:
                    sent = self._sock.send(view)
                    view = view[sent:]
                    continue
                except (BlockingIOError, ssl.SSLWantWriteError):
                    want_write = True
                except ssl.SSLWantReadError:
                    want_write = False
            if time.monotonic() >= deadline:
                raise TimeoutError()
            self._wait(want_write, deadline)

    def _next_line(self, deadline: float | None) -> bytes | None:
        """The next message line without its LF, or None at end of stream."""
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end]).rstrip(b"\r")
                del self._buffer[: end + 1]
                if line.strip():
                    return line
                continue
            if len(self._buffer) > MAX_MESSAGE + 1:
                raise ValueError("a message from %s exceeds %d bytes" % (self._peer, MAX_MESSAGE))
            chunk = self._recv(deadline)
            if not chunk:
                return None
            self._buffer += chunk

    def _read_greeting(self, deadline: float) -> dict:
        try:
            line = self._next_line(deadline)
        except TimeoutError:
            self._abort_socket()
            raise error(
                c.VIR_ERR_OPERATION_TIMEOUT, "%s sent no greeting within %g s" % (self._peer, self._timeout)
            ) from None
        except ssl.SSLError as e:
            self._abort_socket()
            raise error(c.VIR_ERR_AUTH_FAILED, "TLS session with %s refused: %s" % (self._peer, e)) from e
        except (OSError, ValueError) as e:
            self._abort_socket()
            raise error(c.VIR_ERR_SYSTEM_ERROR, "reading the greeting of %s: %s" % (self._peer, e)) from e
        message = _decode(line) if line is not None else None
        if not isinstance(message, dict) or not isinstance(message.get("QMP"), dict):
            self._abort_socket()
            raise error(c.VIR_ERR_RPC, "%s did not greet with a QMP greeting" % self._peer)
        return message["QMP"]

    # --- the reader thread ---

    def _read_loop(self) -> None:
        reason = c.VIR_CONNECT_CLOSE_REASON_EOF
        why = "connection closed by %s" % self._peer
        try:
            while True:
                line = self._next_line(None)
                if line is None:
                    break
                self._dispatch(line)
        except ConnectionResetError:
            pass  # the daemon went away with our request unread: an end of stream as well
        except (OSError, ValueError) as e:
            reason = c.VIR_CONNECT_CLOSE_REASON_ERROR
            why = "connection to %s failed: %s" % (self._peer, e)
        self._end(reason, why)

    def _dispatch(self, line: bytes) -> None:
        message = _decode(line)
        if not isinstance(message, dict):
            raise ValueError("%s sent a message that is not a JSON object" % self._peer)
        if "event" in message:
            data = message.get("data")
            self._on_event(message["event"], data if isinstance(data, dict) else {})
            return
        key = message.get("id")
        with self._pending_lock:
            waiting = self._pending.pop(key, None) if isinstance(key, int) else None
        if waiting is None:
            return  # a reply to a call that gave up waiting, or an id-less refusal
        failure = message.get("error")
        if isinstance(failure, dict):
            waiting.failure = from_reply(str(failure.get("class")), str(failure.get("desc")))
        elif "return" in message:
            waiting.value = message["return"]
        else:
            waiting.failure = error(c.VIR_ERR_RPC, "%s sent a reply with neither return nor error" % self._peer)
        waiting.done.set()

    def _end(self, reason: int, why: str) -> None:
        """Marks the session closed, fails every waiting call and reports the close once."""
        with self._pending_lock:
            if self._close_reason is not None:
                return
            self._closed = True
            self._close_reason = reason
            self._why = why
            waiting = list(self._pending.values())
            self._pending.clear()
        for call in waiting:
            call.failure = error(c.VIR_ERR_SYSTEM_ERROR, why)
            call.done.set()
        self._abort_socket()
        self._on_close(reason)

    # --- calls ---

    def call(self, command: str, arguments: dict | None = None, timeout: float | None = None):
        """The daemon's ``return`` value for ``command``; raises libvirtError on refusal, loss or timeout."""
        if self.read_only and command not in QUERIES:
            raise error(
                c.VIR_ERR_OPERATION_DENIED,
                "operation forbidden: '%s' is refused on a read-only connection" % command,
                "READ_ONLY",
            )
        limit = self._timeout if timeout is None else timeout
        key = next(self._ids)
        request = {"execute": command, "id": key}
        if arguments:
            request["arguments"] = arguments
        line = (json.dumps(request, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        waiting = _Pending()
        with self._pending_lock:
            if self._closed:
                raise error(c.VIR_ERR_SYSTEM_ERROR, self._why)
            self._pending[key] = waiting
        deadline = time.monotonic() + limit
        try:
            self._send(line, deadline)
        except TimeoutError:
            # part of a line may be on the wire: the stream is out of step, so it ends here
            self._end(c.VIR_CONNECT_CLOSE_REASON_ERROR, "sending '%s' to %s timed out" % (command, self._peer))
            raise error(
                c.VIR_ERR_OPERATION_TIMEOUT, "sending '%s' to %s took over %g s" % (command, self._peer, limit)
            ) from None
        except OSError as e:
            self._end(c.VIR_CONNECT_CLOSE_REASON_ERROR, "sending to %s: %s" % (self._peer, e))
            raise error(c.VIR_ERR_SYSTEM_ERROR, "sending '%s' to %s: %s" % (command, self._peer, e)) from e
        if not waiting.done.wait(max(0.0, deadline - time.monotonic())):
            with self._pending_lock:
                self._pending.pop(key, None)
            if not waiting.done.is_set():
                raise error(
                    c.VIR_ERR_OPERATION_TIMEOUT,
                    "%s did not answer '%s' within %g s" % (self._peer, command, limit),
                )
        if waiting.failure is not None:
            raise waiting.failure
        return waiting.value

    def abandon(self, reason: int, why: str) -> None:
        """Ends the session as if the daemon had gone (used when keepalive gives up)."""
        self._end(reason, why)

    def close(self) -> None:
        if self._closed:
            return
        self._closed_by_client = True
        self._end(c.VIR_CONNECT_CLOSE_REASON_CLIENT, "connection to %s was closed by the client" % self._peer)

    def _abort_socket(self) -> None:
        with self._io:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # not connected, or already closed
            self._sock.close()


def _no_constant(name):
    raise ValueError("JSON constant %s is not allowed" % name)


def _decode(line: bytes):
    try:
        return json.loads(line.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError("malformed message: %s" % e) from e


def connect_unix(path: str, timeout: float) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(path)
        return sock
    except OSError as e:
        sock.close()
        raise error(c.VIR_ERR_SYSTEM_ERROR, "cannot connect to the daemon socket %s: %s" % (path, e)) from e


def connect_tls(host: str, port: int, cert: str, key: str, ca: str, timeout: float) -> socket.socket:
    """A TLS 1.3 socket to ``host:port`` presenting ``cert``/``key``, trusting only ``ca``, checking ``host``."""
    try:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        context.load_cert_chain(cert, key)
        context.load_verify_locations(cafile=ca)
    except (OSError, ssl.SSLError) as e:
        raise error(c.VIR_ERR_INVALID_ARG, "TLS files %s, %s, %s: %s" % (cert, key, ca, e)) from e
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        raise error(c.VIR_ERR_SYSTEM_ERROR, "cannot connect to %s:%d: %s" % (host, port, e)) from e
    try:
        return context.wrap_socket(raw, server_hostname=host)
    except ssl.SSLError as e:
        raw.close()
        raise error(c.VIR_ERR_AUTH_FAILED, "TLS handshake with %s:%d failed: %s" % (host, port, e)) from e
    except OSError as e:
        raw.close()
        raise error(c.VIR_ERR_SYSTEM_ERROR, "TLS handshake with %s:%d failed: %s" % (host, port, e)) from e
