"""Siphon's Python binding, in libvirt-python's shape: ``import siphon as libvirt``.

Standard library only. It speaks the daemon's JSON control protocol (docs/protocol.md) over
siphon:///session (the per-user daemon, started on demand), siphon+unix:///SOCKET and
siphon+tls://HOST:PORT/?cert=FILE&key=FILE&ca=FILE. docs/python.md describes it.
"""

from . import uris as _uris
from . import session as _wire
from .connection import virConnect
from .constants import *  # noqa: F403 - the VIR_* names are the module's interface, as in libvirt
from .constants import VIR_ERR_INVALID_ARG as _INVALID_ARG
from .domain import check_type as _check_type
from .errors import libvirtError
from .errors import error as _error
from .events import DEFAULT_LOOP as _LOOP
from .domain import virDomain

__version__ = "0.1.0"

# Public names of this binding that libvirt-python does not have (docs/python.md).
SIPHON_EXTENSIONS = frozenset(
    (
        "SIPHON_EXTENSIONS",
        "virDomain.blockPullStep",
        "virDomain.blockJobPause",
        "virDomain.blockJobResume",
        "libvirtError.siphon_class",
        "VIR_DOMAIN_BLOCK_PULL_PACE_GUEST",
        "VIR_DOMAIN_BLOCK_PULL_ORDER_PROFILE",
        "VIR_DOMAIN_BLOCK_PULL_FAIL_ON_OUTAGE",
        "VIR_DOMAIN_BLOCK_REBASE_PACE_GUEST",
        "VIR_DOMAIN_BLOCK_REBASE_ORDER_PROFILE",
        "VIR_DOMAIN_BLOCK_REBASE_FAIL_ON_OUTAGE",
    )
)


def _open(name, read_only: bool) -> virConnect:
    target = _uris.parse(name)
    if target.socket_path is not None:
        sock = _wire.connect_unix(target.socket_path, target.timeout)
        peer = target.socket_path
    else:
        sock = _wire.connect_tls(target.host, target.port, target.cert, target.key, target.ca, target.timeout)
        peer = "%s:%d" % (target.host, target.port)
    return virConnect(target.uri, sock, peer, read_only or target.read_only, target.timeout)


def open(name=None):
    """A connection to ``name`` (None: $SIPHON_DEFAULT_URI, else siphon:///session)."""
    return _open(name, False)


def openReadOnly(name=None):
    """A connection that may only query: anything else is refused before it is sent."""
    return _open(name, True)


def virEventRegisterDefaultImpl():
    """From now on, event callbacks run inside virEventRunDefaultImpl() rather than on a Siphon thread."""
    _LOOP.register()
    return 0


def virEventRunDefaultImpl():
    """Runs one iteration of the default loop: waits for callbacks or a due timer, then runs them."""
    return _LOOP.run_once()


def virEventAddTimeout(timeout, cb, opaque):
    """A timer on the default loop calling ``cb(timer, opaque)`` every ``timeout`` ms (-1: disabled)."""
    _check_type("virEventAddTimeout", "timeout", timeout, int, "int")
    if not callable(cb):
        raise TypeError("virEventAddTimeout() argument 'cb' must be callable")
    return _LOOP.add_timeout(timeout, cb, opaque)


def virEventUpdateTimeout(timer, timeout):
    _check_type("virEventUpdateTimeout", "timer", timer, int, "int")
    _check_type("virEventUpdateTimeout", "timeout", timeout, int, "int")
    _LOOP.update_timeout(timer, timeout)


def virEventRemoveTimeout(timer):
    _check_type("virEventRemoveTimeout", "timer", timer, int, "int")
    if timer <= 0:
        raise _error(_INVALID_ARG, "no timer %d" % timer)
    return _LOOP.remove_timeout(timer)

# shown as siphon.libvirtError etc. in tracebacks, as libvirt shows libvirt.libvirtError
for _public in (virConnect, virDomain, libvirtError):
    _public.__module__ = __name__
