"""virDomain: a defined domain of one connection, with libvirt-python's names and signatures."""

import uuid as uuidlib

from . import constants as c
from .errors import error, unsupported_flags

MIB = 1024 * 1024
MAX_BYTES = (1 << 63) - 1


def check_type(function: str, argument: str, value, types, what: str) -> None:
    """TypeError, before anything is sent, when ``value`` is not one of ``types``."""
    if not isinstance(value, types):
        raise TypeError("%s() argument '%s' must be %s, not %s" % (function, argument, what, type(value).__name__))


def check_flags(function: str, flags, known: int, libvirt_name: str) -> None:
    check_type(function, "flags", flags, int, "int")
    if flags < 0 or flags & ~known:
        raise unsupported_flags(flags, libvirt_name)


def pull_strategy(flags: int, pace_guest: int, order_profile: int, fail_on_outage: int) -> dict:
    """The protocol's optional ``pace``, ``order`` and ``on-outage`` arguments of block-pull for
    these flags; none when unset, so that a daemon that predates them is sent what it knows."""
    arguments = {}
    if flags & pace_guest:
        arguments["pace"] = "guest"
    if flags & order_profile:
        arguments["order"] = "profile"
    if flags & fail_on_outage:
        arguments["on-outage"] = "fail"
    return arguments


def bytes_per_second(function: str, bandwidth, in_bytes: bool) -> int:
    """The wire's bytes/s for a libvirt bandwidth: MiB/s unless ``in_bytes``; 0 is unlimited."""
    check_type(function, "bandwidth", bandwidth, int, "int")
    if bandwidth < 0:
        raise error(c.VIR_ERR_INVALID_ARG, "bandwidth %d is negative" % bandwidth)
    limit = bandwidth if in_bytes else bandwidth * MIB
    if limit > MAX_BYTES:
        unit = "bytes/s" if in_bytes else "MiB/s"
        most = MAX_BYTES if in_bytes else MAX_BYTES // MIB
        raise error(c.VIR_ERR_OVERFLOW, "bandwidth must be at most %d %s, not %d" % (most, unit, bandwidth))
    return limit


def mib_per_second(limit: int) -> int:
    """A bytes/s limit in MiB/s, rounded up so that a limit never reads as 0 (unlimited)."""
    return -(-limit // MIB)


class virDomain:
    """A handle on a defined domain, by name; every call asks the daemon."""

    def __init__(self, conn, name: str, uuid: str | None = None):
        self._conn = conn
        self._name = name
        self._uuid = uuid

    def __repr__(self):
        return "<siphon.virDomain %r>" % self._name

    def __eq__(self, other):
        return isinstance(other, virDomain) and other._conn is self._conn and other._name == self._name

    def __hash__(self):
        return hash(self._name)

    def _call(self, command: str, **arguments):
        return self._conn._call(command, dict(domain=self._name, **arguments))

    def _info(self) -> dict:
        info = self._call("domain-info")
        self._uuid = info.get("uuid", self._uuid)
        return info

    def connect(self):
        return self._conn

    def name(self):
        return self._name

    def UUIDString(self):
        if self._uuid is None:
            self._info()
        return self._uuid

    def UUID(self):
        return uuidlib.UUID(self.UUIDString()).bytes

    def isActive(self):
        return 1 if self._info().get("state") == "running" else 0

    def isPersistent(self):
        return 1

    def state(self, flags=0):
        check_flags("state", flags, 0, "virDomainGetState")
        if self.isActive():
            return [c.VIR_DOMAIN_RUNNING, c.VIR_DOMAIN_RUNNING_BOOTED]
        return [c.VIR_DOMAIN_SHUTOFF, c.VIR_DOMAIN_SHUTOFF_UNKNOWN]

    def create(self):
        self._call("domain-start")
        return 0

    def shutdown(self):
        self._call("domain-shutdown")
        return 0

    def destroy(self):
        self._call("domain-destroy")
        return 0

    def undefine(self):
        self._call("domain-undefine")
        return 0

    def XMLDesc(self, flags=0):
        """The domain's XML as it was defined, with what Siphon does not use kept (virDomainGetXMLDesc)."""
        check_flags("XMLDesc", flags, c.VIR_DOMAIN_XML_SECURE | c.VIR_DOMAIN_XML_INACTIVE, "virDomainGetXMLDesc")
        return self._call("domain-xml-desc")["xml"]

    def autostart(self):
        """1 when the domain starts with its daemon, else 0 (virDomainGetAutostart)."""
        return 1 if self._info().get("autostart") else 0

    def setAutostart(self, autostart):
        """Marks the domain to start with its daemon (a true int), or not (virDomainSetAutostart)."""
        check_type("setAutostart", "autostart", autostart, int, "int")
        self._call("domain-set-autostart", autostart=bool(autostart))
        return 0

    # --- disk sizes and statistics ---

    def blockInfo(self, path, flags=0):
        """``[capacity, allocation, physical]`` of the disk in bytes, running or not (virDomainGetBlockInfo)."""
        path = self._disk("blockInfo", path)
        check_flags("blockInfo", flags, 0, "virDomainGetBlockInfo")
        info = self._call("block-info", disk=path)
        return [info["capacity"], info["allocation"], info["physical"]]

    def _stats(self, function: str, path) -> dict:
        check_type(function, "path", path, str, "str")
        # libvirt's empty path: the totals over every disk
        return self._call("block-stats", **({"disk": path} if path else {}))

    def blockStats(self, path):
        """``(rd_req, rd_bytes, wr_req, wr_bytes, errs)`` since the domain started; errs is -1, as
        libvirt's qemu driver reports it (not counted)."""
        s = self._stats("blockStats", path)
        return (s["rd-operations"], s["rd-bytes"], s["wr-operations"], s["wr-bytes"], -1)

    def blockStatsFlags(self, path, flags=0):
        """The typed block statistics by libvirt's VIR_DOMAIN_BLOCK_STATS_* names (times in ns)."""
        check_flags("blockStatsFlags", flags, c.VIR_TYPED_PARAM_STRING_OKAY, "virDomainBlockStatsFlags")
        s = self._stats("blockStatsFlags", path)
        return {
            c.VIR_DOMAIN_BLOCK_STATS_READ_REQ: s["rd-operations"],
            c.VIR_DOMAIN_BLOCK_STATS_READ_BYTES: s["rd-bytes"],
            c.VIR_DOMAIN_BLOCK_STATS_WRITE_REQ: s["wr-operations"],
            c.VIR_DOMAIN_BLOCK_STATS_WRITE_BYTES: s["wr-bytes"],
            c.VIR_DOMAIN_BLOCK_STATS_FLUSH_REQ: s["flush-operations"],
            c.VIR_DOMAIN_BLOCK_STATS_READ_TOTAL_TIMES: s["rd-total-times"],
            c.VIR_DOMAIN_BLOCK_STATS_WRITE_TOTAL_TIMES: s["wr-total-times"],
            c.VIR_DOMAIN_BLOCK_STATS_FLUSH_TOTAL_TIMES: s["flush-total-times"],
        }

    # --- the block-job family ---

    def _disk(self, function: str, disk) -> str:
        check_type(function, "disk", disk, str, "str")
        if not disk:
            raise error(c.VIR_ERR_INVALID_ARG, "disk must be named by target or source path")
        return disk

    def blockPull(self, disk, bandwidth=0, flags=0):
        """Pulls the whole backing chain into ``disk`` in the background (virDomainBlockPull).

        Siphon's flags VIR_DOMAIN_BLOCK_PULL_PACE_GUEST and _ORDER_PROFILE pace the pull by the
        guest's I/O (within the bandwidth) and copy the template's profiled clusters first;
        _FAIL_ON_OUTAGE fails the pull, rather than pausing it, while a remote template stays
        unreachable.
        """
        disk = self._disk("blockPull", disk)
        known = (
            c.VIR_DOMAIN_BLOCK_PULL_BANDWIDTH_BYTES
            | c.VIR_DOMAIN_BLOCK_PULL_PACE_GUEST
            | c.VIR_DOMAIN_BLOCK_PULL_ORDER_PROFILE
            | c.VIR_DOMAIN_BLOCK_PULL_FAIL_ON_OUTAGE
        )
        check_flags("blockPull", flags, known, "virDomainBlockPull")
        limit = bytes_per_second("blockPull", bandwidth, bool(flags & c.VIR_DOMAIN_BLOCK_PULL_BANDWIDTH_BYTES))
        arguments = {"disk": disk, "bandwidth-bytes": limit}
        arguments.update(
            pull_strategy(
                flags,
                c.VIR_DOMAIN_BLOCK_PULL_PACE_GUEST,
                c.VIR_DOMAIN_BLOCK_PULL_ORDER_PROFILE,
                c.VIR_DOMAIN_BLOCK_PULL_FAIL_ON_OUTAGE,
            )
        )
        self._call("block-pull", **arguments)
        return 0

    def blockRebase(self, disk, base, bandwidth=0, flags=0):
        """Pulls the images above ``base`` (a path in the chain; None: all) into ``disk`` (virDomainBlockRebase)."""
        disk = self._disk("blockRebase", disk)
        check_type("blockRebase", "base", base, (str, type(None)), "str or None")
        known = (
            c.VIR_DOMAIN_BLOCK_REBASE_RELATIVE
            | c.VIR_DOMAIN_BLOCK_REBASE_BANDWIDTH_BYTES
            | c.VIR_DOMAIN_BLOCK_REBASE_PACE_GUEST
            | c.VIR_DOMAIN_BLOCK_REBASE_ORDER_PROFILE
            | c.VIR_DOMAIN_BLOCK_REBASE_FAIL_ON_OUTAGE
        )
        check_flags("blockRebase", flags, known, "virDomainBlockRebase")
        limit = bytes_per_second("blockRebase", bandwidth, bool(flags & c.VIR_DOMAIN_BLOCK_REBASE_BANDWIDTH_BYTES))
        arguments = {"disk": disk, "bandwidth-bytes": limit}
        arguments.update(
            pull_strategy(
                flags,
                c.VIR_DOMAIN_BLOCK_REBASE_PACE_GUEST,
                c.VIR_DOMAIN_BLOCK_REBASE_ORDER_PROFILE,
                c.VIR_DOMAIN_BLOCK_REBASE_FAIL_ON_OUTAGE,
            )
        )
        if base:
            arguments["base"] = base
        if flags & c.VIR_DOMAIN_BLOCK_REBASE_RELATIVE:
            if not base:
                raise error(c.VIR_ERR_INVALID_ARG, "VIR_DOMAIN_BLOCK_REBASE_RELATIVE needs a base")
            arguments["keep-relative"] = True
        self._call("block-pull", **arguments)
        return 0

    def blockPullStep(self, disk):
        """Siphon's single-increment pull: copies one increment (1 MiB of data) of a full pull into ``disk``.

        Starts a stepped job when the disk has none; the last step completes the job (and sends
        its event). Returns ``{'cur', 'end', 'completed'}``. Not in libvirt.
        """
        disk = self._disk("blockPullStep", disk)
        progress = self._call("block-pull-step", disk=disk)
        return {"cur": progress["cur"], "end": progress["end"], "completed": bool(progress["completed"])}

    def blockJobAbort(self, disk, flags=0):
        """Cancels the disk's job, returning once it has ended unless VIR_DOMAIN_BLOCK_JOB_ABORT_ASYNC."""
        disk = self._disk("blockJobAbort", disk)
        check_flags("blockJobAbort", flags, c.VIR_DOMAIN_BLOCK_JOB_ABORT_ASYNC, "virDomainBlockJobAbort")
        self._call("block-job-abort", disk=disk, **{"async": bool(flags & c.VIR_DOMAIN_BLOCK_JOB_ABORT_ASYNC)})
        return 0

    def blockJobSetSpeed(self, disk, bandwidth, flags=0):
        disk = self._disk("blockJobSetSpeed", disk)
        known = c.VIR_DOMAIN_BLOCK_JOB_SPEED_BANDWIDTH_BYTES
        check_flags("blockJobSetSpeed", flags, known, "virDomainBlockJobSetSpeed")
        limit = bytes_per_second("blockJobSetSpeed", bandwidth, bool(flags & known))
        self._call("block-job-set-speed", disk=disk, **{"bandwidth-bytes": limit})
        return 0

    def blockJobInfo(self, path, flags=0):
        """``{'type', 'bandwidth', 'cur', 'end'}`` of the disk's job, or ``{}`` when it has none."""
        path = self._disk("blockJobInfo", path)
        known = c.VIR_DOMAIN_BLOCK_JOB_INFO_BANDWIDTH_BYTES
        check_flags("blockJobInfo", flags, known, "virDomainGetBlockJobInfo")
        reply = self._call("block-job-info", disk=path)
        job = reply.get("job") if isinstance(reply, dict) else None
        if job is None:
            return {}
        limit = job["bandwidth-bytes"]
        return {
            "type": c.VIR_DOMAIN_BLOCK_JOB_TYPE_PULL if job.get("type") == "pull" else c.VIR_DOMAIN_BLOCK_JOB_TYPE_UNKNOWN,
            "bandwidth": limit if flags & known else mib_per_second(limit),
            "cur": job["cur"],
            "end": job["end"],
        }

    def blockJobPause(self, disk):
        """Pauses the disk's job. Not in libvirt (which pauses jobs only with the guest)."""
        self._call("block-job-pause", disk=self._disk("blockJobPause", disk))
        return 0

    def blockJobResume(self, disk):
        """Resumes the disk's paused job. Not in libvirt."""
        self._call("block-job-resume", disk=self._disk("blockJobResume", disk))
        return 0
