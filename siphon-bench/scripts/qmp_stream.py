#!/usr/bin/env python3
"""QEMU's side of siphon-bench/scripts/pull.sh: block-stream through a running qemu-storage-daemon over QMP.

Usage: qmp_stream.py SOCKET [SPEED]
  -> prints "ms=<block-stream to BLOCK_JOB_COMPLETED> durable_ms=<block-stream to the daemon's exit after quit>"
"""
import json
import socket
import sys
import time


def main():
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.monotonic() + 120
    while True:
        try:
            sock.connect(sys.argv[1])
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    stream = sock.makefile("rw")

    def send(cmd, args=None):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        stream.write(json.dumps(msg) + "\n")
        stream.flush()

    def receive():
        return json.loads(stream.readline())

    receive()  # greeting
    send("qmp_capabilities")
    receive()
    args = {"job-id": "pull", "device": "top"}
    if len(sys.argv) > 2:
        args["speed"] = int(sys.argv[2])
    start = time.monotonic()
    send("block-stream", args)
    while True:
        msg = receive()
        if "error" in msg:
            sys.exit("block-stream failed: " + json.dumps(msg))
        if msg.get("event") == "BLOCK_JOB_COMPLETED":
            elapsed = time.monotonic() - start
            if "error" in msg.get("data", {}):
                sys.exit("block-stream failed: " + json.dumps(msg))
            break
    # QEMU has not made the copied data durable yet (it flushes when the node closes): time the
    # daemon's quit too, so that both sides are measured to durable data.
    send("quit")
    try:
        while stream.readline():
            pass
    except ConnectionResetError:
        pass  # the daemon exited
    durable = time.monotonic() - start
    print("ms=%d durable_ms=%d" % (elapsed * 1000, durable * 1000), flush=True)


main()
