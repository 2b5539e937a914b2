"""virConnect: one connection to a Siphon daemon, with libvirt-python's names and signatures."""

import itertools
import re
import threading
import uuid as uuidlib

from . import constants as c
from . import session as wire
from .domain import check_flags, check_type, virDomain
from .errors import error, libvirtError
from .events import Dispatcher, run_callback

_LIFECYCLE = {
    "defined": (c.VIR_DOMAIN_EVENT_DEFINED, c.VIR_DOMAIN_EVENT_DEFINED_ADDED),
    "undefined": (c.VIR_DOMAIN_EVENT_UNDEFINED, c.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED),
    "started": (c.VIR_DOMAIN_EVENT_STARTED, c.VIR_DOMAIN_EVENT_STARTED_BOOTED),
    "shutdown": (c.VIR_DOMAIN_EVENT_STOPPED, c.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN),
    "destroyed": (c.VIR_DOMAIN_EVENT_STOPPED, c.VIR_DOMAIN_EVENT_STOPPED_DESTROYED),
    "crashed": (c.VIR_DOMAIN_EVENT_STOPPED, c.VIR_DOMAIN_EVENT_STOPPED_CRASHED),
}

_JOB_STATUS = {
    "completed": c.VIR_DOMAIN_BLOCK_JOB_COMPLETED,
    "failed": c.VIR_DOMAIN_BLOCK_JOB_FAILED,
    "canceled": c.VIR_DOMAIN_BLOCK_JOB_CANCELED,
    "ready": c.VIR_DOMAIN_BLOCK_JOB_READY,
}

_EVENT_IDS = (c.VIR_DOMAIN_EVENT_ID_LIFECYCLE, c.VIR_DOMAIN_EVENT_ID_BLOCK_JOB, c.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2)

_LIST_FLAGS = (
    c.VIR_CONNECT_LIST_DOMAINS_ACTIVE
    | c.VIR_CONNECT_LIST_DOMAINS_INACTIVE
    | c.VIR_CONNECT_LIST_DOMAINS_PERSISTENT
    | c.VIR_CONNECT_LIST_DOMAINS_TRANSIENT
    | c.VIR_CONNECT_LIST_DOMAINS_RUNNING
    | c.VIR_CONNECT_LIST_DOMAINS_SHUTOFF
    | c.VIR_CONNECT_LIST_DOMAINS_AUTOSTART
    | c.VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART
)


def _encoded_version(text: str) -> int:
    """``7.2.0`` (or ``0.1.0-SNAPSHOT``, ``7.2.5 (Debian 1:7.2+dfsg-7)``) as libvirt's integer 7002000."""
    match = re.match(r"\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
    if not match:
        raise error(c.VIR_ERR_INTERNAL_ERROR, "cannot parse version '%s'" % text)
    major, minor, release = (int(part or 0) for part in match.groups())
    return major * 1000000 + minor * 1000 + release


class virConnect:
    """An open connection; made by siphon.open() or siphon.openReadOnly()."""

    def __init__(self, uri: str, sock, peer: str, read_only: bool, timeout: float):
        self._uri = uri
        self._dispatcher = Dispatcher()
        self._callbacks: dict[int, tuple] = {}
        self._callback_ids = itertools.count(1)
        self._lock = threading.Lock()
        self._close_callback = None
        self._keepalive = None
        self._session = wire.Session(sock, peer, read_only, timeout, self._on_event, self._on_close)

    def __repr__(self):
        return "<siphon.virConnect %s>" % self._uri

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.close()

    def _call(self, command: str, arguments: dict | None = None, timeout: float | None = None):
        return self._session.call(command, arguments, timeout)

    def _domain(self, info: dict) -> virDomain:
        return virDomain(self, info["name"], info.get("uuid"))

    # --- connection ---

    def getURI(self):
        return self._uri

    def getType(self):
        """What runs the disks, as libvirt names its drivers: ``Siphon`` (the embedded engine) or ``QEMU``."""
        return self._call("version")["hypervisor"]

    def getVersion(self):
        """The hypervisor's version as libvirt encodes it: major * 1,000,000 + minor * 1,000 + release."""
        return _encoded_version(self._call("version")["hypervisor-version"])

    def getLibVersion(self):
        """The version of the daemon's Siphon (libvirt: of the library the daemon runs), encoded as getVersion."""
        return _encoded_version(self._call("version")["driver-version"])

    def isAlive(self):
        return 1 if self._session.is_alive() else 0

    def close(self):
        """Closes the connection; domains and jobs go on. The close callback, if any, runs with CLIENT."""
        self._stop_keepalive()
        self._session.close()
        self._dispatcher.stop()
        return 0

    def registerCloseCallback(self, cb, opaque):
        """``cb(conn, reason, opaque)`` runs once when the connection ends (VIR_CONNECT_CLOSE_REASON_*)."""
        if not callable(cb):
            raise TypeError("registerCloseCallback() argument 'cb' must be callable")
        with self._lock:
            if self._close_callback is not None:
                raise error(c.VIR_ERR_OPERATION_INVALID, "a close callback is already registered")
            self._close_callback = (cb, opaque)
        return 0

    def unregisterCloseCallback(self):
        with self._lock:
            if self._close_callback is None:
                raise error(c.VIR_ERR_OPERATION_INVALID, "no close callback is registered")
            self._close_callback = None

    def setKeepAlive(self, interval, count):
        """Pings the daemon every ``interval`` s when it has been silent; after ``count`` more without an
        answer the connection is closed (reason KEEPALIVE). ``interval`` <= 0 turns it off."""
        check_type("setKeepAlive", "interval", interval, int, "int")
        check_type("setKeepAlive", "count", count, int, "int")
        self._stop_keepalive()
        if interval > 0:
            stop = threading.Event()
            thread = threading.Thread(
                target=self._keepalive_loop, args=(interval, max(1, count), stop), name="siphon-keepalive", daemon=True
            )
            self._keepalive = stop
            thread.start()
        return 0

    def _stop_keepalive(self) -> None:
        if self._keepalive is not None:
            self._keepalive.set()
            self._keepalive = None

    def _keepalive_loop(self, interval: int, count: int, stop: threading.Event) -> None:
        while not stop.wait(interval) and self._session.is_alive():
            try:
                self._call("qmp_capabilities", timeout=interval * count)
            except libvirtError as e:
                if e.get_error_code() == c.VIR_ERR_OPERATION_TIMEOUT:
                    self._session.abandon(
                        c.VIR_CONNECT_CLOSE_REASON_KEEPALIVE,
                        "%s did not answer keepalive for %d s" % (self._session.peer, interval * (count + 1)),
                    )
                return

    # --- domains ---

    def defineXML(self, xml):
        check_type("defineXML", "xml", xml, str, "str")
        return self._domain(self._call("domain-define", {"xml": xml}))

    def lookupByName(self, name):
        check_type("lookupByName", "name", name, str, "str")
        info = self._call("domain-info", {"domain": name})
        if info.get("name") != name:
            raise error(c.VIR_ERR_NO_DOMAIN, "Domain not found: no domain with matching name '%s'" % name, "NO_DOMAIN")
        return self._domain(info)

    def lookupByUUIDString(self, uuidstr):
        check_type("lookupByUUIDString", "uuidstr", uuidstr, str, "str")
        try:
            wanted = str(uuidlib.UUID(uuidstr))
        except ValueError:
            raise error(c.VIR_ERR_INVALID_ARG, "'%s' is not a UUID" % uuidstr) from None
        info = self._call("domain-info", {"domain": wanted})
        if info.get("uuid") != wanted:
            raise error(
                c.VIR_ERR_NO_DOMAIN, "Domain not found: no domain with matching uuid '%s'" % wanted, "NO_DOMAIN"
            )
        return self._domain(info)

    def listAllDomains(self, flags=0):
        check_flags("listAllDomains", flags, _LIST_FLAGS, "virConnectListAllDomains")
        active = flags & (c.VIR_CONNECT_LIST_DOMAINS_ACTIVE | c.VIR_CONNECT_LIST_DOMAINS_RUNNING)
        inactive = flags & (c.VIR_CONNECT_LIST_DOMAINS_INACTIVE | c.VIR_CONNECT_LIST_DOMAINS_SHUTOFF)
        if flags & c.VIR_CONNECT_LIST_DOMAINS_TRANSIENT and not flags & c.VIR_CONNECT_LIST_DOMAINS_PERSISTENT:
            return []  # every Siphon domain is persistent
        out = []
        for info in self._call("domain-list"):
            running = info.get("state") == "running"
            if (active or inactive) and not ((active and running) or (inactive and not running)):
                continue
            marked = bool(info.get("autostart"))
            with_mark = flags & c.VIR_CONNECT_LIST_DOMAINS_AUTOSTART
            without_mark = flags & c.VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART
            if (with_mark or without_mark) and not ((with_mark and marked) or (without_mark and not marked)):
                continue
            out.append(self._domain(info))
        return out

    # --- events ---

    def domainEventRegisterAny(self, dom, eventID, cb, opaque):
        """Registers ``cb`` for ``eventID`` of ``dom`` (None: every domain) and returns the callback id.

        LIFECYCLE: cb(conn, dom, event, detail, opaque). BLOCK_JOB: cb(conn, dom, disk, type, status,
        opaque) with the disk's source path; BLOCK_JOB_2: the same with its target (vda).
        """
        check_type("domainEventRegisterAny", "dom", dom, (virDomain, type(None)), "virDomain or None")
        check_type("domainEventRegisterAny", "eventID", eventID, int, "int")
        if not callable(cb):
            raise TypeError("domainEventRegisterAny() argument 'cb' must be callable")
        if eventID not in _EVENT_IDS:
            raise error(c.VIR_ERR_NO_SUPPORT, "Siphon sends no events of ID %d" % eventID)
        if not self._session.is_alive():
            raise error(c.VIR_ERR_SYSTEM_ERROR, "connection to %s is closed" % self._session.peer)
        with self._lock:
            key = next(self._callback_ids)
            self._callbacks[key] = (None if dom is None else dom.name(), eventID, cb, opaque)
        return key

    def domainEventDeregisterAny(self, callbackID):
        check_type("domainEventDeregisterAny", "callbackID", callbackID, int, "int")
        with self._lock:
            if self._callbacks.pop(callbackID, None) is None:
                raise error(c.VIR_ERR_INVALID_ARG, "no domain event callback with id %d" % callbackID)
        return 0

    def _registered(self, domain: str, event_id: int) -> list:
        with self._lock:
            return [
                (key, cb, opaque)
                for key, (only, wanted, cb, opaque) in self._callbacks.items()
                if wanted == event_id and only in (None, domain)
            ]

    def _still_registered(self, key: int) -> bool:
        with self._lock:
            return key in self._callbacks

    def _on_event(self, name: str, data: dict) -> None:
        """Runs on the reader thread: turns a daemon event into callbacks for the dispatcher."""
        domain = data.get("domain")
        if not isinstance(domain, str):
            return
        dom = virDomain(self, domain)
        if name == "DOMAIN_LIFECYCLE" and data.get("kind") in _LIFECYCLE:
            event, detail = _LIFECYCLE[data["kind"]]
            for key, cb, opaque in self._registered(domain, c.VIR_DOMAIN_EVENT_ID_LIFECYCLE):
                self._post(key, cb, self, dom, event, detail, opaque)
        elif name == "BLOCK_JOB" and data.get("status") in _JOB_STATUS:
            target = data.get("disk")
            kind = c.VIR_DOMAIN_BLOCK_JOB_TYPE_PULL if data.get("type") == "pull" else c.VIR_DOMAIN_BLOCK_JOB_TYPE_UNKNOWN
            status = _JOB_STATUS[data["status"]]
            for key, cb, opaque in self._registered(domain, c.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2):
                self._post(key, cb, self, dom, target, kind, status, opaque)
            by_path = self._registered(domain, c.VIR_DOMAIN_EVENT_ID_BLOCK_JOB)
            if by_path:
                self._dispatcher.post(lambda: self._deliver_by_path(by_path, dom, target, kind, status))

    def _post(self, key: int, cb, *args) -> None:
        self._dispatcher.post(lambda: cb(*args) if self._still_registered(key) else None)

    def _deliver_by_path(self, callbacks, dom: virDomain, target: str, kind: int, status: int) -> None:
        # the daemon's event names the target; libvirt's BLOCK_JOB event names the source path
        path = target
        try:
            for disk in self._call("domain-disks", {"domain": dom.name()}):
                if disk.get("target") == target:
                    path = disk.get("source", target)
        except libvirtError:
            pass  # the domain is gone already: the target is all there is
        for key, cb, opaque in callbacks:
            if self._still_registered(key):
                run_callback(lambda: cb(self, dom, path, kind, status, opaque))

    def _on_close(self, reason: int) -> None:
        with self._lock:
            registered, self._close_callback = self._close_callback, None
        if registered is not None:
            cb, opaque = registered
            self._dispatcher.post(lambda: cb(self, reason, opaque))
