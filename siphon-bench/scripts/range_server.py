#!/usr/bin/env python3
"""A small HTTP/1.1 server for the remote-template benchmark: serves the files of DIR with byte
ranges (HEAD, GET with Range, ETag, Accept-Ranges), and counts the body bytes it sent. GET /__stats
answers {"bytes": N, "requests": N}; GET /__reset zeroes both. Prints its port on stdout.
Usage: range_server.py DIR"""
import http.server
import json
import os
import re
import sys
import threading

ROOT = sys.argv[1]
LOCK = threading.Lock()
STATS = {"bytes": 0, "requests": 0}
RANGE = re.compile(r"bytes=(\d+)-(\d+)$")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _file(self):
        path = os.path.join(ROOT, os.path.basename(self.path))
        return path if os.path.isfile(path) else None

    def _headers(self, status, length, extra=()):
        self.send_response(status)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()

    def do_HEAD(self):
        path = self._file()
        if path is None:
            self._headers(404, 0)
            return
        st = os.stat(path)
        self._headers(200, st.st_size, [("ETag", '"%d-%d"' % (st.st_size, st.st_mtime_ns))])

    def do_GET(self):
        if self.path in ("/__stats", "/__reset"):
            with LOCK:
                if self.path == "/__reset":
                    STATS.update(bytes=0, requests=0)
                body = json.dumps(STATS).encode()
            self._headers(200, len(body))
            self.wfile.write(body)
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
                self.wfile.write(chunk)
                left -= len(chunk)
                with LOCK:
                    STATS["bytes"] += len(chunk)
        with LOCK:
            STATS["requests"] += 1


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
