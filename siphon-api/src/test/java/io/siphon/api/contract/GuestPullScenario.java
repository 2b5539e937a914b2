package io.siphon.api.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.DiskInfo;
import io.siphon.api.Domain;
import io.siphon.api.DomainState;
import io.siphon.api.LifecycleEvent;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A guest that boots from a thin qcow2 clone of a random-data raw template while the clone is
 * pulled: it checksums the disk, writes a pattern with O_DIRECT, then until the test writes "ssss"
 * into its control disk (vdb) writes one 4 KiB block per iteration and re-reads the whole disk
 * (O_DIRECT, so each read reaches the disk), printing each checksum; then powers off. Every write
 * is known, so every checksum and the final content can be computed here.
 */
public final class GuestPullScenario {
    public static final int DISK_BYTES = 32 << 20;
    /** How long a boot, a guest step or a power-off may take on a loaded machine under TCG. */
    public static final Duration BOOT = Duration.ofSeconds(120);

    private static final int BLOCK = 4096;
    private static final int ITERATION_BLOCK = 2048;
    private static final Pattern SUM = Pattern.compile("guest: sum (\\d+|final) ([0-9a-f]{64})");

    /** The guest's script; {@code $1} is {@code /dev/vda}. */
    public static final String SCRIPT = """
            dev=$1
            sum() { dd if=$dev bs=1M iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1; }
            put() { dd of=$dev oflag=direct "$@" 2>/dev/null || echo "guest: write $* failed"; }
            yes siphon-pattern | head -c 1048576 > /tmp/pattern
            echo "guest: sum 0 $(sum)"
            put if=/tmp/pattern bs=4096 seek=1 count=1 conv=fsync
            put if=/tmp/pattern bs=65536 seek=100 count=4 conv=fsync
            put if=/tmp/pattern bs=4096 seek=4099 count=3 conv=fsync
            echo "guest: wrote pattern"
            i=1
            while [ "$(dd if=/dev/vdb bs=512 count=1 iflag=direct 2>/dev/null | head -c 4)" != "ssss" ]; do
                printf 'iteration %08d\\n' $i | put bs=4096 seek=$((2048 + i)) count=1 conv=sync,fsync
                echo "guest: sum $i $(sum)"
                i=$((i + 1))
            done
            echo "guest: sum final $(sum)"
            """;

    /** The pattern writes before the loop: offset and length, each from the pattern's start. */
    private static final long[][] PATTERN_WRITES = {
        {BLOCK, BLOCK}, {100L * 65536, 4 * 65536}, {4099L * BLOCK, 3 * BLOCK}
    };

    private final Path dir;
    private final byte[] template;
    private final Path templateFile;
    private final Path clone;
    private final Path control;
    private final Path console;
    private final TestGuest guest;

    private GuestPullScenario(
            Path dir, byte[] template, Path templateFile, Path clone, Path control, Path console, TestGuest guest) {
        this.dir = dir;
        this.template = template;
        this.templateFile = templateFile;
        this.clone = clone;
        this.control = control;
        this.console = console;
        this.guest = guest;
    }

    /** Builds the guest, a random template (its seed printed), the clone and the control disk in {@code dir}. */
    public static GuestPullScenario create(Path dir) throws IOException, InterruptedException {
        long seed = System.nanoTime();
        System.out.println("GuestPullScenario seed " + seed);
        byte[] template = new byte[DISK_BYTES];
        new Random(seed).nextBytes(template);
        Path templateFile = Files.write(dir.resolve("template.raw"), template);
        Path clone = dir.resolve("clone.qcow2");
        QemuTools.createOverlay(clone, templateFile.getFileName().toString(), "raw");
        Path control = Files.write(dir.resolve("control.raw"), new byte[1 << 20]);
        TestGuest guest = TestGuest.build(dir.resolve("guest"), SCRIPT);
        return new GuestPullScenario(dir, template, templateFile, clone, control, dir.resolve("console.log"), guest);
    }

    public Path template() {
        return templateFile;
    }

    public Path clone() {
        return clone;
    }

    public Path console() {
        return console;
    }

    /** The domain XML: direct kernel boot on TCG or KVM, serial to {@link #console}, vda the clone, vdb control. */
    public String xml(String name) {
        return "<domain type='kvm'><name>" + name + "</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>"
                + "<os><type arch='x86_64'>hvm</type><kernel>" + guest.kernel() + "</kernel><initrd>"
                + guest.initrd() + "</initrd><cmdline>" + TestGuest.CMDLINE + "</cmdline></os>"
                + "<on_poweroff>destroy</on_poweroff><devices>"
                + "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='" + clone
                + "'/><target dev='vda' bus='virtio'/></disk>"
                + "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='" + control
                + "'/><target dev='vdb' bus='virtio'/></disk>"
                + "<serial type='file'><source path='" + console + "'/><target port='0'/></serial>"
                + "</devices></domain>";
    }

    /** The guest's console lines so far. */
    public List<String> consoleLines() throws IOException {
        return new GuestConsole(console).lines();
    }

    /** Waits until a console line matches {@code condition}; fails with the console after {@code timeout}. */
    public void awaitConsole(Predicate<String> condition, String what, Duration timeout)
            throws IOException, InterruptedException {
        new GuestConsole(console).await(condition, what, timeout);
    }

    /** The number of checksum lines the guest printed so far. */
    public long sums() throws IOException {
        return consoleLines().stream().filter(l -> SUM.matcher(l).find()).count();
    }

    /** Waits until the guest has printed {@code count} checksum lines. */
    public void awaitSums(long count, Duration timeout) throws IOException, InterruptedException {
        new GuestConsole(console)
                .awaitLines(
                        lines -> lines.stream()
                                        .filter(l -> SUM.matcher(l).find())
                                        .count()
                                >= count,
                        "making " + count + " checksums",
                        timeout);
    }

    /** Tells the guest to finish its loop: "ssss" into the control disk, through its NBD export. */
    public void stopGuestLoop(Domain domain) throws IOException, InterruptedException {
        DiskInfo vdb = domain.disks().stream()
                .filter(d -> d.target().equals("vdb"))
                .findFirst()
                .orElseThrow();
        String uri = vdb.nbdUri().orElseThrow(() -> new AssertionError("vdb has no NBD export"));
        QemuTools.ok("qemu-io", "-f", "raw", "-c", "write -P 0x73 0 512", uri);
    }

    /** Waits for the pull's end event, which must be COMPLETED. */
    public static void awaitPullCompleted(BlockingQueue<BlockJobEvent> jobs) throws InterruptedException {
        BlockJobEvent end = jobs.poll(BOOT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(BlockJobStatus.COMPLETED, end == null ? null : end.status(), () -> "the pull ended: " + end);
    }

    /** Waits until the guest has powered itself off: the domain is shut off, with the SHUTDOWN event. */
    public static void awaitPowerOff(BlockingQueue<LifecycleEvent> lifecycle, Domain domain)
            throws InterruptedException {
        while (true) {
            LifecycleEvent event = lifecycle.poll(BOOT.toSeconds(), TimeUnit.SECONDS);
            if (event == null) {
                throw new AssertionError("the guest did not power off within " + BOOT.toSeconds() + " s");
            }
            if (event.kind() != LifecycleEvent.Kind.STARTED && event.kind() != LifecycleEvent.Kind.DEFINED) {
                assertEquals(LifecycleEvent.Kind.SHUTDOWN, event.kind());
                break;
            }
        }
        assertEquals(DomainState.SHUTOFF, domain.info().state());
    }

    /** Moves the console file aside, for a second boot. */
    public void resetConsole(String suffix) throws IOException {
        if (Files.exists(console)) {
            Files.move(console, dir.resolve("console-" + suffix + ".log"));
        }
    }

    /**
     * Checks every checksum the guest printed against the content its writes made so far, that no
     * write failed, no I/O error was logged and the script exited 0; returns the final content.
     */
    public byte[] assertGuestSawItsWrites() throws IOException {
        List<String> lines = consoleLines();
        String all = String.join("\n", lines);
        assertTrue(all.contains("guest: script exited 0"), () -> "the script did not finish:\n" + all);
        assertFalse(lines.stream().anyMatch(l -> l.startsWith("guest: write")), () -> "a write failed:\n" + all);
        assertFalse(all.contains("I/O error"), () -> "the guest saw an I/O error:\n" + all);
        byte[] content = template.clone();
        int iterations = 0;
        int checked = 0;
        for (String line : lines) {
            Matcher m = SUM.matcher(line);
            if (!m.find()) {
                continue;
            }
            String which = m.group(1);
            if (which.equals("0")) {
                assertEquals(sha256(template), m.group(2), () -> "first read differs from the template:\n" + all);
                applyPattern(content);
            } else if (!which.equals("final")) {
                int i = Integer.parseInt(which);
                assertEquals(iterations + 1, i, () -> "iterations out of order:\n" + all);
                iterations = i;
                applyIteration(content, i);
                assertEquals(sha256(content), m.group(2), () -> "sum " + which + " is wrong:\n" + all);
            } else {
                assertEquals(sha256(content), m.group(2), () -> "final sum is wrong:\n" + all);
            }
            checked++;
        }
        assertTrue(checked >= 2, () -> "too few checksums:\n" + all);
        return content;
    }

    /** What a second boot of the pulled disk prints first: the content left by the first. */
    public void assertSecondBootRead(byte[] content) throws IOException {
        List<String> lines = consoleLines();
        String all = String.join("\n", lines);
        assertTrue(all.contains("guest: script exited 0"), () -> "the second boot did not finish:\n" + all);
        assertTrue(all.contains("guest: sum 0 " + sha256(content)), () -> "the second boot read other data:\n" + all);
        assertFalse(all.contains("I/O error") || all.contains("guest: write"), () -> all);
    }

    /** The clone holds {@code content}, has no backing link and passes {@code qemu-img check}. */
    public void assertCloneHolds(byte[] content) throws IOException, InterruptedException {
        assertNull(QemuTools.backingName(clone), "the clone's backing link");
        QemuTools.assertCheckClean(clone);
        Path flat = dir.resolve("clone-flat.raw");
        QemuTools.flatten(clone, flat);
        assertArrayEquals(content, Files.readAllBytes(flat), "the clone's content");
    }

    private static void applyPattern(byte[] content) {
        byte[] pattern = "siphon-pattern\n".repeat(1 + (1 << 20) / 15).getBytes(StandardCharsets.US_ASCII);
        for (long[] write : PATTERN_WRITES) {
            System.arraycopy(pattern, 0, content, (int) write[0], (int) write[1]);
        }
    }

    private static void applyIteration(byte[] content, int i) {
        int offset = (ITERATION_BLOCK + i) * BLOCK;
        java.util.Arrays.fill(content, offset, offset + BLOCK, (byte) 0);
        byte[] text = "iteration %08d\n".formatted(i).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, content, offset, text.length);
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
