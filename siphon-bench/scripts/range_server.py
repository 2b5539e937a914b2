#!/usr/bin/env python3
"""A small HTTP/1.1 server for the remote-template benchmarks: serves the files of DIR with byte
ranges (HEAD, GET with Range, ETag, Accept-Ranges), or with --upstream PORT stands in front of
another server on 127.0.0.1:PORT (s3proxy), forwarding every request as it came and adding the
Accept-Ranges header QEMU's curl driver looks for. Either way it counts the body bytes it sent, and
with --rate MIB sends at most MIB MiB/s over all connections together (a slow link). GET /__stats
answers {"bytes": N, "requests": N}; GET /__reset zeroes both. Prints its port on stdout.
Usage: range_server.py [--rate MIB] (DIR | --upstream PORT)"""
import argparse
import http.client
import http.server
import json
import os
import re
import threading
import time

ARGS = argparse.ArgumentParser()
ARGS.add_argument("--rate", type=float, default=0, help="MiB/s over all connections (0: unlimited)")
ARGS.add_argument("--upstream", type=int, help="forward to this port on 127.0.0.1")
ARGS.add_argument("root", nargs="?", help="the directory served")
OPTIONS = ARGS.parse_args()
if (OPTIONS.root is None) == (OPTIONS.upstream is None):
    ARGS.error("give DIR or --upstream PORT")

LOCK = threading.Lock()
STATS = {"bytes": 0, "requests": 0}
RANGE = re.compile(r"bytes=(\d+)-(\d+)$")
PIECE = 256 << 10
# the link's schedule: when the next byte may leave, shared by every connection (a token bucket
# without a burst)
LINK = {"next": 0.0}


def send(wfile, data):
    """Writes data, keeping to the link's rate, and counts it."""
    for start in range(0, len(data), PIECE):
        piece = data[start:start + PIECE]
        if OPTIONS.rate > 0:
            with LOCK:
                now = time.monotonic()
                begin = max(now, LINK["next"])
                LINK["next"] = begin + len(piece) / (OPTIONS.rate * (1 << 20))
                done = LINK["next"]
            time.sleep(max(0.0, done - now))
        wfile.write(piece)
        with LOCK:
            STATS["bytes"] += len(piece)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _file(self):
        path = os.path.join(OPTIONS.root, os.path.basename(self.path))
        return path if os.path.isfile(path) else None

    def _headers(self, status, length, extra=()):
        self.send_response(status)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()

    def _stats(self):
        with LOCK:
            if self.path == "/__reset":
                STATS.update(bytes=0, requests=0)
            body = json.dumps(STATS).encode()
        self._headers(200, len(body))
        self.wfile.write(body)

    def _forward(self, body_wanted):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection("127.0.0.1", OPTIONS.upstream, timeout=300)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        upstream.request(self.command, self.path, body=body, headers=headers)
        reply = upstream.getresponse()
        data = reply.read()
        self.send_response(reply.status)
        names = set()
        for name, value in reply.getheaders():
            if name.lower() in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                continue
            names.add(name.lower())
            self.send_header(name, value)
        if "accept-ranges" not in names:
            self.send_header("Accept-Ranges", "bytes")
        length = reply.getheader("Content-Length") if not body_wanted else str(len(data))
        self.send_header("Content-Length", length or str(len(data)))
        self.end_headers()
        upstream.close()
        if body_wanted:
            send(self.wfile, data)
        with LOCK:
            STATS["requests"] += 1

    def do_HEAD(self):
        if OPTIONS.upstream:
            self._forward(False)
            return
        path = self._file()
        if path is None:
            self._headers(404, 0)
            return
        st = os.stat(path)
        self._headers(200, st.st_size, [("ETag", '"%d-%d"' % (st.st_size, st.st_mtime_ns))])

    def do_PUT(self):
        self._forward(True)

    def do_GET(self):
        if self.path in ("/__stats", "/__reset"):
            self._stats()
            return
        if OPTIONS.upstream:
            self._forward(True)
            return
        path = self._file()
        if path is None:
            self._headers(404, 0)
            return
        st = os.stat(path)
        etag = '"%d-%d"' % (st.st_size, st.st_mtime_ns)
        start, end, status = 0, st.st_size - 1, 200
        extra = [("ETag", etag)]
        match = RANGE.match(self.headers.get("Range", ""))
        if match:
            start, end = int(match.group(1)), min(int(match.group(2)), st.st_size - 1)
            status = 206
            extra.append(("Content-Range", "bytes %d-%d/%d" % (start, end, st.st_size)))
        self._headers(status, end - start + 1, extra)
        with open(path, "rb") as f:
            f.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = f.read(min(left, 1 << 20))
                if not chunk:
                    break
                send(self.wfile, chunk)
                left -= len(chunk)
        with LOCK:
            STATS["requests"] += 1


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
