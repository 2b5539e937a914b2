"""A daemon that stops answering (SIGSTOP) or dies (SIGKILL) gives a libvirtError within the
timeout, never a hang, and the broken connection reaches the close callback."""

import os
import queue
import shutil
import socket
import tempfile
import threading
import time
import unittest

from support import siphon
from daemon import Daemon

TIMEOUT = 3


class FailureTest(unittest.TestCase):
    def setUp(self):
        self.daemon = Daemon()
        self.addCleanup(self.daemon.stop)
        self.closes = queue.Queue()

    def connect(self, uri: str):
        conn = siphon.open(uri)
        self.addCleanup(conn.close)
        conn.registerCloseCallback(lambda c, reason, opaque: self.closes.put((c, reason, opaque)), "why")
        return conn

    def assert_fails_quickly(self, code: int, call, *args):
        started = time.monotonic()
        with self.assertRaises(siphon.libvirtError) as raised:
            call(*args)
        self.assertEqual(code, raised.exception.get_error_code(), raised.exception)
        self.assertLess(time.monotonic() - started, TIMEOUT + 10)
        return raised.exception

    def test_a_hung_daemon_times_out_calls_and_new_connections(self):
        conn = self.connect("%s?timeout=%d" % (self.daemon.uri, TIMEOUT))
        self.assertEqual([], conn.listAllDomains())
        self.daemon.pause()
        self.addCleanup(self.daemon.resume)
        failure = self.assert_fails_quickly(siphon.VIR_ERR_OPERATION_TIMEOUT, conn.listAllDomains)
        self.assertIn("did not answer 'domain-list' within 3 s", str(failure))
        self.assert_fails_quickly(
            siphon.VIR_ERR_OPERATION_TIMEOUT, siphon.open, "%s?timeout=%d" % (self.daemon.uri, TIMEOUT)
        )
        self.daemon.resume()
        self.assertEqual([], conn.listAllDomains(), "the connection serves again once the daemon does")
        self.assertEqual(1, conn.isAlive())

    def test_keepalive_closes_the_connection_to_a_hung_daemon(self):
        conn = self.connect(self.daemon.uri)
        self.assertEqual(0, conn.setKeepAlive(1, 1))
        self.daemon.pause()
        self.addCleanup(self.daemon.resume)
        closed = self.closes.get(timeout=30)
        self.assertEqual((conn, siphon.VIR_CONNECT_CLOSE_REASON_KEEPALIVE, "why"), closed)
        self.assertEqual(0, conn.isAlive())
        self.assert_fails_quickly(siphon.VIR_ERR_SYSTEM_ERROR, conn.listAllDomains)

    def test_a_dead_daemon_fails_waiting_calls_and_reaches_the_close_callback(self):
        conn = self.connect(self.daemon.uri)  # the default timeout: 60 s
        self.assertEqual([], conn.listAllDomains())
        self.daemon.pause()
        outcome = queue.Queue()

        def waiting_call():
            try:
                outcome.put(conn.listAllDomains())
            except siphon.libvirtError as e:
                outcome.put(e)

        started = time.monotonic()
        threading.Thread(target=waiting_call, daemon=True).start()
        self.daemon.kill()
        failure = outcome.get(timeout=30)
        self.assertIsInstance(failure, siphon.libvirtError)
        self.assertEqual(siphon.VIR_ERR_SYSTEM_ERROR, failure.get_error_code(), failure)
        self.assertLess(time.monotonic() - started, 30, "well before the call's own timeout")
        self.assertEqual((conn, siphon.VIR_CONNECT_CLOSE_REASON_EOF, "why"), self.closes.get(timeout=30))
        self.assertEqual(0, conn.isAlive())
        failure = self.assert_fails_quickly(siphon.VIR_ERR_SYSTEM_ERROR, conn.lookupByName, "any")
        self.assertIn(self.daemon.socket, str(failure))
        self.assert_fails_quickly(siphon.VIR_ERR_SYSTEM_ERROR, siphon.open, self.daemon.uri)

    def test_closing_reports_client_and_is_idempotent(self):
        conn = self.connect(self.daemon.uri)
        self.assertEqual(0, conn.close())
        self.assertEqual((conn, siphon.VIR_CONNECT_CLOSE_REASON_CLIENT, "why"), self.closes.get(timeout=30))
        self.assertEqual(0, conn.close())
        self.assertTrue(self.closes.empty())
        self.assertEqual(0, conn.isAlive())


class BrokenPeerTest(unittest.TestCase):
    """A peer on a real Unix socket that breaks the protocol: the connection ends, callers hear of it."""

    def serve(self, first: bytes, later: bytes = b""):
        """A socket whose one client gets ``first``, then ``later`` once ``self.go`` is set; returns its URI."""
        self.go = threading.Event()
        directory = tempfile.mkdtemp(prefix="siphon-py-peer-")
        self.addCleanup(shutil.rmtree, directory, True)
        path = os.path.join(directory, "peer.sock")
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen(1)
        self.addCleanup(server.close)

        def answer():
            client, _ = server.accept()
            self.addCleanup(client.close)
            client.sendall(first)
            if self.go.wait(30):
                client.sendall(later)

        threading.Thread(target=answer, daemon=True).start()
        return "siphon+unix://" + path

    def test_a_greeting_that_is_not_qmps_is_a_protocol_error(self):
        with self.assertRaises(siphon.libvirtError) as raised:
            siphon.open(self.serve(b'{"hello": "world"}\n'))
        self.assertEqual(siphon.VIR_ERR_RPC, raised.exception.get_error_code())

    def test_a_message_that_is_not_json_ends_the_connection_with_an_error(self):
        greeting = b'{"QMP":{"version":{},"capabilities":["events"]}}\n'
        conn = siphon.open(self.serve(greeting, b"{not json\n"))
        self.addCleanup(conn.close)
        closes = queue.Queue()
        conn.registerCloseCallback(lambda c, reason, opaque: closes.put(reason), None)
        self.go.set()
        self.assertEqual(siphon.VIR_CONNECT_CLOSE_REASON_ERROR, closes.get(timeout=30))
        with self.assertRaises(siphon.libvirtError) as raised:
            conn.listAllDomains()
        self.assertEqual(siphon.VIR_ERR_SYSTEM_ERROR, raised.exception.get_error_code())
        self.assertIn("malformed message", str(raised.exception))


if __name__ == "__main__":
    unittest.main()
