"""Connection URIs, read as the Java client reads them (io.siphon.api.remote.RemoteDriver)."""

import os
import shlex
import shutil
import socket
import subprocess
import time
import urllib.parse
from dataclasses import dataclass

from . import constants as c
from .errors import error

SESSION_URI = "siphon:///session"
DEFAULT_TIMEOUT = 60.0
SESSION_START_TIMEOUT = 30.0


@dataclass(frozen=True)
class Target:
    """Where a URI leads: a Unix socket path, or a TLS host and port with its PEM files."""

    uri: str
    read_only: bool
    timeout: float
    socket_path: str | None = None
    host: str | None = None
    port: int | None = None
    cert: str | None = None
    key: str | None = None
    ca: str | None = None


def parameters(query: str) -> dict[str, str]:
    """The query's parameters, percent-decoded; a name without ``=`` has the empty value."""
    out = {}
    for pair in query.split("&") if query else []:
        name, _, value = pair.partition("=")
        out[urllib.parse.unquote_plus(name)] = urllib.parse.unquote_plus(value)
    return out


def _read_only(query: dict[str, str]) -> bool:
    value = query.get("readonly")
    return value is not None and value in ("", "1", "true")


def _timeout(uri: str, query: dict[str, str]) -> float:
    text = query.get("timeout")
    if text is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise error(c.VIR_ERR_INVALID_ARG, "URI '%s': timeout '%s' must be a positive number of seconds" % (uri, text))
    return value


def parse(uri: str | None) -> Target:
    """The target of ``uri`` (None: the session daemon); starts the session daemon when it is absent."""
    if uri is None:
        uri = os.environ.get("SIPHON_DEFAULT_URI") or SESSION_URI
    if not isinstance(uri, str):
        raise TypeError("uri must be a str or None, not %s" % type(uri).__name__)
    parts = urllib.parse.urlsplit(uri)
    query = parameters(parts.query)
    read_only = _read_only(query)
    timeout = _timeout(uri, query)
    if parts.scheme == "siphon+unix":
        if not parts.path:
            raise error(c.VIR_ERR_INVALID_ARG, "URI '%s' names no socket path" % uri)
        return Target(uri, read_only, timeout, socket_path=urllib.parse.unquote(parts.path))
    if parts.scheme == "siphon":
        if parts.path != "/session":
            raise error(c.VIR_ERR_NO_SUPPORT, "URI '%s': only siphon:///session is served (per-user daemon)" % uri)
        daemon = SessionDaemon.for_current_user()
        daemon.ensure_running()
        return Target(uri, read_only, timeout, socket_path=daemon.socket)
    if parts.scheme == "siphon+tls":
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None:
            raise error(c.VIR_ERR_INVALID_ARG, "URI '%s' needs HOST:PORT" % uri)
        for needed in ("cert", "key", "ca"):
            if needed not in query:
                raise error(
                    c.VIR_ERR_INVALID_ARG,
                    "URI '%s' needs ?cert=FILE&key=FILE&ca=FILE (missing %s)" % (uri, needed),
                )
        return Target(
            uri, read_only, timeout, host=parts.hostname, port=port,
            cert=query["cert"], key=query["key"], ca=query["ca"],
        )
    raise error(
        c.VIR_ERR_NO_CONNECT,
        "no connection driver available for '%s' (known: siphon, siphon+unix, siphon+tls)" % uri,
    )


class SessionDaemon:
    """The per-user daemon behind siphon:///session, found and started as the Java client does.

    Its state directory is $SIPHON_SESSION_DIR, else $XDG_DATA_HOME/siphon, else
    ~/.local/share/siphon; its socket is siphon.sock there. When nothing answers on the socket,
    ``$SIPHON_COMMAND daemon --state-dir DIR`` (default command: ``siphon`` on PATH, the
    launcher) is started with its output appended to DIR/daemon.log, and the client waits up to
    30 s for the socket to answer.
    """

    def __init__(self, state_dir: str):
        self.state_dir = state_dir
        self.socket = os.path.join(state_dir, "siphon.sock")

    @classmethod
    def for_current_user(cls) -> "SessionDaemon":
        explicit = os.environ.get("SIPHON_SESSION_DIR")
        if explicit:
            return cls(explicit)
        xdg = os.environ.get("XDG_DATA_HOME")
        base = xdg if xdg else os.path.join(os.path.expanduser("~"), ".local", "share")
        return cls(os.path.join(base, "siphon"))

    def answers(self) -> bool:
        if not os.path.exists(self.socket):
            return False
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.settimeout(5)
            probe.connect(self.socket)
            return True
        except OSError:
            return False
        finally:
            probe.close()

    def command(self) -> list[str]:
        configured = os.environ.get("SIPHON_COMMAND")
        if configured:
            return shlex.split(configured)
        launcher = shutil.which("siphon")
        if launcher is None:
            raise error(
                c.VIR_ERR_SYSTEM_ERROR,
                "no session daemon listens on %s and no command starts one: put the siphon launcher"
                " on PATH or set SIPHON_COMMAND" % self.socket,
            )
        return [launcher]

    def ensure_running(self) -> None:
        if self.answers():
            return
        command = self.command() + ["daemon", "--state-dir", self.state_dir]
        try:
            os.makedirs(self.state_dir, exist_ok=True)
            with open(os.path.join(self.state_dir, "daemon.log"), "ab") as log:
                # through a shell that leaves it in the background: the daemon is no child of this
                # process, outlives it, and sits in a session of its own, away from its terminal
                subprocess.run(
                    ["/bin/sh", "-c", '"$@" &', "sh"] + command,
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True, check=True, timeout=SESSION_START_TIMEOUT,
                )
        except (OSError, subprocess.SubprocessError) as e:
            raise error(c.VIR_ERR_SYSTEM_ERROR, "cannot start the session daemon (%s): %s" % (command[0], e)) from e
        deadline = time.monotonic() + SESSION_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.answers():
                return
            time.sleep(0.05)
        raise error(
            c.VIR_ERR_SYSTEM_ERROR,
            "the session daemon did not listen on %s within %d s; see %s"
            % (self.socket, SESSION_START_TIMEOUT, os.path.join(self.state_dir, "daemon.log")),
        )
