"""siphon:///session: the per-user daemon is found in $SIPHON_SESSION_DIR and started on demand
with $SIPHON_COMMAND, as the Java client starts it; a second open reuses it."""

import os
import shutil
import signal
import tempfile
import unittest
from unittest import mock

from support import siphon, wait_until
from daemon import cli_command_line, task_state


class SessionTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="siphon-py-session-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.state = os.path.join(self.dir, "session")
        environment = {"SIPHON_SESSION_DIR": self.state, "SIPHON_COMMAND": cli_command_line()}
        patcher = mock.patch.dict(os.environ, environment)
        patcher.start()
        self.addCleanup(patcher.stop)
        os.environ.pop("SIPHON_DEFAULT_URI", None)
        self.addCleanup(self.stop_daemon)

    def pid(self) -> int | None:
        try:
            with open(os.path.join(self.state, "daemon.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop_daemon(self):
        pid = self.pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        wait_until("the session daemon stops", lambda: task_state("/proc/%d" % pid) in ("Z", "X"), timeout=60)

    def test_open_without_a_uri_starts_the_session_daemon_once(self):
        self.assertFalse(os.path.exists(self.state))
        with siphon.open() as conn:
            self.assertEqual("siphon:///session", conn.getURI())
            self.assertEqual([], conn.listAllDomains())
        self.assertTrue(os.path.exists(os.path.join(self.state, "siphon.sock")))
        first = self.pid()
        self.assertIsNotNone(first)
        self.assertTrue(os.path.exists(os.path.join(self.state, "daemon.log")))
        with siphon.openReadOnly("siphon:///session") as conn:
            self.assertEqual([], conn.listAllDomains())
        self.assertEqual(first, self.pid(), "the running daemon is reused")

    def test_no_command_to_start_the_daemon_is_a_libvirt_error(self):
        os.environ["SIPHON_COMMAND"] = ""
        os.environ["PATH"] = self.dir  # no siphon launcher there
        with self.assertRaises(siphon.libvirtError) as raised:
            siphon.open("siphon:///session")
        self.assertEqual(siphon.VIR_ERR_SYSTEM_ERROR, raised.exception.get_error_code())
        self.assertIn("SIPHON_COMMAND", str(raised.exception))


if __name__ == "__main__":
    unittest.main()
