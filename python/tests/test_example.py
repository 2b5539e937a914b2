"""examples/blockpull-events.py, written against libvirt-python's API, runs unchanged against a
real daemon with ``import siphon as libvirt``: a throttled pull, progress, the event."""

import os
import subprocess
import sys
import unittest

from support import HERE, domain_xml, overlay, siphon, template
from daemon import Daemon

EXAMPLE = os.path.join(os.path.dirname(HERE), "examples", "blockpull-events.py")


class ExampleTest(unittest.TestCase):
    def setUp(self):
        self.daemon = Daemon()
        self.addCleanup(self.daemon.stop)

    def test_the_only_line_naming_siphon_is_the_import(self):
        with open(EXAMPLE) as f:
            code = [line for line in f if not line.lstrip().startswith("#")]
        self.assertEqual(["import siphon as libvirt\n"], [line for line in code if "siphon" in line.lower()])

    def test_the_example_pulls_and_sees_the_completion_event(self):
        clone = overlay(os.path.join(self.daemon.dir, "clone.qcow2"),
                        template(os.path.join(self.daemon.dir, "template.qcow2"), 16, 6))
        with siphon.open(self.daemon.uri) as conn:
            conn.defineXML(domain_xml("example", clone)).create()
        done = subprocess.run(
            [sys.executable, EXAMPLE, "-c", self.daemon.uri, "--bandwidth", "3", "--timeout", "120", "example", "vda"],
            capture_output=True, text=True, timeout=180,
            env=dict(os.environ, PYTHONPATH=os.path.dirname(HERE)),
        )
        self.assertEqual(0, done.returncode, done.stdout + done.stderr)
        self.assertIn("progress: ", done.stdout)
        self.assertIn("at 3 MiB/s", done.stdout)
        self.assertIn("block job: domain example disk vda Pull Completed", done.stdout)
        self.assertNotIn("Traceback", done.stderr)


if __name__ == "__main__":
    unittest.main()
