package io.siphon.daemon.web;

import io.javalin.Javalin;
import io.javalin.http.Context;
import io.siphon.api.spi.DriverSession;
import io.siphon.daemon.DaemonView;
import io.siphon.nbd.server.NbdServerListener;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's web console and {@code /metrics}, on Javalin (Jetty): the page and its assets from
 * this jar, {@code /api/state} (the snapshot as JSON), {@code /api/events} (the same, live, as
 * Server-Sent Events), the write actions under {@code /api/domains/D/disks/T/ACTION} (token and
 * CSRF checked, see {@link WriteGuard}) and the Prometheus metrics. Off unless started; binds to
 * the address given, and says in the log when that is not loopback. Thread-safe.
 */
public final class WebConsole implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WebConsole.class);

    private static final Map<String, String> ASSETS = Map.of(
            "/", "index.html",
            "/console.js", "console.js",
            "/console.css", "console.css");
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8");

    private final DaemonView daemon;
    private final Javalin app;
    private final ConsoleModel model;
    private final JobStream stream;
    private final DriverSession writer;
    private final WriteGuard guard;
    private final boolean loopback;
    private volatile Set<String> allowedHosts = Set.of();

    private WebConsole(DaemonView daemon, InetSocketAddress address) {
        this.daemon = daemon;
        this.model = new ConsoleModel(daemon);
        this.stream = new JobStream(model);
        this.writer = daemon.session(false);
        this.guard = WriteGuard.withRandomToken();
        this.loopback = address.getAddress() != null && address.getAddress().isLoopbackAddress();
        ConsoleMetrics metrics = new ConsoleMetrics(model, daemon.control());
        daemon.setNbdListener(metrics);
        model.onChange(stream::wake);
        ConsoleActions actions = new ConsoleActions(guard, writer);
        this.app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.startup.showOldJavalinVersionWarning = false;
            config.concurrency.useVirtualThreads = true;
            config.http.maxRequestSize = ConsoleActions.MAX_BODY_BYTES;
            config.jetty.host = address.getAddress() == null
                    ? address.getHostString()
                    : address.getAddress().getHostAddress();
            config.jetty.port = address.getPort();
            config.routes.before(this::checkHost);
            ASSETS.forEach((path, asset) -> config.routes.get(path, ctx -> asset(ctx, asset)));
            config.routes.get("/api/state", ctx -> Http.json(ctx, 200, model.snapshot()));
            config.routes.before("/api/events", ctx -> {
                if (stream.full()) {
                    Http.error(ctx, 503, "too many pages listening (" + JobStream.MAX_CLIENTS + ")");
                    ctx.skipRemainingHandlers();
                }
            });
            config.routes.sse("/api/events", stream::add);
            config.routes.get("/metrics", ctx -> {
                ctx.contentType(ConsoleMetrics.contentType());
                metrics.write(ctx.outputStream());
            });
            config.routes.post("/api/domains/{domain}/disks/{disk}/{action}", actions::handle);
            config.routes.exception(Exception.class, (e, ctx) -> {
                LOG.error("web console: {} {} failed", ctx.method(), ctx.path(), e);
                Http.error(ctx, 500, "internal error: " + e);
            });
            config.routes.error(404, "*", ctx -> {
                if (ctx.result() == null
                        || ctx.result().isEmpty()
                        || !ctx.result().startsWith("{")) {
                    Http.error(ctx, 404, "no such page: " + ctx.path());
                }
            });
        });
    }

    /**
     * Starts the console on {@code address} (port 0 picks a free one) and logs where it listens and
     * the write token.
     */
    public static WebConsole start(DaemonView daemon, InetSocketAddress address) {
        WebConsole console = new WebConsole(daemon, address);
        try {
            console.app.start();
        } catch (RuntimeException e) {
            console.stream.close();
            console.closeParts();
            throw e;
        }
        String host = address.getAddress() == null
                ? address.getHostString()
                : address.getAddress().getHostAddress();
        String shown = host.contains(":") ? "[" + host + "]" : host;
        int port = console.port();
        console.allowedHosts = console.loopback
                ? Set.copyOf(java.util.List.of(
                        shown + ":" + port, "localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port))
                : Set.of();
        if (!console.loopback) {
            LOG.warn(
                    "web console binds to {}, which is not a loopback address: anyone who can reach it sees the"
                            + " daemon's domains and metrics",
                    host);
        }
        LOG.info("web console on http://{}:{}/ (metrics on /metrics); write token: {}", shown, port, console.token());
        return console;
    }

    /** The bound port (useful after binding port 0). */
    public int port() {
        return app.port();
    }

    /** The token write actions need in their {@code X-Siphon-Token} header. */
    public String token() {
        return guard.token();
    }

    /**
     * On a loopback console only loopback names reach it: a page whose host name a rebinding DNS
     * points at 127.0.0.1 is not the console's origin and may read nothing.
     */
    private void checkHost(Context ctx) {
        Set<String> allowed = allowedHosts;
        if (!loopback || allowed.isEmpty()) {
            return;
        }
        String host = ctx.header("Host");
        if (host == null || !allowed.contains(host)) {
            Http.error(ctx, 403, "host '" + host + "' is not this console's");
            ctx.skipRemainingHandlers();
        }
    }

    private static void asset(Context ctx, String name) {
        try (InputStream in = WebConsole.class.getResourceAsStream("static/" + name)) {
            if (in == null) {
                Http.error(ctx, 404, "no asset " + name);
                return;
            }
            String extension = name.substring(name.lastIndexOf('.') + 1);
            ctx.contentType(TYPES.get(extension))
                    .header("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
                    .header("X-Content-Type-Options", "nosniff")
                    .result(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void closeParts() {
        daemon.setNbdListener(NbdServerListener.NONE);
        writer.close();
        model.close();
    }

    /** Stops serving; the daemon goes on. */
    @Override
    public void close() {
        // the pages' streams end while Jetty still runs: a stream closed after it stopped has no response
        stream.close();
        app.stop();
        closeParts();
    }
}
