package io.siphon.nbd.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.nbd.client.NbdClient;
import io.siphon.nbd.server.InFlightBudget;
import io.siphon.nbd.server.NbdServer;
import io.siphon.nbd.testing.RandomDisk;
import io.siphon.testing.QemuTools;
import io.siphon.testing.fuzz.FuzzCampaign;
import io.siphon.testing.fuzz.LogWatch;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes a real {@link NbdServer} on a Unix socket with {@link NbdScript}s: mutated option haggling
 * and structured-reply negotiation, oversized, misaligned and overlapping requests, bad magic,
 * truncated packets and hang-ups mid-request, on a qcow2 export, a read-only one and one that does
 * not exist. After each script the client half-closes, and the server must close the connection
 * within {@value #CLOSE_SECONDS} s (it answered or refused what it could and did not hang); no
 * exception may escape a thread, and the log may name no exception but an {@link IOException}.
 * All along a bystander client writes (each write flushed, then counted as acknowledged) and reads
 * its own export, and must be served correct data; at the end every acknowledged write reads back
 * and {@code qemu-img check} finds the fuzzed qcow2 clean. Cases come from {@code
 * src/test/resources/nbd-fuzz-corpus} first, then from seeds.
 */
class NbdFuzzTest {
    private static final int CLOSE_SECONDS = 10;
    private static final long FUZZ_SIZE = 64L << 20;
    private static final int BYSTANDER_SIZE = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void serverAnswersOrClosesAndGoesOnServing() throws Exception {
        FuzzCampaign campaign = FuzzCampaign.start("nbd", "nbd", 300, Duration.ofSeconds(30));
        Path qcow2 = dir.resolve("fuzz.qcow2");
        QemuTools.createQcow2(qcow2, "64M");
        byte[] bystanderContent = RandomDisk.content(campaign.seed(-1), BYSTANDER_SIZE);
        Path socket = dir.resolve("nbd.sock");
        AtomicReference<Throwable> bystanderFailure = new AtomicReference<>();
        AtomicLong acknowledged = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        try (ImageChain fuzzed = ImageChain.open(qcow2, Optional.of("qcow2"), OpenOptions.READ_WRITE);
                ImageChain readOnly = RandomDisk.open(dir.resolve("ro.raw"), new byte[1 << 20]);
                ImageChain bystanderDisk = RandomDisk.open(dir.resolve("bystander.raw"), bystanderContent);
                NbdServer server = NbdServer.builder()
                        .export("fuzz", fuzzed.top(), false)
                        .export("fuzz-ro", readOnly.top(), true)
                        .export("bystander", bystanderDisk.top(), false)
                        .memoryBudget(new InFlightBudget(64L << 20))
                        .listenUnix(socket)
                        .build()
                        .start();
                LogWatch log = LogWatch.start()) {
            Thread bystander = Thread.ofVirtual()
                    .start(() ->
                            bystand(server, bystanderContent, campaign.seed(-2), stop, acknowledged, bystanderFailure));
            for (Path kept : campaign.corpus(Path.of("src", "test", "resources", "nbd-fuzz-corpus"))) {
                byte[] bytes = Files.readAllBytes(kept);
                runCase(campaign, log, socket, kept.getFileName().toString(), bytes, bystanderFailure);
            }
            for (int i = 0; i < campaign.cases(); i++) {
                long seed = campaign.seed(i);
                Random random = new Random(seed);
                String export = exportFor(random);
                byte[] bytes = NbdScript.generate(random, export, FUZZ_SIZE)
                        .mutate(random)
                        .bytes();
                runCase(campaign, log, socket, "seed " + seed, bytes, bystanderFailure);
            }
            stop.set(true);
            bystander.join();
            assertEquals(null, bystanderFailure.get(), "the bystander was not served correctly");
            try (NbdClient client = NbdClient.connect(server.uri("bystander"))) {
                ByteBuffer all = ByteBuffer.allocate(BYSTANDER_SIZE);
                client.read(0, all);
                assertArrayEquals(bystanderContent, all.array(), "an acknowledged bystander write was lost");
            }
        }
        System.out.println("fuzz nbd: bystander had " + acknowledged.get() + " acknowledged writes, none lost");
        QemuTools.assertCheckClean(qcow2);
        campaign.finish();
    }

    private static void runCase(
            FuzzCampaign campaign,
            LogWatch log,
            Path socket,
            String label,
            byte[] bytes,
            AtomicReference<Throwable> bystanderFailure) {
        campaign.run(label, bytes, () -> play(socket, bytes));
        List<String> unexpected = log.unexpected();
        if (!unexpected.isEmpty()) {
            campaign.keep(label, bytes, "the log tells of an unexpected failure: " + unexpected.getFirst());
        }
        if (bystanderFailure.get() != null) {
            campaign.keep(label, bytes, "the bystander failed: " + bystanderFailure.get());
        }
    }

    /**
     * Sends {@code script}, reading whatever the server answers, then half-closes: true when the
     * server hung up before the script was sent (it refused it), false when it took all of it.
     * Throws when the server does not close the connection in time.
     */
    private static boolean play(Path socket, byte[] script) throws Exception {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            CompletableFuture<Long> drained =
                    CompletableFuture.supplyAsync(() -> drain(channel), Thread::startVirtualThread);
            boolean refused = false;
            try {
                ByteBuffer out = ByteBuffer.wrap(script);
                while (out.hasRemaining()) {
                    channel.write(out);
                }
                channel.shutdownOutput();
            } catch (IOException e) {
                refused = true; // the server closed first
            }
            try {
                drained.get(CLOSE_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError("the server neither closed the connection nor hung up in " + CLOSE_SECONDS
                        + " s after the client stopped sending");
            }
            return refused;
        }
    }

    private static long drain(SocketChannel channel) {
        ByteBuffer sink = ByteBuffer.allocate(1 << 16);
        long total = 0;
        try {
            int n;
            while ((n = channel.read(sink.clear())) >= 0) {
                total += n;
            }
        } catch (IOException e) {
            // reset by the server: closed all the same
        }
        return total;
    }

    /** Writes, flushes and reads back 4 KiB blocks of its own export until stopped; the model is {@code content}. */
    private static void bystand(
            NbdServer server,
            byte[] content,
            long seed,
            AtomicBoolean stop,
            AtomicLong acknowledged,
            AtomicReference<Throwable> failure) {
        Random random = new Random(seed);
        try (NbdClient client = NbdClient.connect(server.uri("bystander"))) {
            while (!stop.get()) {
                int offset = random.nextInt(content.length / 4096) * 4096;
                if (random.nextBoolean()) {
                    byte[] block = new byte[4096];
                    random.nextBytes(block);
                    client.write(offset, ByteBuffer.wrap(block), false);
                    client.flush();
                    System.arraycopy(block, 0, content, offset, 4096); // acknowledged
                    acknowledged.incrementAndGet();
                } else {
                    ByteBuffer got = ByteBuffer.allocate(4096);
                    client.read(offset, got);
                    byte[] expected = Arrays.copyOfRange(content, offset, offset + 4096);
                    if (!Arrays.equals(expected, got.array())) {
                        throw new AssertionError("bystander read at " + offset + " differs from what it wrote");
                    }
                }
            }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
    }

    /** Which export a script asks for: mostly the qcow2 one, sometimes the read-only one or none that exists. */
    private static String exportFor(Random random) {
        return switch (random.nextInt(8)) {
            case 0 -> "fuzz-ro";
            case 1 -> "";
            case 2 -> "no-such-export";
            default -> "fuzz";
        };
    }
}
