package io.siphon.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real HTTP server for tests (the JDK's): serves files by name with byte ranges, an ETag from the
 * file's size and modification time, {@code If-Match} (412 on a changed file), and counts the
 * requests and body bytes it served. It can be stopped and started again on the same port.
 */
public final class RangeHttpServer implements AutoCloseable {
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-(\\d+)");

    private final Map<String, Path> objects = new ConcurrentHashMap<>();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong bytesServed = new AtomicLong();
    private final int port;
    private volatile String requiredToken = "";
    private HttpServer server;

    private RangeHttpServer(HttpServer server) {
        this.server = server;
        this.port = server.getAddress().getPort();
    }

    public static RangeHttpServer start() throws IOException {
        RangeHttpServer s = new RangeHttpServer(bind(0));
        s.install();
        return s;
    }

    private static HttpServer bind(int port) throws IOException {
        return HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
    }

    private void install() {
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
    }

    /** Serves {@code file} as {@code /name}. */
    public void serve(String name, Path file) {
        objects.put(name, file);
    }

    /** Requests without {@code Authorization: Bearer TOKEN} get 403. */
    public void requireToken(String token) {
        requiredToken = token;
    }

    public URI url(String name) {
        return URI.create("http://127.0.0.1:" + port + "/" + name);
    }

    public long requests() {
        return requests.get();
    }

    public long bytesServed() {
        return bytesServed.get();
    }

    /** Stops listening; connections are refused until {@link #restart}. */
    public synchronized void stop() {
        server.stop(0);
    }

    /** Listens again on the same port. */
    public synchronized void restart() throws IOException {
        server = bind(port);
        install();
    }

    @Override
    public synchronized void close() {
        server.stop(0);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            requests.incrementAndGet();
            Path file = objects.get(exchange.getRequestURI().getPath().substring(1));
            if (!requiredToken.isEmpty()
                    && !("Bearer " + requiredToken)
                            .equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.sendResponseHeaders(403, -1);
                return;
            }
            long size;
            String etag;
            try {
                size = file == null ? -1 : Files.size(file);
                etag = file == null
                        ? ""
                        : "\"" + size + "-" + Files.getLastModifiedTime(file).toMillis() + "\"";
            } catch (NoSuchFileException e) {
                size = -1;
                etag = "";
            }
            if (size < 0) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            exchange.getResponseHeaders().set("ETag", etag);
            exchange.getResponseHeaders().set("Accept-Ranges", "bytes");
            String ifMatch = exchange.getRequestHeaders().getFirst("If-Match");
            if (ifMatch != null && !ifMatch.equals(etag)) {
                exchange.sendResponseHeaders(412, -1);
                return;
            }
            if (exchange.getRequestMethod().equals("HEAD")) {
                // QEMU's curl driver asks for the size this way; a HEAD response's length is set by hand
                exchange.getResponseHeaders().set("Content-Length", Long.toString(size));
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            String range = exchange.getRequestHeaders().getFirst("Range");
            long start = 0;
            long end = size - 1;
            int status = 200;
            if (range != null) {
                Matcher m = RANGE.matcher(range);
                if (!m.matches()) {
                    exchange.sendResponseHeaders(400, -1);
                    return;
                }
                start = Long.parseLong(m.group(1));
                end = Math.min(size - 1, Long.parseLong(m.group(2)));
                if (start >= size) {
                    exchange.getResponseHeaders().set("Content-Range", "bytes */" + size);
                    exchange.sendResponseHeaders(416, -1);
                    return;
                }
                exchange.getResponseHeaders().set("Content-Range", "bytes " + start + "-" + end + "/" + size);
                status = 206;
            }
            long length = end - start + 1;
            exchange.sendResponseHeaders(status, length == 0 ? -1 : length);
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
                    OutputStream body = exchange.getResponseBody()) {
                ByteBuffer buffer = ByteBuffer.allocate(64 << 10);
                long position = start;
                while (position <= end) {
                    buffer.clear().limit((int) Math.min(buffer.capacity(), end + 1 - position));
                    int n = channel.read(buffer, position);
                    if (n < 0) {
                        break;
                    }
                    body.write(buffer.array(), 0, n);
                    bytesServed.addAndGet(n);
                    position += n;
                }
            }
        }
    }
}
