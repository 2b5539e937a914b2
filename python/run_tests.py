"""Runs the binding's unittest suites (python/tests) against real daemons, as scripts/test does
after Maven's verify, and ends with a line "python: N passed, N failed, N skipped"."""

import os
import sys
import unittest

if sys.version_info < (3, 11):
    sys.exit("python: the binding needs Python 3.11 or newer, not %s" % sys.version.split()[0])

tests = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests")
suite = unittest.TestLoader().discover(start_dir=tests, top_level_dir=tests)
result = unittest.TextTestRunner(verbosity=2).run(suite)
failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
skipped = len(result.skipped)
passed = result.testsRun - failed - skipped - len(result.expectedFailures)
for test, why in result.skipped:
    print("python: skipped %s: %s" % (test.id(), why), file=sys.stderr)
sys.stderr.flush()
print("python: %d passed, %d failed, %d skipped" % (passed, failed, skipped), flush=True)
sys.exit(0 if result.wasSuccessful() else 1)
