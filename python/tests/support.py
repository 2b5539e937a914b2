"""Images made with QEMU's tools, libvirt domain XML, and event recording for the tests."""

import json
import os
import queue
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the package under test, from this checkout

import siphon  # noqa: E402

MIB = 1024 * 1024


def run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(command), done.returncode, done.stderr.strip()))
    return done.stdout


def template(path: str, size_mib: int, data_mib: int) -> str:
    """A qcow2 template of ``size_mib`` whose first ``data_mib`` MiB hold the pattern 0xab."""
    run("qemu-img", "create", "-q", "-f", "qcow2", path, "%dM" % size_mib)
    if data_mib:
        run("qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 %dM" % data_mib, path)
    return path


def overlay(path: str, backing: str, backing_format: str = "qcow2") -> str:
    run("qemu-img", "create", "-q", "-f", "qcow2", "-b", backing, "-F", backing_format, path)
    return path


def backing_file(path: str) -> str | None:
    """The image's backing file as qemu-img reads it (-U: the daemon holds the image open)."""
    info = json.loads(run("qemu-img", "info", "-U", "--output=json", path))
    return info.get("backing-filename")


def domain_xml(name: str, disk: str, target: str = "vda") -> str:
    """A libvirt domain XML as virt-install writes it, with one qcow2 disk."""
    return f"""<domain type='kvm'>
  <name>{name}</name>
  <memory unit='KiB'>1048576</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' copy_on_read='on'/>
      <source file='{disk}'/>
      <target dev='{target}' bus='virtio'/>
    </disk>
  </devices>
</domain>
"""


class DaemonTest(unittest.TestCase):
    """A test with a connection to the module's daemon (``daemon()``) and a directory of its own there."""

    def daemon(self):
        raise NotImplementedError

    def setUp(self):
        self.conn = siphon.open(self.daemon().uri)
        self.addCleanup(self.conn.close)
        self.dir = os.path.join(self.daemon().dir, self.id().rsplit(".", 1)[-1])
        os.makedirs(self.dir)


class Events:
    """Records callbacks of one connection, for waiting on them with a timeout."""

    def __init__(self, conn, dom=None):
        self.items = queue.Queue()
        self.threads = set()  # names of the threads the callbacks ran on
        self.ids = [
            conn.domainEventRegisterAny(dom, siphon.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._lifecycle, "opaque-l"),
            conn.domainEventRegisterAny(dom, siphon.VIR_DOMAIN_EVENT_ID_BLOCK_JOB, self._job, "opaque-1"),
            conn.domainEventRegisterAny(dom, siphon.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, self._job2, "opaque-2"),
        ]
        self.conn = conn

    def _lifecycle(self, conn, dom, event, detail, opaque):
        self.threads.add(threading.current_thread().name)
        self.items.put(("lifecycle", dom.name(), event, detail, opaque))

    def _job(self, conn, dom, disk, kind, status, opaque):
        self.threads.add(threading.current_thread().name)
        self.items.put(("block-job", dom.name(), disk, kind, status, opaque))

    def _job2(self, conn, dom, disk, kind, status, opaque):
        self.threads.add(threading.current_thread().name)
        self.items.put(("block-job-2", dom.name(), disk, kind, status, opaque))

    def next(self, kind: str, timeout: float = 60):
        """The next recorded callback of ``kind``; those of other kinds before it are dropped."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s callback within %g s" % (kind, timeout))
            try:
                item = self.items.get(timeout=left)
            except queue.Empty:
                continue
            if item[0] == kind:
                return item[1:]

    def close(self):
        for key in self.ids:
            self.conn.domainEventDeregisterAny(key)


def wait_until(what: str, condition, timeout: float = 60, every: float = 0.05):
    """Polls ``condition`` until it returns a true value, which is returned; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("%s: not within %g s" % (what, timeout))
        time.sleep(every)
