#!/usr/bin/env python3
"""The measurements of siphon-bench/scripts/smart-pull.sh (which builds Siphon and starts its daemon).

Usage: smart_pull.py WORK SIPHON_SOCKET
  WORK holds template.qcow2 (a random-data qcow2 template); the daemon's state is WORK/state.
Environment: PULL_S (longest a measured pull may run, default 40), REPEATS (rounds of the pacing
part, default 3), TRACE_CLUSTERS (256), SEED (1).

Part 1, pacing: fio 4k randread QD4 (--ioengine=nbd) on the disk's NBD export for IDLE_S (3)
seconds without a pull, then while a pull runs: steady (fio throughout) and intermittent (fio 2 s
on, then 2 s off after it exits), then IDLE_S seconds without a pull again;
for Siphon unlimited, 100 MiB/s and --pace guest, and for qemu-storage-daemon's block-stream
unlimited and at 100 MiB/s on the same files. The machine may be shared, so each pull is compared
with the mean of the guest's idle runs just before and just after it, every configuration runs
once per round (REPEATS rounds, interleaved), and the report gives each figure's median over the
rounds with the machine's load average. A pull that has not ended after PULL_S is cancelled and
its progress reported.
Part 2, prefetch: a scripted boot (reads of TRACE_CLUSTERS random 64 KiB clusters, some twice)
recorded into the template's access profile by a first start, then a second clone pulled at
100 MiB/s in offset and in profile order: the time until every hot cluster is copied, and the
second boot's read latency while the pull runs.
"""
import itertools
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

MIB = 1 << 20
WORK, SIPHON_SOCK = sys.argv[1], sys.argv[2]
TEMPLATE = os.path.join(WORK, "template.qcow2")
TOP = os.path.join(WORK, "top.qcow2")
PULL_S = float(os.environ.get("PULL_S", "40"))
REPEATS = int(os.environ.get("REPEATS", "3"))
PERIOD_S = 2.0
PULLS = itertools.count(1)  # names the domains of the pacing runs
IDLE_S = int(os.environ.get("IDLE_S", "3"))
TRACE_CLUSTERS = int(os.environ.get("TRACE_CLUSTERS", "256"))
LIMIT = 100 * MIB


def log(*what):
    print(*what, file=sys.stderr, flush=True)


def size_bytes():
    info = json.loads(subprocess.check_output(["qemu-img", "info", "--output=json", TEMPLATE]))
    return info["virtual-size"]


def fresh_top(path=TOP):
    if os.path.exists(path):
        os.unlink(path)
    subprocess.check_call(["qemu-img", "create", "-q", "-f", "qcow2", "-b", "template.qcow2", "-F", "qcow2", path])


def check_pulled(path):
    info = json.loads(subprocess.check_output(["qemu-img", "info", "--output=json", path]))
    if "backing-filename" in info:
        return "not pulled"
    subprocess.check_call(["qemu-img", "compare", "-q", TEMPLATE, path])
    subprocess.check_call(["qemu-img", "check", "-q", path])
    return "same content, check clean"


class Control:
    """A QMP-shaped JSON-lines client: Siphon's control protocol or QEMU's QMP."""

    def __init__(self, path, qmp=False):
        deadline = time.monotonic() + 60
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.stream = self.sock.makefile("rw")
        self.events = []
        self.next_id = 0
        json.loads(self.stream.readline())  # greeting
        if qmp:
            self.call("qmp_capabilities")

    def call(self, command, **arguments):
        self.next_id += 1
        message = {"execute": command, "id": self.next_id}
        if arguments:
            message["arguments"] = arguments
        self.stream.write(json.dumps(message) + "\n")
        self.stream.flush()
        while True:
            reply = json.loads(self.stream.readline())
            if "event" in reply:
                self.events.append(reply)
                continue
            if reply.get("id") != self.next_id:
                continue
            if "error" in reply:
                raise RuntimeError(command + ": " + json.dumps(reply["error"]))
            return reply.get("return")

    def close(self):
        self.sock.close()


class Fio:
    """fio 4k randread QD4 over NBD until stopped (SIGINT makes it report), or for a fixed time."""

    def __init__(self, uri, runtime_s=600):
        self.proc = subprocess.Popen(
            ["fio", "--name=guest", "--ioengine=nbd", "--uri=" + uri, "--rw=randread", "--bs=4k", "--iodepth=4",
             "--size=%dM" % (size_bytes() // MIB), "--time_based", "--runtime=%d" % runtime_s,
             "--output-format=json"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.result()

    def result(self):
        out, _ = self.proc.communicate(timeout=120)
        job = json.loads(out[out.index("{"):])["jobs"][0]["read"]
        percentiles = job.get("clat_ns", {}).get("percentile", {})
        return job["iops"], percentiles.get("99.000000", 0) / 1000.0


class GuestLoad:
    """fio on the disk while a pull runs: steady (one fio throughout) or intermittent."""

    def __init__(self, uri, load):
        self.running = True
        self.fio = None
        self.loader = None
        self.on = []
        if load == "steady":
            self.fio = Fio(uri)
            time.sleep(1)  # fio connected and running before the pull starts
        else:
            self.loader = threading.Thread(target=lambda: self.on.extend(intermittent(uri, lambda: self.running)))
            self.loader.start()

    def stop(self):
        """Ends the load: the steady run's (iops, p99), or None; and the intermittent on-periods."""
        self.running = False
        guest = self.fio.stop() if self.fio else None
        if self.loader:
            self.loader.join()
        return guest, self.on


def intermittent(uri, running):
    """fio PERIOD_S on, then PERIOD_S off after it exits (its start-up only lengthens the idle
    gap), while running() holds; returns the on periods' (iops, p99)."""
    results = []
    while running():
        results.append(Fio(uri, int(PERIOD_S)).result())
        idle_until = time.monotonic() + PERIOD_S
        while running() and time.monotonic() < idle_until:
            time.sleep(0.05)
    return results


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def idle_reference(before, after):
    """The guest's idle (iops, p99) for a pull: the mean of the runs just before and just after it."""
    return (before[0] + after[0]) / 2, (before[1] + after[1]) / 2


def siphon_domain(control, name, top):
    xml = ("<domain><name>%s</name><devices><disk type='file'><driver type='qcow2'/><source file='%s'/>"
           "<target dev='vda'/></disk></devices></domain>") % (name, top)
    control.call("domain-define", xml=xml)
    control.call("domain-start", domain=name)
    return control.call("domain-disks", domain=name)[0]["nbd-uri"]


def siphon_stop(control, name):
    control.call("domain-shutdown", domain=name)
    control.call("domain-undefine", domain=name)


def await_siphon_pull(control, name):
    """Seconds until the job ends, or None when it was cancelled after PULL_S; and its last info."""
    start = time.monotonic()
    last = {}
    while True:
        job = control.call("block-job-info", domain=name, disk="vda").get("job")
        if job is None:
            return time.monotonic() - start, last
        last = job
        if time.monotonic() - start > PULL_S:
            control.call("block-job-abort", domain=name, disk="vda")
            return None, last
        time.sleep(0.05)


def siphon_run(control, speed, pace, load):
    name = "pace%d" % next(PULLS)
    fresh_top()
    uri = siphon_domain(control, name, TOP)
    idle = Fio(uri, IDLE_S).result()
    args = {"domain": name, "disk": "vda", "bandwidth-bytes": speed}
    if pace:
        args["pace"] = "guest"
    guest_load = GuestLoad(uri, load)
    control.call("block-pull", **args)
    seconds, last = await_siphon_pull(control, name)
    guest, on = guest_load.stop()
    idle = idle_reference(idle, Fio(uri, IDLE_S).result())
    siphon_stop(control, name)
    verdict = check_pulled(TOP) if seconds is not None else "cancelled at %.0f%%" % (
        100.0 * last.get("cur", 0) / max(1, last.get("end", 1)))
    return seconds, idle, guest, on, verdict


def qemu_run(speed, load):
    qmp_sock = os.path.join(WORK, "qmp.sock")
    nbd_sock = os.path.join(WORK, "qemu-nbd.sock")
    for path in (qmp_sock, nbd_sock):
        if os.path.exists(path):
            os.unlink(path)
    fresh_top()
    qsd = subprocess.Popen(
        ["qemu-storage-daemon", "--chardev", "socket,path=%s,server=on,wait=off,id=qmp0" % qmp_sock,
         "--monitor", "chardev=qmp0",
         "--blockdev", json.dumps({"driver": "qcow2", "node-name": "top",
                                   "file": {"driver": "file", "filename": TOP}}),
         "--nbd-server", "addr.type=unix,addr.path=%s" % nbd_sock,
         "--export", "type=nbd,id=e0,node-name=top,name=vda,writable=on"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    control = Control(qmp_sock, qmp=True)
    uri = "nbd+unix:///vda?socket=" + nbd_sock
    try:
        idle = Fio(uri, IDLE_S).result()
        guest_load = GuestLoad(uri, load)
        args = {"job-id": "pull", "device": "top"}
        if speed:
            args["speed"] = speed
        start = time.monotonic()
        control.call("block-stream", **args)
        seconds = None
        while time.monotonic() - start < PULL_S:
            control.call("query-block-jobs")
            if any(e.get("event") == "BLOCK_JOB_COMPLETED" for e in control.events):
                seconds = time.monotonic() - start
                break
            time.sleep(0.05)
        progress = ""
        if seconds is None:
            jobs = control.call("query-block-jobs")
            if jobs:
                progress = "cancelled at %.0f%%" % (100.0 * jobs[0]["offset"] / max(1, jobs[0]["len"]))
            control.call("block-job-cancel", device="pull", force=True)
        guest, on = guest_load.stop()
        idle = idle_reference(idle, Fio(uri, IDLE_S).result())
        return seconds, idle, guest, on, progress
    finally:
        try:
            control.call("quit")
        except Exception:
            pass
        qsd.wait(timeout=60)


def qemu_pull(speed, load):
    seconds, idle, guest, on, progress = qemu_run(speed, load)
    # QEMU's data is durable once its daemon has quit: only then can the files be compared
    return seconds, idle, guest, on, check_pulled(TOP) if seconds is not None else progress


def median(values):
    values = sorted(values)
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def kept(guest, on, idle, load):
    """The guest's (IOPS kept, p99 against idle) during one pull; None when no fio period ran."""
    if load == "steady":
        runs = [guest] if guest else []
    else:
        runs = on
    if not runs or not idle[0] or not idle[1]:
        return None
    iops = sum(r[0] for r in runs) / len(runs)
    p99 = sum(r[1] for r in runs) / len(runs)
    return iops / idle[0], p99 / idle[1]


class Figures:
    """One configuration's runs, reported as medians."""

    def __init__(self, engine, label, load):
        self.engine, self.label, self.load = engine, label, load
        self.seconds, self.kept, self.p99, self.idle_iops, self.loads, self.verdicts = [], [], [], [], [], []
        self.cancelled = 0
        self.per_round = []  # each round's pull time, None when cancelled

    def add(self, seconds, idle, guest, on, verdict, machine_load):
        self.per_round.append(seconds)
        if seconds is None:
            self.cancelled += 1
        else:
            self.seconds.append(seconds)
        figures = kept(guest, on, idle, self.load)
        if figures:
            self.kept.append(figures[0])
            self.p99.append(figures[1])
        self.idle_iops.append(idle[0])
        self.loads.append(machine_load)
        self.verdicts.append(verdict)
        print("  run: %s %s %s: pull %s; idle %.0f IOPS p99 %.0f us; kept %s; p99 %s; load %.1f; %s" % (
            self.engine, self.label, self.load, "%.1f s" % seconds if seconds else ">%.0f s" % PULL_S, idle[0],
            idle[1], "%.0f%%" % (100 * figures[0]) if figures else "-", "%.2fx" % figures[1] if figures else "-",
            machine_load, verdict), flush=True)

    def row(self):
        pull = median(self.seconds)
        pull_text = ("%.1f s" % pull) if pull is not None else ">%.0f s" % PULL_S
        if self.cancelled:
            pull_text += " (%d of %d cancelled)" % (self.cancelled, len(self.verdicts))
        kept_text = "%.0f%%" % (100 * median(self.kept)) if self.kept else "-"
        p99_text = "%.2fx" % median(self.p99) if self.p99 else "-"
        clean = all(v == "same content, check clean" for v in self.verdicts if not v.startswith("cancelled"))
        return "| %s %s | %s | %s | %s | %s | %.0f | %.1f–%.1f | %s |" % (
            self.engine, self.label, self.load, pull_text, kept_text, p99_text, median(self.idle_iops),
            min(self.loads), max(self.loads), "same, clean" if clean else "; ".join(sorted(set(self.verdicts))))


def pacing(control):
    print("== pacing: fio 4k randread QD4 on the disk's NBD export; %d MiB template; %d rounds; pulls cancelled "
          "after %.0f s; load average %.1f at the start" % (size_bytes() // MIB, REPEATS, PULL_S, load_average()))
    configs = []
    for load in ("steady", "intermittent"):
        for label, speed, pace in (("unlimited", 0, False), ("100 MiB/s", LIMIT, False), ("--pace guest", 0, True)):
            configs.append((Figures("siphon", label, load), lambda l=load, sp=speed, pa=pace: siphon_run(control, sp, pa, l)))
        for label, speed in (("unlimited", 0), ("100 MiB/s", LIMIT)):
            configs.append((Figures("qemu", label, load), lambda l=load, sp=speed: qemu_pull(sp, l)))
    # ONLY="siphon --pace guest steady|siphon unlimited intermittent" runs the pulls whose "engine label
    # load" contains one of the |-separated parts
    only = os.environ.get("ONLY", "").split("|")
    configs = [(f, run) for f, run in configs if any(o in "%s %s %s" % (f.engine, f.label, f.load) for o in only)]
    for round_number in range(REPEATS):
        log("round %d of %d" % (round_number + 1, REPEATS))
        for figures, run in configs:
            log("%s %s, %s load" % (figures.engine, figures.label, figures.load))
            figures.add(*run(), load_average())
    print("| pull | load | pull time (median) | guest IOPS kept | guest p99 vs idle | idle IOPS | load average | result |")
    print("|---|---|---:|---:|---:|---:|---|---|")
    for figures, _ in configs:
        print(figures.row())
    by_name = {(f.engine, f.label, f.load): f for f, _ in configs}
    none = Figures("", "", "")
    paced_steady = by_name.get(("siphon", "--pace guest", "steady"), none)
    # paced against unpaced in the same round: the two ran a minute apart, under the same load
    ratios = [p / u for p, u in zip(by_name.get(("siphon", "--pace guest", "intermittent"), none).per_round,
                                    by_name.get(("siphon", "unlimited", "intermittent"), none).per_round) if p and u]
    print("targets: --pace guest keeps %s of idle IOPS under steady load (target >= 90%%); paced/unpaced pull time "
          "under intermittent load, per round %s, median %s (target <= 1.5x); load average %.1f at the end" % (
              "%.0f%%" % (100 * median(paced_steady.kept)) if paced_steady.kept else "-",
              " ".join("%.2fx" % r for r in ratios) or "-", "%.2fx" % median(ratios) if ratios else "-",
              load_average()))
    sys.stdout.flush()


def trace():
    rng = random.Random(int(os.environ.get("SEED", "1")))
    clusters = size_bytes() // 65536
    hot = rng.sample(range(clusters), TRACE_CLUSTERS)
    reads = [c * 65536 for c in hot] + [c * 65536 for c in hot[: TRACE_CLUSTERS // 4]]
    return hot, reads


def boot(uri, reads):
    """Runs the scripted boot's reads with qemu-io; returns their mean latency in microseconds."""
    args = ["qemu-io", "-f", "raw"]
    for offset in reads:
        args += ["-c", "read %d 65536" % offset]
    out = subprocess.check_output(args + [uri], text=True)
    rates = [float(x) for x in re.findall(r"and ([0-9.]+) ops/sec", out)]
    return sum(1e6 / r for r in rates) / len(rates)


def prefetch(control):
    hot, reads = trace()
    print("== prefetch: a scripted boot reads %d random 64 KiB clusters (a quarter twice); pulls at 100 MiB/s"
          % len(hot))
    first = os.path.join(WORK, "first.qcow2")
    fresh_top(first)
    uri = siphon_domain(control, "first", first)
    boot(uri, reads)
    siphon_stop(control, "first")  # the recording ends: the template's profile is saved
    last_hot = max(hot) * 65536 + 65536
    for order in ("offset", "profile"):
        fresh_top()
        name = "second-" + order
        uri = siphon_domain(control, name, TOP)
        start = time.monotonic()
        control.call("block-pull", domain=name, disk="vda", **{"bandwidth-bytes": LIMIT, "order": order})
        latency = {}
        booter = threading.Thread(target=lambda: latency.update(us=boot(uri, reads)))
        booter.start()
        hot_local = None
        while True:
            job = control.call("block-job-info", domain=name, disk="vda").get("job")
            if job is None:
                total = time.monotonic() - start
                hot_local = hot_local or total
                break
            done = job.get("phase") == "offset" if order == "profile" else job["cur"] >= last_hot
            if hot_local is None and done:
                hot_local = time.monotonic() - start
            time.sleep(0.02)
        booter.join()
        siphon_stop(control, name)
        print("order %-8s hot set local after %6.2f s; pull %6.1f s; second boot's reads %5.0f us mean; %s"
              % (order, hot_local, total, latency.get("us", 0), check_pulled(TOP)))
        sys.stdout.flush()


def main():
    control = Control(SIPHON_SOCK)
    parts = os.environ.get("PARTS", "pacing prefetch").split()
    # prefetch first: the pacing part's fio runs would be recorded into the template's profile too
    if "prefetch" in parts:
        prefetch(control)
    if "pacing" in parts:
        pacing(control)


if __name__ == "__main__":
    main()
