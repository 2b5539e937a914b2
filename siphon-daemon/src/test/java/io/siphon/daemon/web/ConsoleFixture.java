package io.siphon.daemon.web;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.Connection;
import io.siphon.api.Siphon;
import io.siphon.daemon.Daemon;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A daemon in this process with its web console on a free loopback port, and a running domain
 * "web" whose disk vda is a qcow2 clone of a raw template full of data; a control-protocol
 * connection to drive it, and the job events it sees.
 */
final class ConsoleFixture implements AutoCloseable {
    static final int MIB = 1 << 20;

    final Path dir;
    final Daemon daemon;
    final WebConsole console;
    final Connection connection;
    final BlockingQueue<BlockJobEvent> jobEvents = new LinkedBlockingQueue<>();
    final HttpClient http = HttpClient.newHttpClient();

    /** {@code templateMiB} MiB of template data, every MiB a different pattern. */
    ConsoleFixture(Path dir, int templateMiB) throws Exception {
        this.dir = dir;
        Path template = dir.resolve("template.raw");
        Files.write(template, new byte[templateMiB * MIB]);
        for (int i = 0; i < templateMiB; i++) {
            QemuTools.write(template, "raw", 0x40 + (i % 64), (long) i * MIB, MIB);
        }
        Path top = dir.resolve("web.qcow2");
        QemuTools.createOverlay(top, template.getFileName().toString(), "raw");
        daemon = Daemon.start(dir.resolve("state"), Optional.empty(), Optional.empty());
        console = WebConsole.start(daemon.view(), new InetSocketAddress("127.0.0.1", 0));
        connection = Siphon.connect("siphon+unix://" + daemon.socket());
        connection.addBlockJobListener(jobEvents::add);
        connection.define("<domain><name>web</name><devices><disk type='file' device='disk'>"
                + "<driver name='qemu' type='qcow2'/><source file='" + top + "'/>"
                + "<target dev='vda'/></disk></devices></domain>");
        connection.lookup("web").start();
    }

    String base() {
        return "http://127.0.0.1:" + console.port();
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create(base() + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    BlockJobEvent awaitJobEvent() throws InterruptedException {
        BlockJobEvent event = jobEvents.poll(120, TimeUnit.SECONDS);
        if (event == null) {
            throw new AssertionError("no block job event within 120 s");
        }
        return event;
    }

    @Override
    public void close() throws Exception {
        try (daemon;
                connection) {
            console.close();
        }
    }
}
