"""Against Debian's python3-libvirt: the binding's constants, functions and methods have
libvirt's names, values and signatures. python3-libvirt installs for /usr/bin/python3, which
may not be the interpreter running the tests, so the check runs in whichever has it."""

import json
import os
import subprocess
import sys
import unittest

from support import HERE
from test_example import EXAMPLE

CANDIDATES = [sys.executable, "/usr/bin/python3"]


def interpreter_with_libvirt():
    for candidate in CANDIDATES:
        if os.access(candidate, os.X_OK):
            probe = subprocess.run([candidate, "-c", "import sys, libvirt; assert sys.version_info >= (3, 11)"],
                                   capture_output=True)
            if probe.returncode == 0:
                return candidate
    return None


class LibvirtCompatibilityTest(unittest.TestCase):
    def test_every_name_has_libvirts_value_and_signature(self):
        python = interpreter_with_libvirt()
        if python is None:
            self.skipTest("libvirt-python cannot be imported by %s (Python 3.11 or newer); "
                          "install Debian's python3-libvirt to run this comparison" % " nor ".join(CANDIDATES))
        done = subprocess.run(
            [python, os.path.join(HERE, "libvirt_compat.py"), EXAMPLE],
            capture_output=True, text=True, timeout=120,
            env=dict(os.environ, PYTHONPATH=os.path.dirname(HERE)),
        )
        self.assertEqual(0, done.returncode, done.stderr)
        report = json.loads(done.stdout)
        self.assertEqual([], report["problems"])
        self.assertGreater(report["checked"], 100, "constants and methods were compared")


if __name__ == "__main__":
    unittest.main()
