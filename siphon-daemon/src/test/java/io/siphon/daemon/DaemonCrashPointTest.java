package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.Connection;
import io.siphon.api.Domain;
import io.siphon.api.ErrorCode;
import io.siphon.api.PullFlag;
import io.siphon.api.Siphon;
import io.siphon.api.SiphonException;
import io.siphon.testing.ImageCrashPoints;
import io.siphon.testing.QemuTools;
import io.siphon.util.CrashPoints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Crash points in a real daemon ({@link CrashPoints}): the steps of its state-file writes (domain
 * definition, job record, access profile, job record deletion), the pull's final header rewrite
 * and the image metadata points a pull and guest writes reach. A child daemon started with {@code
 * -Dsiphon.crash-point=POINT@N} is driven through define, start, a pull, flushed guest writes over
 * NBD (each after a read of its block), a speed change, the pull's completion and a shutdown, and
 * halts at the point. Then: qemu-img check finds no corruption (leaks counted); a restarted daemon
 * loads every definition and record with no warning (an atomic write leaves the old file or the
 * new one); a pull recorded before the crash resumes by itself and completes; and the image, with
 * no backing link and no more leaks than the crash left, holds the template's data with every
 * flushed write over it ({@code qemu-img compare}). {@code siphon.reliability.daemon-crash.points=all} runs every point ({@code
 * scripts/reliability}), {@code =P1,P2} those named; the default is two, for the default test run.
 */
class DaemonCrashPointTest {
    private static final int MIB = 1 << 20;
    private static final int SIZE = 2 * MIB;
    private static final int WRITES = 24;
    private static final List<String> STATE_STEPS = List.of("tmp.written", "tmp.flushed", "renamed", "dir.flushed");
    private static final List<Arguments> SHORT =
            List.of(Arguments.of("qcow2", "state.jobs.renamed", 1), Arguments.of("qed", "qed.header.written", 1));

    private static int runs;
    private static int crashed;
    private static int resumed;
    private static long flushedWrites;
    private static long leaks;

    @TempDir
    Path dir;

    static List<String> points(String format) {
        List<String> points = new ArrayList<>();
        for (String file : List.of("domains", "jobs", "profiles")) {
            STATE_STEPS.forEach(step -> points.add("state." + file + "." + step));
        }
        points.add("state.jobs.deleted");
        points.addAll(ImageCrashPoints.of(format));
        return points;
    }

    static Stream<Arguments> runs() {
        String chosen = System.getProperty("siphon.reliability.daemon-crash.points", "short");
        if (chosen.equals("short")) {
            return SHORT.stream();
        }
        List<Arguments> all = new ArrayList<>();
        for (String format : List.of("qcow2", "qed")) {
            points(format).stream()
                    .filter(point -> chosen.equals("all")
                            || Arrays.asList(chosen.split(",")).contains(point))
                    .forEach(point -> all.add(Arguments.of(format, point, 1)));
        }
        return all.stream();
    }

    /** What the crashed daemon had acknowledged before it halted. */
    private static final class Acknowledged {
        boolean defined;
        boolean pullRecorded;
        boolean completed;
    }

    @ParameterizedTest(name = "{0} {1}@{2}")
    @MethodSource("runs")
    void aDaemonCrashAtThePointLosesNothingAndItsPullResumes(String format, String point, int at) throws Exception {
        long seed = System.nanoTime();
        System.out.println("daemon crash point " + format + " " + point + "@" + at + " seed " + seed);
        Random random = new Random(seed);
        byte[] templateBytes = new byte[SIZE];
        random.nextBytes(templateBytes);
        Path template = Files.write(dir.resolve("template.raw"), templateBytes);
        Path top = dir.resolve("vm." + format);
        QemuTools.create(top, format, SIZE, template.getFileName().toString(), "raw");
        Path state = dir.resolve("state");
        GuestWrites writes = new GuestWrites(SIZE, random);

        Acknowledged done = new Acknowledged();
        DaemonProcess crashing =
                DaemonProcess.start(state, List.of("-D" + CrashPoints.PROPERTY + "=" + point + "@" + at), List.of());
        try {
            drive(crashing, top, format, writes, done);
        } catch (Exception | AssertionError diedUnderTheCall) {
            // the daemon halted at the point under a call; what it acknowledged before is in done
        }
        OptionalInt exit = crashing.awaitExit(Duration.ofSeconds(30));
        if (exit.isEmpty()) {
            crashing.close(); // the point was not reached that many times: a clean stop
        }
        boolean haltedAtPoint = exit.isPresent() && exit.getAsInt() == CrashPoints.EXIT_STATUS;
        assertTrue(haltedAtPoint || at > 1, point + " was not reached (daemon exit " + exit + "): " + crashing.log());
        QemuTools.Result check = QemuTools.run("qemu-img", "check", "--output=json", top.toString());
        assertTrue(
                check.exitCode() == 0 || check.exitCode() == 3,
                "qemu-img check after a crash at " + point + "@" + at + ": " + check);
        long leaked = Math.max(0, QemuTools.jsonLong(check.stdout(), "leaks"));

        int logBefore = crashing.log().length();
        boolean resumedByItself = restartAndFinish(state, top, format, done, logBefore);
        String restartLog = crashing.log().substring(logBefore);
        assertFalse(restartLog.contains("ignoring"), "a state file was damaged by the crash: " + restartLog);
        assertFalse(restartLog.contains("\tat "), "a stack trace in the restarted daemon's log: " + restartLog);

        // the crash's leaks stay until a repair (as with QEMU); the restarted daemon adds none
        QemuTools.Result after = QemuTools.run("qemu-img", "check", "--output=json", top.toString());
        assertTrue(after.exitCode() == 0 || after.exitCode() == 3, "qemu-img check after the restart: " + after);
        assertTrue(QemuTools.jsonLong(after.stdout(), "leaks") <= leaked, "leaks grew after the restart: " + after);
        assertEquals(null, QemuTools.backingName(top), "the pull completed");
        Path flat = dir.resolve("flat.raw");
        QemuTools.flatten(top, flat);
        byte[] content = Files.readAllBytes(flat);
        assertEquals(List.of(), writes.lost(content, templateBytes), "blocks whose flushed write was lost");
        Path expected = Files.write(dir.resolve("expected.raw"), writes.expected(content, templateBytes));
        QemuTools.ok("qemu-img", "compare", "-q", "-f", "raw", "-F", format, expected.toString(), top.toString());
        synchronized (DaemonCrashPointTest.class) {
            runs++;
            crashed += haltedAtPoint ? 1 : 0;
            resumed += resumedByItself ? 1 : 0;
            flushedWrites += writes.acknowledgedCount();
            leaks += leaked;
        }
    }

    /** Define, start, pull, guest writes, speed change, completion, shutdown: until the daemon halts. */
    private void drive(DaemonProcess daemon, Path top, String format, GuestWrites writes, Acknowledged done)
            throws Exception {
        try (Connection connection = Siphon.connect("siphon+unix://" + daemon.socket())) {
            BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
            connection.addBlockJobListener(events::add);
            Domain domain = connection.define(xml(top, format));
            done.defined = true;
            domain.start();
            domain.blockPull("vda", 256 << 10, Set.of(PullFlag.BANDWIDTH_BYTES));
            done.pullRecorded = true;
            writes.start(domain.disks().getFirst().nbdUri().orElseThrow(), WRITES)
                    .await();
            domain.blockJobSetSpeed("vda", 0, Set.of());
            BlockJobEvent end = null;
            while (end == null && daemon.alive()) { // a halted daemon sends no event
                end = events.poll(200, TimeUnit.MILLISECONDS);
            }
            assertEquals(BlockJobStatus.COMPLETED, end == null ? null : end.status());
            done.completed = true;
            domain.shutdown();
        }
    }

    /**
     * Starts a daemon on the crashed one's state directory, (re)defines and starts the domain, and
     * sees its pull to completion: a recorded one must resume by itself, and one the crashed daemon
     * had acknowledged must be recorded unless its end reached the disk (the image lost its link);
     * with none recorded and the link still there, the test pulls again as a user would. Returns
     * whether a recorded pull resumed.
     */
    private boolean restartAndFinish(Path state, Path top, String format, Acknowledged done, int logBefore)
            throws Exception {
        boolean recorded = Files.exists(state.resolve("jobs/vm.vda.job"));
        boolean linked = QemuTools.backingName(top) != null;
        assertTrue(
                recorded || !linked || !done.pullRecorded || done.completed,
                "an acknowledged pull that had not ended lost its record");
        try (DaemonProcess daemon = DaemonProcess.start(state);
                Connection connection = Siphon.connect("siphon+unix://" + daemon.socket())) {
            BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
            connection.addBlockJobListener(events::add);
            boolean known = connection.list().stream().anyMatch(d -> d.name().equals("vm"));
            assertTrue(known || !done.defined, "the acknowledged definition is gone");
            Domain domain = known ? connection.lookup("vm") : connection.define(xml(top, format));
            domain.start();
            String log = daemon.log().substring(logBefore);
            boolean resumed = log.contains("resuming the pull recorded");
            assertFalse(log.contains("cannot resume"), log);
            assertEquals(recorded, resumed, "the recorded pull resumes by itself: " + log);
            if (resumed) {
                try {
                    domain.blockJobSetSpeed("vda", 0, Set.of());
                } catch (SiphonException e) {
                    // it has ended already, or is ending (a pending job takes no speed)
                    assertTrue(e.code() == ErrorCode.NO_JOB || e.code() == ErrorCode.OPERATION_INVALID, e.getMessage());
                }
            } else if (linked) {
                domain.blockPull("vda", 0, Set.of()); // none was recorded: the user pulls again
            }
            if (resumed || linked) {
                BlockJobEvent end = TestDomains.awaitEvent(events);
                assertEquals(BlockJobStatus.COMPLETED, end.status(), end + ": " + daemon.log());
            }
            domain.shutdown();
            return resumed;
        }
    }

    private static String xml(Path top, String format) {
        return "<domain><name>vm</name><devices><disk type='file'><driver type='" + format + "'/><source file='" + top
                + "'/><target dev='vda'/></disk></devices></domain>";
    }

    @AfterAll
    static void figures() {
        System.out.printf(
                "daemon crash points: %d runs, %d crashed at their point, %d recorded pulls resumed by themselves and"
                        + " completed, 0 corruptions, 0 lost of %d flushed writes, %d leaked clusters%n",
                runs, crashed, resumed, flushedWrites, leaks);
    }
}
