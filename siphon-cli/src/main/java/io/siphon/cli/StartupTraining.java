package io.siphon.cli;

import io.siphon.daemon.Daemon;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The training run of the launcher's ahead-of-time cache (JDK 25, {@code -XX:AOTCacheOutput}): runs
 * the commands whose start-up matters in scripts, in this process, so that the classes they load
 * and link go into the cache. Offline image commands on a fresh qcow2, help, and the domain and job
 * commands against a daemon over its socket.
 */
public final class StartupTraining {
    private StartupTraining() {}

    public static void main(String[] args) throws IOException {
        Path dir = Files.createTempDirectory("siphon-aot-");
        PrintStream discard = new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
        try {
            String image = dir.resolve("t.qcow2").toString();
            run(discard, "image", "create", "-q", "-f", "qcow2", image, "64M");
            run(discard, "image", "info", image);
            run(discard, "image", "info", "--output", "json", image);
            run(discard, "image", "check", image);
            run(discard, "image", "map", image);
            run(discard, "--help");
            run(discard, "--version");
            run(discard, "blockjob", "--help");
            try (Daemon daemon = Daemon.start(dir.resolve("state"), Optional.empty(), Optional.empty())) {
                String uri = "siphon+unix://" + daemon.socket();
                Path xml = dir.resolve("d.xml");
                Files.writeString(xml, """
                        <domain><name>d</name><devices><disk type='file' device='disk'>
                        <driver name='qemu' type='qcow2'/><source file='%s'/><target dev='vda'/>
                        </disk></devices></domain>
                        """.formatted(image));
                run(discard, "-c", uri, "define", xml.toString());
                run(discard, "-c", uri, "list", "--all");
                run(discard, "-c", uri, "start", "d");
                run(discard, "-c", uri, "blockjob", "d", "vda", "--info");
                run(discard, "-c", uri, "domblklist", "d");
                run(discard, "-c", uri, "destroy", "d");
                run(discard, "-c", uri, "version");
                run(discard, "-c", uri, "undefine", "d");
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(file);
                }
            }
        }
    }

    /** One command; its outcome does not matter, only what it loaded. */
    private static void run(PrintStream discard, String... args) {
        Main.run(List.of(args).toArray(String[]::new), discard, discard);
    }
}
