"""virEventRegisterDefaultImpl()/virEventRunDefaultImpl(): a libvirt-style loop in the main
thread runs the callbacks and the timers (in a child process, as the loop is process-wide)."""

import json
import os
import subprocess
import sys
import unittest

from support import HERE, Events, domain_xml, siphon, template
from daemon import Daemon


class EventLoopTest(unittest.TestCase):
    def test_callbacks_and_timers_run_in_the_thread_looping_the_default_impl(self):
        daemon = Daemon()
        self.addCleanup(daemon.stop)
        xml = domain_xml("looped", template(os.path.join(daemon.dir, "disk.qcow2"), 1, 0))
        done = subprocess.run(
            [sys.executable, os.path.join(HERE, "loop_child.py"), daemon.uri, xml],
            capture_output=True, text=True, timeout=120,
            env=dict(os.environ, PYTHONPATH=os.path.dirname(HERE)),
        )
        self.assertEqual(0, done.returncode, done.stderr)
        seen = json.loads(done.stdout)
        self.assertEqual(
            [["looped", siphon.VIR_DOMAIN_EVENT_DEFINED, siphon.VIR_DOMAIN_EVENT_DEFINED_ADDED, "loop"],
             ["looped", siphon.VIR_DOMAIN_EVENT_UNDEFINED, siphon.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED, "loop"]],
            seen["events"],
        )
        self.assertGreaterEqual(seen["ticks"], 3)
        self.assertEqual(0, seen["timer_after_remove"])
        self.assertEqual(["MainThread"], seen["threads"])

    def test_without_a_registered_loop_callbacks_run_on_a_siphon_thread(self):
        # this process never registers the default loop
        daemon = Daemon()
        self.addCleanup(daemon.stop)
        with siphon.open(daemon.uri) as conn:
            events = Events(conn)
            conn.defineXML(domain_xml("threaded", template(os.path.join(daemon.dir, "d.qcow2"), 1, 0)))
            self.assertEqual("threaded", events.next("lifecycle")[0])
            self.assertEqual("siphon-events", events.threads.pop())


if __name__ == "__main__":
    unittest.main()
