package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.ErrorCode;
import io.siphon.testing.QemuTools;
import io.siphon.testing.fuzz.FuzzCampaign;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes a real daemon's read-write and read-only sockets with {@link ControlMessages}. After each
 * case's messages the client sends a sentinel {@code domain-list}: every line the daemon took as a
 * message must get one reply, a success or an error of a documented class other than {@code
 * INTERNAL_ERROR}, in time; or the daemon may close the connection right after a {@code
 * PROTOCOL_ERROR} (the stream is out of step). All along a bystander defines domains (each counted
 * once its reply says so) and lists them on the read-only socket; at the end every acknowledged
 * domain is there, and still there after the daemon restarts, and the daemon's log holds no stack
 * trace and no internal error. The daemon runs with a 256 MiB heap in its own JVM.
 */
class ControlFuzzTest {
    private static final Set<String> CLASSES = java.util.Arrays.stream(ErrorCode.values())
            .filter(c -> c != ErrorCode.INTERNAL_ERROR)
            .map(Enum::name)
            .collect(Collectors.toSet());

    /** Replies by error class ("return" for successes), printed with the figures. */
    private static final Map<String, Integer> OUTCOMES = new java.util.concurrent.ConcurrentSkipListMap<>();

    @TempDir
    Path dir;

    @Test
    void everyMessageGetsATypedReplyAndNothingAcknowledgedIsLost() throws Exception {
        FuzzCampaign campaign = FuzzCampaign.start("control", "jsonl", 200, Duration.ofSeconds(30));
        Path base = dir.resolve("base.raw");
        Files.write(base, new byte[256 << 10]);
        Path top = dir.resolve("fuzz.qcow2");
        QemuTools.ok("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "raw", top.toString());
        String fuzzXml = "<domain><name>fuzz</name><devices><disk type='file'><driver type='qcow2'/><source file='"
                + top + "'/><target dev='vda'/></disk></devices></domain>";
        ControlMessages messages = new ControlMessages(fuzzXml, top.toString());
        Path state = dir.resolve("state");
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        AtomicReference<Throwable> bystanderFailure = new AtomicReference<>();
        AtomicBoolean stop = new AtomicBoolean();
        try (DaemonProcess daemon = DaemonProcess.start(state)) {
            Thread bystander =
                    Thread.ofVirtual().start(() -> bystand(daemon, dir, acknowledged, stop, bystanderFailure));
            List<Path> corpus = campaign.corpus(Path.of("src", "test", "resources", "control-fuzz-corpus"));
            for (Path kept : corpus) {
                for (boolean readOnly : new boolean[] {false, true}) {
                    String label = kept.getFileName() + (readOnly ? " (read-only)" : "");
                    runCase(campaign, daemon, label, Files.readAllBytes(kept), readOnly, bystanderFailure);
                }
            }
            for (int i = 0; i < campaign.cases(); i++) {
                long seed = campaign.seed(i);
                Random random = new Random(seed);
                boolean readOnly = random.nextInt(3) == 0;
                runCase(campaign, daemon, "seed " + seed, messages.generate(random), readOnly, bystanderFailure);
            }
            stop.set(true);
            bystander.join();
            assertEquals(null, bystanderFailure.get(), "the bystander was not served");
            assertTrue(
                    listed(daemon.readOnlySocket()).containsAll(acknowledged), "an acknowledged definition was lost");
            String log = daemon.log();
            int trace = log.indexOf("\tat ");
            assertFalse(
                    trace >= 0,
                    () -> "a stack trace in the daemon's log: "
                            + log.substring(
                                    Math.max(0, log.lastIndexOf('\n', Math.max(0, trace - 2)) - 1500),
                                    Math.min(log.length(), trace + 1500)));
            assertFalse(log.contains("INTERNAL_ERROR"), "an internal error in the daemon's log");
        }
        // start returns once the read-write socket answers; the read-only one may come a moment later
        try (DaemonProcess again = DaemonProcess.start(state)) {
            assertTrue(
                    listed(again.socket()).containsAll(acknowledged),
                    "an acknowledged definition was lost at the restart");
        }
        System.out.println(
                "fuzz control: bystander had " + acknowledged.size() + " acknowledged definitions, none lost");
        System.out.println("fuzz control: replies " + OUTCOMES);
        campaign.finish();
    }

    private static void runCase(
            FuzzCampaign campaign,
            DaemonProcess daemon,
            String label,
            byte[] bytes,
            boolean readOnly,
            AtomicReference<Throwable> bystanderFailure)
            throws IOException {
        campaign.run(label, bytes, () -> play(readOnly ? daemon.readOnlySocket() : daemon.socket(), bytes));
        if (!daemon.alive() || !Files.exists(daemon.readOnlySocket())) {
            campaign.keep(label, bytes, "the daemon is gone");
            String log = daemon.log();
            throw new AssertionError("after " + label + " the daemon is gone (alive: " + daemon.alive()
                    + "); its log ends: " + log.substring(Math.max(0, log.length() - 4000)));
        }
        if (bystanderFailure.get() != null) {
            campaign.keep(label, bytes, "the bystander failed: " + bystanderFailure.get());
        }
    }

    /** Sends {@code bytes} then the sentinel; true when the daemon refused something with an error. */
    private static boolean play(Path socket, byte[] bytes) throws Exception {
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        sent.writeBytes(bytes);
        sent.writeBytes("\n{\"execute\":\"domain-list\",\"id\":\"sentinel\"}\n".getBytes(StandardCharsets.UTF_8));
        int expected = messageLines(sent.toByteArray());
        boolean refused = false;
        try (RawClient client = new RawClient(socket)) {
            client.next().orElseThrow(() -> new AssertionError("no greeting"));
            try {
                client.send(sent.toByteArray());
            } catch (IOException e) {
                refused = true; // the daemon closed the connection first; its reply must be there to read
            }
            String lastClass = null;
            for (int replies = 0; ; ) {
                Optional<Map<?, ?>> message = nextOrClosed(client);
                if (message.isEmpty()) {
                    if (!"PROTOCOL_ERROR".equals(lastClass)) {
                        throw new AssertionError("the daemon closed the connection after " + replies + " of " + expected
                                + " replies, the last not a PROTOCOL_ERROR: " + lastClass);
                    }
                    return true;
                }
                if (message.get().containsKey("event")) {
                    continue;
                }
                replies++;
                if (message.get().get("error") instanceof Map<?, ?> error) {
                    lastClass = String.valueOf(error.get("class"));
                    OUTCOMES.merge(lastClass, 1, Integer::sum);
                    if (!CLASSES.contains(lastClass) || !(error.get("desc") instanceof String)) {
                        throw new AssertionError("an untyped error reply: " + message.get());
                    }
                    refused = true;
                } else if (!message.get().containsKey("return")) {
                    throw new AssertionError("neither a return nor an error: " + message.get());
                } else {
                    lastClass = null;
                    OUTCOMES.merge("return", 1, Integer::sum);
                }
                if ("sentinel".equals(message.get().get("id"))) {
                    if (replies != expected) {
                        throw new AssertionError(expected + " messages sent, " + replies + " replies");
                    }
                    return refused;
                }
            }
        }
    }

    /** The next message, or empty when the daemon closed the connection (a reset too: it closed with our input unread). */
    private static Optional<Map<?, ?>> nextOrClosed(RawClient client) throws Exception {
        try {
            return client.next();
        } catch (SocketException e) {
            return Optional.empty();
        }
    }

    /** The lines of {@code bytes} the daemon reads as messages: not blank once a CR before the LF is dropped. */
    private static int messageLines(byte[] bytes) {
        int count = 0;
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '\n') {
                int length = i - start;
                if (length > 0 && bytes[i - 1] == '\r') {
                    length--;
                }
                if (length > 0) {
                    count++;
                }
                start = i + 1;
            }
        }
        return count;
    }

    private static Set<String> listed(Path socket) throws Exception {
        try (RawClient client = new RawClient(socket)) {
            Map<?, ?> greeting = client.next().orElseThrow();
            if (!greeting.containsKey("QMP")) {
                throw new AssertionError("greeted with " + greeting);
            }
            client.send("{\"execute\":\"domain-list\",\"id\":1}\n");
            Map<?, ?> reply = client.reply();
            if (!(reply.get("return") instanceof List<?>)) {
                throw new AssertionError("domain-list answered " + reply);
            }
            return ((List<?>) reply.get("return"))
                    .stream().map(d -> (String) ((Map<?, ?>) d).get("name")).collect(Collectors.toSet());
        }
    }

    /** Defines keep-N domains (acknowledged once the reply says so) and lists them, until stopped. */
    private static void bystand(
            DaemonProcess daemon,
            Path dir,
            Set<String> acknowledged,
            AtomicBoolean stop,
            AtomicReference<Throwable> failure) {
        try (RawClient rw = new RawClient(daemon.socket())) {
            rw.next().orElseThrow();
            for (int n = 0; !stop.get(); n++) {
                if (n < 100) {
                    String name = "keep-" + n;
                    String xml = TestDomains.rawDomainXml(dir, name).replace("'", "\\u0027");
                    rw.send("{\"execute\":\"domain-define\",\"arguments\":{\"xml\":\"" + xml + "\"},\"id\":" + n
                            + "}\n");
                    String outcome = rw.errorClass();
                    if (!outcome.equals("none")) {
                        throw new AssertionError("defining " + name + ": " + outcome);
                    }
                    acknowledged.add(name);
                }
                Set<String> names = listed(daemon.readOnlySocket());
                if (!names.containsAll(acknowledged)) {
                    throw new AssertionError(
                            "acknowledged domains missing from the list: " + acknowledged + " vs " + names);
                }
            }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
    }
}
