#!/usr/bin/env python3
#
# Pull a disk's backing chain into it while watching the job, libvirt-python style: the
# default event loop runs on a thread of its own, block-job and lifecycle callbacks report,
# and blockJobInfo shows the progress until the completion event arrives.
#
# Written against libvirt-python's API; the import below is the only line that names Siphon.

import sys
import threading
import time
from argparse import ArgumentParser

import siphon as libvirt


def lifecycle_to_string(event: int, detail: int) -> str:
    names = {
        libvirt.VIR_DOMAIN_EVENT_DEFINED: ("Defined", ("Added", "Updated")),
        libvirt.VIR_DOMAIN_EVENT_UNDEFINED: ("Undefined", ("Removed",)),
        libvirt.VIR_DOMAIN_EVENT_STARTED: ("Started", ("Booted",)),
        libvirt.VIR_DOMAIN_EVENT_STOPPED: ("Stopped", ("Shutdown", "Destroyed")),
    }
    kind, details = names.get(event, ("Event %d" % event, ()))
    return "%s %s" % (kind, details[detail] if detail < len(details) else detail)


BLOCK_JOB_TYPES = ("unknown", "Pull", "Copy", "Commit", "ActiveCommit", "Backup")
BLOCK_JOB_STATUSES = ("Completed", "Failed", "Canceled", "Ready")


class Watch:
    """What the callbacks saw, for the main thread to wait on."""

    def __init__(self, disk: str):
        self.disk = disk
        self.ended = threading.Event()
        self.status = None


def lifecycle_callback(conn, dom, event, detail, watch):
    print("lifecycle: domain %s %s" % (dom.name(), lifecycle_to_string(event, detail)), flush=True)


def block_job_callback(conn, dom, disk, job_type, status, watch):
    print("block job: domain %s disk %s %s %s" % (dom.name(), disk, BLOCK_JOB_TYPES[job_type],
                                                BLOCK_JOB_STATUSES[status]), flush=True)
    if disk == watch.disk:
        watch.status = status
        watch.ended.set()


def close_callback(conn, reason, watch):
    reasons = ("Error", "End-of-file", "Keepalive", "Client")
    print("connection closed: %s" % reasons[reason], flush=True)
    watch.ended.set()


def event_loop_start() -> None:
    libvirt.virEventRegisterDefaultImpl()

    def run():
        while True:
            libvirt.virEventRunDefaultImpl()

    threading.Thread(target=run, name="libvirtEventLoop", daemon=True).start()


def main() -> int:
    parser = ArgumentParser(description="pull a disk's backing chain into it and watch the job")
    parser.add_argument("-c", "--connect", default=None, help="connection URI")
    parser.add_argument("--bandwidth", type=int, default=0, help="MiB/s, 0 for no limit")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the job")
    parser.add_argument("domain")
    parser.add_argument("disk")
    args = parser.parse_args()

    event_loop_start()
    conn = libvirt.open(args.connect)
    watch = Watch(args.disk)
    conn.registerCloseCallback(close_callback, watch)
    conn.setKeepAlive(5, 3)
    dom = conn.lookupByName(args.domain)
    callbacks = [
        conn.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lifecycle_callback, watch),
        conn.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, block_job_callback, watch),
    ]
    try:
        dom.blockPull(args.disk, args.bandwidth, 0)
    except libvirt.libvirtError as e:
        print("blockPull failed (error %d): %s" % (e.get_error_code(), e.get_error_message()), file=sys.stderr)
        return 1
    deadline = time.monotonic() + args.timeout
    while not watch.ended.wait(0.2):
        info = dom.blockJobInfo(args.disk, 0)
        if info:
            print("progress: %d/%d bytes at %d MiB/s" % (info["cur"], info["end"], info["bandwidth"]), flush=True)
        if time.monotonic() > deadline:
            print("no end of the job within %g s; aborting it" % args.timeout, file=sys.stderr)
            dom.blockJobAbort(args.disk, 0)
            return 1
    for callback in callbacks:
        conn.domainEventDeregisterAny(callback)
    conn.unregisterCloseCallback()
    conn.close()
    return 0 if watch.status == libvirt.VIR_DOMAIN_BLOCK_JOB_COMPLETED else 1


if __name__ == "__main__":
    sys.exit(main())
