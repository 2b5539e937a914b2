package io.siphon.format.remote;

import io.siphon.format.remote.RemoteObjectException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;

/**
 * One HTTP(S) resource. Opening asks for its size, ETag and Last-Modified; each read is one
 * {@code Range} request conditioned on that version ({@code If-Match} with a strong ETag, else
 * {@code If-Unmodified-Since}), and the answer's own version is checked again, so that bytes of a
 * changed object are never returned as the old one's.
 */
final class HttpRemoteObject implements RemoteObject {
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    private static final HttpClient CLIENT = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NORMAL)
            .build();

    private final RemoteLocation location;
    private final long sizeBytes;
    private final Optional<String> etag;
    private final Optional<String> lastModified;

    private HttpRemoteObject(
            RemoteLocation location, long sizeBytes, Optional<String> etag, Optional<String> lastModified) {
        this.location = location;
        this.sizeBytes = sizeBytes;
        this.etag = etag;
        this.lastModified = lastModified;
    }

    /** Opens with a one-byte range request: its Content-Range gives the size, and range support is proven. */
    static HttpRemoteObject open(RemoteLocation location) throws IOException {
        HttpRequest probe = HttpRequest.newBuilder(location.uri())
                .timeout(REQUEST_TIMEOUT)
                .header("Range", "bytes=0-0")
                .build();
        HttpResponse<Void> response = send(location, probe, HttpResponse.BodyHandlers.discarding());
        Optional<String> range = response.headers().firstValue("Content-Range");
        if (response.statusCode() != 416) {
            requireSuccess(location, response, "GET");
            if (response.statusCode() != 206 || range.isEmpty()) {
                throw new RemoteObjectException(
                        Reason.PROTOCOL,
                        location.name(),
                        "the server does not serve byte ranges (a range request answered " + response.statusCode()
                                + ")");
            }
        }
        long size;
        try {
            size = Long.parseLong(range.orElse("/").substring(range.orElse("/").lastIndexOf('/') + 1));
        } catch (NumberFormatException e) {
            throw new RemoteObjectException(
                    Reason.PROTOCOL, location.name(), "the server sent no object size (Content-Range " + range + ")");
        }
        return new HttpRemoteObject(
                location,
                size,
                response.headers().firstValue("ETag"),
                response.headers().firstValue("Last-Modified"));
    }

    @Override
    public RemoteLocation location() {
        return location;
    }

    @Override
    public long sizeBytes() {
        return sizeBytes;
    }

    @Override
    public String version() {
        return etag.map(tag -> "etag=" + tag).orElse("size=" + sizeBytes + ";last-modified=" + lastModified.orElse(""));
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst) throws IOException {
        int length = dst.remaining();
        if (length == 0) {
            return;
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(location.uri())
                .timeout(REQUEST_TIMEOUT)
                .header("Range", "bytes=" + offsetBytes + "-" + (offsetBytes + length - 1));
        if (etag.isPresent() && !etag.get().startsWith("W/")) {
            request.header("If-Match", etag.get());
        } else if (lastModified.isPresent()) {
            request.header("If-Unmodified-Since", lastModified.get());
        }
        HttpResponse<InputStream> response = send(location, request.build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = response.body()) {
            if (response.statusCode() == 412) {
                throw changed("the server says it no longer matches " + version());
            }
            requireSuccess(location, response, "GET");
            if (response.statusCode() != 206 && !(offsetBytes == 0 && length == sizeBytes)) {
                throw new RemoteObjectException(
                        Reason.PROTOCOL,
                        location.name(),
                        "the server ignored the range request (status " + response.statusCode() + ")");
            }
            requireSameVersion(response);
            ResponseBodies.readFully(body, dst, location.name(), offsetBytes);
        }
    }

    private void requireSameVersion(HttpResponse<?> response) throws RemoteObjectException {
        Optional<String> nowTag = response.headers().firstValue("ETag");
        if (etag.isPresent() && nowTag.isPresent() && !etag.get().equals(nowTag.get())) {
            throw changed("its ETag is now " + nowTag.get() + ", was " + etag.get());
        }
        Optional<String> range = response.headers().firstValue("Content-Range");
        if (range.isPresent()) {
            String total = range.get().substring(range.get().lastIndexOf('/') + 1);
            if (!total.equals("*") && !total.equals(Long.toString(sizeBytes))) {
                throw changed("its size is now " + total + ", was " + sizeBytes);
            }
        }
    }

    /** Nothing to release: the HTTP client is shared and keeps its own connections. */
    @Override
    public void close() {}

    private RemoteObjectException changed(String detail) {
        return new RemoteObjectException(
                Reason.CHANGED, location.name(), "the object changed since it was opened: " + detail);
    }

    private static <T> HttpResponse<T> send(
            RemoteLocation location, HttpRequest request, HttpResponse.BodyHandler<T> body) throws IOException {
        try {
            return CLIENT.send(request, body);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(location.name() + ": interrupted");
        } catch (IOException e) {
            throw new RemoteObjectException(Reason.UNAVAILABLE, location.name(), "cannot reach the server: " + e, e);
        }
    }

    private static void requireSuccess(RemoteLocation location, HttpResponse<?> response, String method)
            throws RemoteObjectException {
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
            return;
        }
        String detail = method + " answered HTTP " + status;
        throw new RemoteObjectException(
                switch (status) {
                    case 404, 410 -> Reason.NOT_FOUND;
                    case 401, 403 -> Reason.ACCESS_DENIED;
                    case 408, 429, 500, 502, 503, 504 -> Reason.UNAVAILABLE;
                    default -> Reason.PROTOCOL;
                },
                location.name(),
                status == 404 || status == 410 ? "no such object (" + detail + ")" : detail);
    }
}
