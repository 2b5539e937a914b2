"""``pip install ./python`` works offline: with and without build isolation (setuptools, when
the interpreter has it, or the in-tree backend's own wheel), and the installed package imports."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

from support import HERE

PROJECT = os.path.dirname(HERE)


def has_pip(python: str) -> bool:
    return subprocess.run([python, "-m", "pip", "--version"], capture_output=True).returncode == 0


class InstallTest(unittest.TestCase):
    def install(self, *options: str):
        source = tempfile.mkdtemp(prefix="siphon-py-src-")
        target = tempfile.mkdtemp(prefix="siphon-py-install-")
        self.addCleanup(shutil.rmtree, source, True)
        self.addCleanup(shutil.rmtree, target, True)
        # a copy, so that a setuptools build leaves nothing in the checkout
        project = shutil.copytree(PROJECT, os.path.join(source, "python"),
                                  ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--no-index", "--disable-pip-version-check", "-q",
             "--target", target, *options, project],
            capture_output=True, text=True, timeout=300,
        )
        self.assertEqual(0, done.returncode, done.stdout + done.stderr)
        check = subprocess.run(
            [sys.executable, "-c", "import siphon; print(siphon.__file__, siphon.VIR_DOMAIN_BLOCK_JOB_TYPE_PULL)"],
            capture_output=True, text=True, cwd=target, env=dict(os.environ, PYTHONPATH=target),
        )
        self.assertEqual(0, check.returncode, check.stderr)
        self.assertEqual("%s 1" % os.path.join(target, "siphon", "__init__.py"), check.stdout.strip())

    @unittest.skipUnless(has_pip(sys.executable), "this interpreter has no pip")
    def test_offline_install_without_build_isolation(self):
        self.install("--no-build-isolation")

    @unittest.skipUnless(has_pip(sys.executable), "this interpreter has no pip")
    def test_offline_install_with_build_isolation(self):
        self.install()

    def test_the_builtin_backend_writes_a_wheel_of_every_module(self):
        sys.path.insert(0, os.path.join(PROJECT, "_build"))
        try:
            import siphon_build
        finally:
            sys.path.pop(0)
        out = tempfile.mkdtemp(prefix="siphon-py-wheel-")
        self.addCleanup(shutil.rmtree, out, True)
        name = siphon_build._write_wheel(out, {n: open(p, "rb").read() for n, p in siphon_build._sources()})
        with zipfile.ZipFile(os.path.join(out, name)) as wheel:
            names = set(wheel.namelist())
        modules = {n for n in os.listdir(os.path.join(PROJECT, "siphon")) if n.endswith(".py")}
        self.assertEqual({"siphon/" + m for m in modules}, {n for n in names if n.startswith("siphon/")})
        self.assertIn("siphon-0.1.0.dist-info/METADATA", names)
        self.assertIn("siphon-0.1.0.dist-info/RECORD", names)


if __name__ == "__main__":
    unittest.main()
