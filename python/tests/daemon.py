"""A real Siphon daemon for the tests, run from the built jars as the ./siphon launcher runs them."""

import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
START_SECONDS = 60


def java() -> str:
    """The JDK 25 java: $JAVA_HOME's, else the one scripts/env.sh finds."""
    home = os.environ.get("JAVA_HOME")
    if not home:
        found = subprocess.run(
            ["sh", "-c", '. "$1/scripts/env.sh" && siphon_find_jdk >&2 && printf %s "$JAVA_HOME"', "sh", REPO],
            capture_output=True, text=True,
        )
        home = found.stdout.strip()
    path = os.path.join(home, "bin", "java") if home else ""
    if not os.access(path, os.X_OK):
        raise RuntimeError("no JDK 25 found (set JAVA_HOME, or install one under /usr/lib/jvm)")
    return path


def cli_command() -> list[str]:
    """``siphon`` as the launcher runs it: java on siphon-cli's jar and its lib directory."""
    jar = os.path.join(REPO, "siphon-cli", "target", "siphon-cli.jar")
    lib = os.path.join(REPO, "siphon-cli", "target", "lib")
    if not (os.path.isfile(jar) and os.path.isdir(lib)):
        raise RuntimeError("%s is not built: run scripts/test (or mvn package -pl siphon-cli -am) first" % jar)
    return [java(), "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp", jar + ":" + lib + "/*", "io.siphon.cli.Main"]


def cli_command_line() -> str:
    """cli_command() as one shell-quoted line, for $SIPHON_COMMAND."""
    return " ".join(shlex.quote(part) for part in cli_command())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(path: str) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(2)
        probe.connect(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def task_state(task: str) -> str:
    try:
        with open(os.path.join(task, "stat")) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "X"  # the thread has ended


class Daemon:
    """``siphon daemon --state-dir DIR [extra]`` in a temporary state directory, until stop()."""

    def __init__(self, *extra: str, wait_for_port: int | None = None):
        self.dir = tempfile.mkdtemp(prefix="siphon-py-")
        self.state = os.path.join(self.dir, "state")
        os.makedirs(self.state)
        self.socket = os.path.join(self.state, "siphon.sock")
        self.ro_socket = os.path.join(self.state, "siphon-ro.sock")
        self.log = os.path.join(self.dir, "daemon.log")
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                cli_command() + ["daemon", "--state-dir", self.state, *extra],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_SECONDS
        while not self._ready(wait_for_port):
            if self.process.poll() is not None:
                raise RuntimeError("the daemon exited with %d: %s" % (self.process.returncode, self.log_text()))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the daemon did not listen within %d s: %s" % (START_SECONDS, self.log_text()))
            time.sleep(0.05)

    def _ready(self, port: int | None) -> bool:
        if not _answers(self.socket):
            return False
        if port is None:
            return True
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return True
        except OSError:
            return False

    @property
    def uri(self) -> str:
        return "siphon+unix://" + self.socket

    @property
    def ro_uri(self) -> str:
        return "siphon+unix://" + self.ro_socket

    def log_text(self) -> str:
        with open(self.log, errors="replace") as f:
            return f.read()[-4000:]

    def pause(self) -> None:
        """Stops the daemon (SIGSTOP) and waits until every one of its threads is stopped."""
        self.process.send_signal(signal.SIGSTOP)
        tasks = "/proc/%d/task" % self.process.pid
        deadline = time.monotonic() + 30
        while not all(task_state(os.path.join(tasks, t)) in ("T", "t", "X", "Z") for t in os.listdir(tasks)):
            if time.monotonic() > deadline:
                raise RuntimeError("the daemon did not stop within 30 s")
            time.sleep(0.01)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)
        shutil.rmtree(self.dir, ignore_errors=True)
