"""Where event callbacks run.

Without an event loop registered, each connection runs its callbacks on its own background
thread ("siphon-events"), in arrival order. After virEventRegisterDefaultImpl(), callbacks are
queued for the default loop instead and run inside virEventRunDefaultImpl(), on whichever
thread the application loops it, as with libvirt. The loop also runs libvirt-style timers.
"""

import collections
import itertools
import sys
import threading
import time
import traceback

from . import constants as c
from .errors import error


def run_callback(task) -> None:
    try:
        task()
    except Exception:
        # as libvirt-python: a failing callback is reported and the loop goes on
        traceback.print_exc(file=sys.stderr)


class _Timer:
    __slots__ = ("interval", "due", "cb", "opaque")

    def __init__(self, interval_ms: int, cb, opaque):
        self.cb = cb
        self.opaque = opaque
        self.interval = -1
        self.due = None
        self.set_interval(interval_ms)

    def set_interval(self, interval_ms: int) -> None:
        self.interval = interval_ms
        self.due = None if interval_ms < 0 else time.monotonic() + interval_ms / 1000.0


class DefaultLoop:
    """The process's default event loop: a queue of callbacks and a set of timers."""

    def __init__(self):
        self._cond = threading.Condition()
        self._queue = collections.deque()
        self._timers: dict[int, _Timer] = {}
        self._timer_ids = itertools.count(1)
        self.registered = False

    def register(self) -> None:
        self.registered = True

    def post(self, task) -> None:
        with self._cond:
            self._queue.append(task)
            self._cond.notify_all()

    def add_timeout(self, timeout: int, cb, opaque) -> int:
        with self._cond:
            key = next(self._timer_ids)
            self._timers[key] = _Timer(timeout, cb, opaque)
            self._cond.notify_all()
            return key

    def update_timeout(self, timer: int, timeout: int) -> None:
        with self._cond:
            if timer in self._timers:
                self._timers[timer].set_interval(timeout)
                self._cond.notify_all()

    def remove_timeout(self, timer: int) -> int:
        with self._cond:
            removed = self._timers.pop(timer, None)
            self._cond.notify_all()
        if removed is None:
            raise error(c.VIR_ERR_INVALID_ARG, "no timer %d" % timer)
        return 0

    def run_once(self) -> int:
        """Waits until callbacks are queued or a timer is due, runs them, and returns 0."""
        with self._cond:
            while True:
                now = time.monotonic()
                due = [(k, t) for k, t in self._timers.items() if t.due is not None and t.due <= now]
                if self._queue or due:
                    break
                nexts = [t.due for t in self._timers.values() if t.due is not None]
                self._cond.wait(None if not nexts else max(0.0, min(nexts) - now))
            tasks = list(self._queue)
            self._queue.clear()
            for _, timer in due:
                timer.due = now + timer.interval / 1000.0
        for task in tasks:
            run_callback(task)
        for key, timer in due:
            run_callback(lambda: timer.cb(key, timer.opaque))
        return 0


DEFAULT_LOOP = DefaultLoop()


class Dispatcher:
    """A connection's callbacks: on its own thread, or on the default loop once one is registered."""

    def __init__(self):
        self._cond = threading.Condition()
        self._queue = collections.deque()
        self._thread = None

    def post(self, task) -> None:
        if DEFAULT_LOOP.registered:
            DEFAULT_LOOP.post(task)
            return
        with self._cond:
            self._queue.append(task)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="siphon-events", daemon=True)
                self._thread.start()
            self._cond.notify()

    def stop(self) -> None:
        """Ends the thread once the callbacks queued so far have run."""
        with self._cond:
            if self._thread is not None:
                self._queue.append(None)
                self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                task = self._queue.popleft()
            if task is None:
                with self._cond:
                    self._thread = None
                return
            run_callback(task)
