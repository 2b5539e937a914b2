package io.siphon.format.crash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.testing.ImageCrashPoints;
import io.siphon.testing.QemuTools;
import io.siphon.util.CrashPoints;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every named crash point of the metadata write order ({@link CrashPoints}), on qcow2 and QED: a
 * child process writes into a clone of a template (copy-on-write of the rest of each cluster),
 * flushes now and then, drops the backing link as a finished pull does, and kills itself at the
 * point. After each crash: qemu-img check finds no corruption (leaks allowed and counted), every
 * write acknowledged as flushed reads back with the template's bytes around it, and the backing link
 * is the old one or none. The occurrences to stop at come from {@code
 * siphon.reliability.crash.occurrences} (default 1; {@code scripts/reliability} runs more).
 */
class CrashPointTest {
    private static final int WRITES = 12;
    private static final byte TEMPLATE = 0x33;
    /** qcow2 with extended L2 entries. */
    private static final String EXTENDED_L2 = "qcow2-extended_l2";

    private static int runs;
    private static int crashed;
    private static long leaks;
    private static long flushedWritesChecked;

    @TempDir
    Path dir;

    static Stream<Arguments> points() {
        List<Integer> occurrences = Arrays.stream(System.getProperty("siphon.reliability.crash.occurrences", "1")
                        .split(","))
                .map(String::trim)
                .map(Integer::parseInt)
                .toList();
        List<Arguments> all = new ArrayList<>();
        for (int at : occurrences) {
            ImageCrashPoints.QCOW2.forEach(p -> all.add(Arguments.of("qcow2", p, at)));
            // subclusters: copy-on-write to subcluster boundaries, bitmaps set in the L2 tables
            ImageCrashPoints.QCOW2.forEach(p -> all.add(Arguments.of(EXTENDED_L2, p, at)));
            ImageCrashPoints.QED.forEach(p -> all.add(Arguments.of("qed", p, at)));
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} {1}@{2}")
    @MethodSource("points")
    void aCrashAtThePointLosesNoFlushedWriteAndLeavesACheckableImage(String format, String point, int at)
            throws Exception {
        long seed = System.nanoTime();
        System.out.println("crash point " + format + " " + point + "@" + at + " seed " + seed);
        Path template = dir.resolve("template.raw");
        byte[] templateBytes = new byte[WRITES * CrashPointWriter.STRIDE];
        Arrays.fill(templateBytes, TEMPLATE);
        Files.write(template, templateBytes);
        String fileFormat = format.equals(EXTENDED_L2) ? "qcow2" : format;
        Path clone = dir.resolve("clone." + fileFormat);
        String[] options = format.equals(EXTENDED_L2) ? new String[] {"extended_l2=on"} : new String[0];
        QemuTools.create(clone, fileFormat, templateBytes.length, "template.raw", "raw", options);

        Process child = new ProcessBuilder(ChildJvm.command(
                        point,
                        at,
                        CrashPointWriter.class,
                        clone.toString(),
                        Long.toString(seed),
                        Integer.toString(WRITES)))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        int lastFlushed = -1;
        boolean unlinked = false;
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                if (line.startsWith("flushed ")) {
                    lastFlushed = Integer.parseInt(line.substring(8));
                } else if (line.equals("unlinked")) {
                    unlinked = true;
                }
            }
        }
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the writer did not end");
        int exit = child.exitValue();
        assertTrue(exit == 0 || exit == CrashPoints.EXIT_STATUS, "writer exited " + exit);
        synchronized (CrashPointTest.class) {
            runs++;
            crashed += exit == CrashPoints.EXIT_STATUS ? 1 : 0;
        }

        QemuTools.Result check = QemuTools.run("qemu-img", "check", "--output=json", clone.toString());
        assertTrue(
                check.exitCode() == 0 || check.exitCode() == 3,
                "qemu-img check after a crash at " + point + "@" + at + ": " + check);
        long leaked = QemuTools.jsonLong(check.stdout(), "leaks");
        String backing = QemuTools.run("qemu-img", "info", clone.toString()).stdout();
        if (unlinked) {
            assertTrue(!backing.contains("backing file:"), backing);
        }
        try (ImageChain chain = ImageChain.open(clone, Optional.empty(), OpenOptions.READ_ONLY)) {
            boolean linked = chain.images().size() == 2;
            for (int i = 0; i <= lastFlushed; i++) {
                ByteBuffer got = ByteBuffer.allocate(CrashPointWriter.IN_CLUSTER + CrashPointWriter.BLOCK);
                chain.top().read(CrashPointWriter.offset(i) - CrashPointWriter.IN_CLUSTER, got, Set.of());
                byte[] before = Arrays.copyOf(got.array(), CrashPointWriter.IN_CLUSTER);
                byte[] expectedBefore = new byte[CrashPointWriter.IN_CLUSTER];
                Arrays.fill(expectedBefore, TEMPLATE);
                assertArrayEquals(expectedBefore, before, "template bytes copied beside flushed write " + i);
                assertArrayEquals(
                        CrashPointWriter.block(seed, i),
                        Arrays.copyOfRange(got.array(), CrashPointWriter.IN_CLUSTER, got.capacity()),
                        "flushed write " + i + " after a crash at " + point + "@" + at + " (linked " + linked + ")");
            }
        }
        synchronized (CrashPointTest.class) {
            leaks += Math.max(0, leaked);
            flushedWritesChecked += lastFlushed + 1;
        }
    }

    @AfterAll
    static void figures() {
        System.out.printf(
                "crash points: %d runs, %d crashed at their point, 0 corruptions, 0 lost of %d flushed writes, %d"
                        + " leaked clusters%n",
                runs, crashed, flushedWritesChecked, leaks);
    }
}
