"""Refusals: the daemon's error classes as libvirt error numbers, read-only connections, bad
arguments (TypeError before anything is sent) and unsupported flags."""

import os
import subprocess
import unittest

from support import Events, domain_xml, overlay, siphon, template
from daemon import Daemon, cli_command

DAEMON = None
DOMAIN = "errors"


def setUpModule():
    global DAEMON
    DAEMON = Daemon()
    image = template(os.path.join(DAEMON.dir, "template.qcow2"), 16, 8)
    clone = overlay(os.path.join(DAEMON.dir, "clone.qcow2"), image)
    with siphon.open(DAEMON.uri) as conn:
        conn.defineXML(domain_xml(DOMAIN, clone)).create()


def tearDownModule():
    DAEMON.stop()


class ErrorTest(unittest.TestCase):
    def setUp(self):
        self.conn = siphon.open(DAEMON.uri)
        self.addCleanup(self.conn.close)
        self.dom = self.conn.lookupByName(DOMAIN)

    def assert_error(self, code: int, siphon_class, call, *args):
        with self.assertRaises(siphon.libvirtError) as raised:
            call(*args)
        failure = raised.exception
        self.assertEqual(code, failure.get_error_code(), failure)
        self.assertEqual(str(failure), failure.get_error_message())
        self.assertEqual(siphon.VIR_FROM_REMOTE, failure.get_error_domain())
        self.assertEqual(siphon.VIR_ERR_ERROR, failure.get_error_level())
        self.assertEqual(siphon_class, failure.siphon_class)
        return failure

    def test_the_daemons_error_classes_become_libvirt_error_numbers(self):
        failure = self.assert_error(siphon.VIR_ERR_NO_DOMAIN, "NO_DOMAIN", self.conn.lookupByName, "nowhere")
        self.assertIn("nowhere", failure.get_error_message())
        self.assert_error(siphon.VIR_ERR_INVALID_ARG, "NO_DISK", self.dom.blockPull, "vdz")
        self.assert_error(siphon.VIR_ERR_OPERATION_INVALID, "NO_JOB", self.dom.blockJobAbort, "vda")
        self.assert_error(siphon.VIR_ERR_OPERATION_INVALID, "OPERATION_INVALID", self.dom.create)
        self.assert_error(siphon.VIR_ERR_INVALID_ARG, "INVALID_ARG", self.conn.defineXML, "<domain>")
        self.assert_error(
            siphon.VIR_ERR_DOM_EXIST, "DOMAIN_EXISTS", self.conn.defineXML,
            domain_xml(DOMAIN, "/elsewhere.qcow2").replace("<name>", "<uuid>00000000-0000-0000-0000-000000000001</uuid><name>"),
        )
        self.dom.blockPull("vda", 1)
        self.addCleanup(self.dom.blockJobAbort, "vda")
        self.assert_error(siphon.VIR_ERR_OPERATION_INVALID, "JOB_EXISTS", self.dom.blockPull, "vda")
        self.assert_error(siphon.VIR_ERR_OPERATION_INVALID, "JOB_EXISTS", self.dom.blockPullStep, "vda")

    def test_client_side_refusals_name_what_is_wrong(self):
        failure = self.assert_error(siphon.VIR_ERR_INVALID_ARG, None, self.dom.blockJobAbort, "vda", siphon.VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT)
        self.assertEqual("unsupported flags (0x2) in function virDomainBlockJobAbort", str(failure))
        self.assert_error(siphon.VIR_ERR_INVALID_ARG, None, self.dom.blockRebase, "vda", None, 0, siphon.VIR_DOMAIN_BLOCK_REBASE_COPY)
        self.assert_error(siphon.VIR_ERR_INVALID_ARG, None, self.dom.blockRebase, "vda", None, 0, siphon.VIR_DOMAIN_BLOCK_REBASE_RELATIVE)
        self.assert_error(siphon.VIR_ERR_INVALID_ARG, None, self.dom.blockPull, "vda", -1)
        self.assert_error(siphon.VIR_ERR_OVERFLOW, None, self.dom.blockPull, "vda", 1 << 44)
        self.assert_error(siphon.VIR_ERR_INVALID_ARG, None, self.dom.blockPull, "")
        self.assert_error(siphon.VIR_ERR_INVALID_ARG, None, self.conn.lookupByUUIDString, "not-a-uuid")
        self.assert_error(siphon.VIR_ERR_INVALID_ARG, None, self.conn.listAllDomains, 1 << 20)
        self.assert_error(siphon.VIR_ERR_NO_SUPPORT, None, self.conn.domainEventRegisterAny, None, 1, print, None)
        self.assert_error(siphon.VIR_ERR_NO_CONNECT, None, siphon.open, "qemu:///system")
        self.assert_error(siphon.VIR_ERR_NO_SUPPORT, None, siphon.open, "siphon:///system")
        self.assert_error(siphon.VIR_ERR_INVALID_ARG, None, siphon.open, "siphon+unix://")
        self.assert_error(siphon.VIR_ERR_SYSTEM_ERROR, None, siphon.open, "siphon+unix:///nonexistent/siphon.sock")
        self.assert_error(siphon.VIR_ERR_INVALID_ARG, None, siphon.open, DAEMON.uri + "?timeout=never")

    def test_wrong_argument_types_raise_type_error_before_anything_is_sent(self):
        # on a closed connection any call that reached the wire would be a libvirtError instead
        self.conn.close()
        dom = self.dom
        bad_calls = [
            (dom.blockPull, (5,)),
            (dom.blockPull, (None,)),
            (dom.blockPull, ("vda", "1")),
            (dom.blockPull, ("vda", 1.5)),
            (dom.blockPull, ("vda", 0, "0")),
            (dom.blockRebase, ("vda", 7)),
            (dom.blockJobAbort, (b"vda",)),
            (dom.blockJobSetSpeed, ("vda", None)),
            (dom.blockJobInfo, ("vda", 0.0)),
            (dom.blockPullStep, (["vda"],)),
            (dom.XMLDesc, ("0",)),
            (self.conn.defineXML, (None,)),
            (self.conn.lookupByName, (1,)),
            (self.conn.lookupByUUIDString, (b"x",)),
            (self.conn.listAllDomains, (None,)),
            (self.conn.domainEventRegisterAny, ("vm", 0, print, None)),
            (self.conn.domainEventRegisterAny, (None, "0", print, None)),
            (self.conn.domainEventRegisterAny, (None, 0, "print", None)),
            (self.conn.domainEventDeregisterAny, ("1",)),
            (self.conn.setKeepAlive, ("5", 3)),
            (siphon.open, (3,)),
            (siphon.virEventAddTimeout, ("10", print, None)),
        ]
        for call, args in bad_calls:
            with self.subTest(call=call.__name__, args=args):
                self.assertRaises(TypeError, call, *args)
        with self.assertRaises(siphon.libvirtError) as raised:
            dom.blockJobInfo("vda")
        self.assertEqual(siphon.VIR_ERR_SYSTEM_ERROR, raised.exception.get_error_code())


class ReadOnlyTest(unittest.TestCase):
    """openReadOnly, ?readonly=1 and the daemon's read-only socket: queries pass, changes are refused."""

    def check(self, conn, refused_by_daemon: bool):
        with conn:
            dom = conn.lookupByName(DOMAIN)
            self.assertEqual(1, dom.isActive())
            self.assertEqual({}, dom.blockJobInfo("vda"))
            self.assertIn(DOMAIN, [d.name() for d in conn.listAllDomains()])
            self.assertIn("<target dev='vda'", dom.XMLDesc())
            # what `siphon --version` prints (0.1.0-SNAPSHOT), as libvirt encodes versions (1000)
            major, minor, release = (int(p) for p in self.cli_version().split("-")[0].split("."))
            self.assertEqual(major * 1000000 + minor * 1000 + release, conn.getLibVersion())
            self.assertEqual(conn.getLibVersion(), conn.getVersion(), "the embedded engine is this Siphon")
            self.assertEqual("Siphon", conn.getType())
            events = Events(conn)  # events reach read-only connections too
            for call, args in [
                (conn.defineXML, (domain_xml("ro", "/x.qcow2"),)),
                (dom.blockPull, ("vda",)),
                (dom.blockRebase, ("vda", None)),
                (dom.blockPullStep, ("vda",)),
                (dom.blockJobAbort, ("vda",)),
                (dom.blockJobSetSpeed, ("vda", 1)),
                (dom.shutdown, ()),
                (dom.destroy, ()),
                (dom.undefine, ()),
            ]:
                with self.subTest(call=call.__name__):
                    with self.assertRaises(siphon.libvirtError) as raised:
                        call(*args)
                    self.assertEqual(siphon.VIR_ERR_OPERATION_DENIED, raised.exception.get_error_code())
                    self.assertEqual("READ_ONLY", raised.exception.siphon_class)
                    if refused_by_daemon:
                        self.assertNotIn("operation forbidden", str(raised.exception))
            with siphon.open(DAEMON.uri) as writer:
                writer.lookupByName(DOMAIN).blockPullStep("vda")
                writer.lookupByName(DOMAIN).blockJobAbort("vda")
            canceled = (DOMAIN, "vda", siphon.VIR_DOMAIN_BLOCK_JOB_TYPE_PULL, siphon.VIR_DOMAIN_BLOCK_JOB_CANCELED, "opaque-2")
            self.assertEqual(canceled, events.next("block-job-2"))
        with siphon.open(DAEMON.uri) as writer:
            self.assertEqual(1, writer.lookupByName(DOMAIN).isActive(), "nothing was changed")

    @staticmethod
    def cli_version() -> str:
        return subprocess.check_output(cli_command() + ["--version"], text=True).strip()

    def test_open_read_only(self):
        self.check(siphon.openReadOnly(DAEMON.uri), False)

    def test_readonly_query_parameter(self):
        self.check(siphon.open(DAEMON.uri + "?readonly=1"), False)

    def test_the_daemons_read_only_socket(self):
        self.check(siphon.open(DAEMON.ro_uri), True)


if __name__ == "__main__":
    unittest.main()
