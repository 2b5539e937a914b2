package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.Connection;
import io.siphon.api.Domain;
import io.siphon.api.ErrorCode;
import io.siphon.api.PullFlag;
import io.siphon.api.Siphon;
import io.siphon.api.SiphonException;
import io.siphon.testing.QemuTools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Load on one daemon process: domains started at once (qcow2 and QED in turn), a pull on each,
 * {@code fio --ioengine=nbd} with verify on each disk's export (in its first quarter), control
 * clients polling {@code blockJobInfo} throughout and connections listening for events. Requires
 * no verify error, every pull COMPLETED and seen by every listener, every image checked clean with
 * the template's data where fio did not write; prints the daemon's peak RSS, the control calls'
 * latency (p50, p99) and fio's IOPS. Sizes from {@code siphon.reliability.load.domains} (default
 * 2), {@code .clients} (4) and {@code .listeners} (2); {@code scripts/reliability} runs 8, 32, 8.
 */
class LoadTest {
    private static final int MIB = 1 << 20;
    private static final int SIZE = 16 * MIB;
    private static final int FIO_BYTES = SIZE / 4;

    @TempDir
    Path dir;

    @Test
    void domainsUnderPullsFioAndPollingClientsLoseNothing() throws Exception {
        QemuTools.require("fio", "qemu-img");
        int domains = Integer.getInteger("siphon.reliability.load.domains", 2);
        int clients = Integer.getInteger("siphon.reliability.load.clients", 4);
        int listeners = Integer.getInteger("siphon.reliability.load.listeners", 2);
        long seed = System.nanoTime();
        System.out.printf("load: %d domains, %d clients, %d listeners, seed %d%n", domains, clients, listeners, seed);
        Random random = new Random(seed);
        List<Path> tops = new ArrayList<>();
        List<byte[]> templates = new ArrayList<>();
        for (int i = 0; i < domains; i++) {
            byte[] template = new byte[SIZE];
            random.nextBytes(template);
            Files.write(dir.resolve("template" + i + ".raw"), template);
            templates.add(template);
            Path top = dir.resolve("vm" + i + "." + format(i));
            QemuTools.create(top, format(i), SIZE, "template" + i + ".raw", "raw");
            tops.add(top);
        }

        long peakRssKib;
        List<Long> latenciesNanos = new ArrayList<>();
        double iops = 0;
        try (DaemonProcess daemon = DaemonProcess.start(dir.resolve("state"));
                Connection control = connect(daemon)) {
            List<Connection> listening = new ArrayList<>();
            List<BlockingQueue<BlockJobEvent>> heard = new ArrayList<>();
            for (int l = 0; l < listeners; l++) {
                Connection c = connect(daemon);
                BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
                c.addBlockJobListener(events::add);
                listening.add(c);
                heard.add(events);
            }
            List<Domain> started = new ArrayList<>();
            for (int i = 0; i < domains; i++) {
                Domain domain = control.define(xml(i, tops.get(i)));
                domain.start();
                // about 10 s of pulling, so that fio and the clients meet a running pull
                domain.blockPull("vda", SIZE / 10, Set.of(PullFlag.BANDWIDTH_BYTES));
                started.add(domain);
            }

            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> pollers = new ArrayList<>();
            List<Connection> polling = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                Connection client = connect(daemon);
                polling.add(client);
                List<Domain> mine =
                        started.stream().map(d -> client.lookup(d.name())).toList();
                pollers.add(Thread.ofVirtual().start(() -> {
                    List<Long> own = new ArrayList<>();
                    for (int call = 0; !stop.get(); call++) {
                        long t0 = System.nanoTime();
                        mine.get(call % mine.size()).blockJobInfo("vda");
                        own.add(System.nanoTime() - t0);
                    }
                    synchronized (latenciesNanos) {
                        latenciesNanos.addAll(own);
                    }
                }));
            }

            List<Process> fios = new ArrayList<>();
            for (int i = 0; i < domains; i++) {
                fios.add(new ProcessBuilder(
                                "fio",
                                "--name=vm" + i,
                                "--ioengine=nbd",
                                "--uri="
                                        + started.get(i)
                                                .disks()
                                                .getFirst()
                                                .nbdUri()
                                                .orElseThrow(),
                                "--rw=randwrite",
                                "--bs=4k",
                                "--iodepth=8",
                                "--size=" + FIO_BYTES,
                                "--verify=crc32c",
                                "--verify_fatal=1",
                                "--do_verify=1",
                                "--verify_state_save=0",
                                "--randseed=" + (seed + i & 0xffff),
                                "--output-format=json")
                        .directory(dir.toFile())
                        .redirectError(ProcessBuilder.Redirect.INHERIT)
                        .start());
            }
            ObjectMapper json = new ObjectMapper();
            for (int i = 0; i < domains; i++) {
                String out = new String(fios.get(i).getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(fios.get(i).waitFor(10, TimeUnit.MINUTES), "fio on vm" + i + " did not end");
                assertEquals(0, fios.get(i).exitValue(), "fio on vm" + i + ": " + out);
                JsonNode job = json.readTree(out.substring(out.indexOf('{')))
                        .get("jobs")
                        .get(0);
                assertEquals(0, job.get("error").asInt(), "fio's verify on vm" + i + ": " + out);
                iops += job.get("write").get("iops").asDouble();
            }

            for (Domain domain : started) {
                try {
                    domain.blockJobSetSpeed("vda", 0, Set.of());
                } catch (SiphonException e) {
                    assertEquals(ErrorCode.NO_JOB, e.code(), e.getMessage()); // it has completed already
                }
            }
            for (BlockingQueue<BlockJobEvent> events : heard) {
                Set<String> completed = new HashSet<>();
                while (completed.size() < domains) {
                    BlockJobEvent event = TestDomains.awaitEvent(events);
                    assertEquals(BlockJobStatus.COMPLETED, event.status(), event.toString());
                    completed.add(event.domain());
                }
            }
            stop.set(true);
            for (Thread poller : pollers) {
                poller.join();
            }
            peakRssKib = peakRssKib(daemon.pid());
            for (Domain domain : started) {
                domain.shutdown();
            }
            polling.forEach(Connection::close);
            listening.forEach(Connection::close);
        }

        for (int i = 0; i < domains; i++) {
            QemuTools.assertCheckClean(tops.get(i));
            assertEquals(null, QemuTools.backingName(tops.get(i)), "the pull of vm" + i + " completed");
            Path flat = dir.resolve("flat" + i + ".raw");
            QemuTools.flatten(tops.get(i), flat);
            byte[] content = Files.readAllBytes(flat);
            assertArrayEquals(
                    Arrays.copyOfRange(templates.get(i), FIO_BYTES, SIZE),
                    Arrays.copyOfRange(content, FIO_BYTES, SIZE),
                    "vm" + i + " past fio's range holds its template's data");
        }
        long[] sorted =
                latenciesNanos.stream().mapToLong(Long::longValue).sorted().toArray();
        assertTrue(sorted.length > 0, "no control call was made");
        System.out.printf(
                "load: %d domains, %d pulls COMPLETED, 0 verify errors, fio %.0f write IOPS in all, %d control calls"
                        + " from %d clients (p50 %.2f ms, p99 %.2f ms), %d listeners, daemon peak RSS %d MiB%n",
                domains,
                domains,
                iops,
                sorted.length,
                clients,
                sorted[sorted.length / 2] / 1e6,
                sorted[(int) (sorted.length * 0.99)] / 1e6,
                listeners,
                peakRssKib / 1024);
    }

    private static String format(int i) {
        return i % 2 == 0 ? "qcow2" : "qed";
    }

    private static Connection connect(DaemonProcess daemon) {
        return Siphon.connect("siphon+unix://" + daemon.socket());
    }

    private static String xml(int i, Path top) {
        return "<domain><name>vm" + i + "</name><devices><disk type='file'><driver type='" + format(i)
                + "'/><source file='" + top + "'/><target dev='vda'/></disk></devices></domain>";
    }

    /** The process's peak resident set ({@code VmHWM} in {@code /proc/PID/status}), in KiB. */
    private static long peakRssKib(long pid) throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no VmHWM in /proc/" + pid + "/status");
    }
}
