package io.siphon.cli.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.cli.Cli;
import io.siphon.cli.SiphonProcess;
import io.siphon.cli.demo.PullDemo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The siphon command line run as processes, as a user runs it: against a daemon started with {@code
 * siphon daemon}, against {@code embedded:///DIR} and the session default; virsh's progress lines
 * through a pipe, the live bar and Ctrl-C under a terminal (tmux), exit statuses and option errors.
 */
class VirshProcessIT {
    private static final Pattern PROGRESS_LINE = Pattern.compile("Block Pull: \\[[ 0-9]{2,3}\\.[0-9]{2} %\\]");
    private static final Pattern BAR =
            Pattern.compile("Block Pull \\[=*>? *\\] +[0-9]{1,3}\\.[0-9]{2} %  [0-9.]+ [KMG]?i?B/s  ETA .*");

    @TempDir
    static Path daemonDir;

    private static Process daemon;
    private static String daemonUri;

    @TempDir
    Path dir;

    @BeforeAll
    static void startDaemon() throws IOException, InterruptedException {
        Path state = daemonDir.resolve("state");
        daemon = SiphonProcess.start(daemonDir, Map.of(), "daemon", "daemon", "--state-dir", state.toString());
        Path socket = state.resolve("siphon.sock");
        for (int i = 0; i < 600 && !Files.exists(socket); i++) {
            assertTrue(daemon.isAlive(), () -> "siphon daemon exited: " + read(daemonDir.resolve("daemon.err")));
            Thread.sleep(50);
        }
        assertTrue(Files.exists(socket), "siphon daemon made no socket within 30 s");
        daemonUri = "siphon+unix://" + socket;
    }

    @AfterAll
    static void stopDaemon() throws InterruptedException {
        daemon.destroy();
        assertTrue(daemon.waitFor(30, TimeUnit.SECONDS), "siphon daemon did not stop on SIGTERM");
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** A domain {@code name} whose disk vda is a fresh qcow2 clone of a 16 MiB template holding 9 MiB. */
    private Path domain(String name) throws IOException, InterruptedException {
        String base = name + "-base.qcow2";
        String top = name + ".qcow2";
        assertEquals(
                0, Cli.qemuImg(dir, "create", "-q", "-f", "qcow2", base, "16M").status());
        Cli.qemuIo(dir, "qcow2", base, "write -P 0x11 0 8M", "write -P 0x22 12M 1M");
        assertEquals(
                0,
                Cli.qemuImg(dir, "create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", top)
                        .status());
        Path xml = dir.resolve(name + ".xml");
        Files.writeString(xml, PullDemo.domainXml(name, dir.resolve(top)));
        return xml;
    }

    /** Runs siphon against the daemon, chosen by SIPHON_DEFAULT_URI. */
    private Cli.Result siphon(String... args) throws IOException, InterruptedException {
        return SiphonProcess.run(dir, Map.of(Connections.DEFAULT_URI_VARIABLE, daemonUri), args);
    }

    private Cli.Result ok(String... args) throws IOException, InterruptedException {
        Cli.Result result = siphon(args);
        assertEquals(0, result.status(), List.of(args) + ": " + result);
        return result;
    }

    private void defineAndStart(String name) throws IOException, InterruptedException {
        Path xml = domain(name);
        assertEquals(
                "Domain '" + name + "' defined from " + xml + "\n\n",
                ok("define", xml.toString()).out());
        assertEquals("Domain '" + name + "' started\n\n", ok("start", name).out());
    }

    @Test
    void pullThroughAPipePrintsVirshLinesAndTheEventReachesAWatcher() throws Exception {
        String name = "pipe";
        Path xml = domain(name);
        ok("define", xml.toString());
        Process watcher = SiphonProcess.start(
                dir,
                Map.of(Connections.DEFAULT_URI_VARIABLE, daemonUri),
                "watcher",
                "event",
                "--all",
                "--loop",
                "--domain",
                name,
                "--timeout",
                "120");
        Path watched = dir.resolve("watcher.out");
        // redefining an unchanged domain is an event: repeat until the watcher has shown it is listening
        for (int i = 0; i < 200 && !read(watched).contains("Defined Added"); i++) {
            ok("define", xml.toString());
            Thread.sleep(100);
        }
        assertTrue(read(watched).contains("event 'lifecycle' for domain 'pipe': Defined Added\n"), read(watched));
        ok("start", name);
        assertTrue(ok("domblklist", name).out().contains(" nbd+unix://"));

        Cli.Result pull = ok("blockpull", name, "vda", "8", "--wait", "--verbose");
        assertEquals("Pull complete\n", pull.out());
        List<String> lines = pull.err().lines().toList();
        assertFalse(lines.isEmpty());
        lines.forEach(line -> assertTrue(PROGRESS_LINE.matcher(line).matches(), line));
        assertEquals("Block Pull: [100.00 %]", lines.getLast());
        assertFalse(Cli.qemuImg(dir, "info", "-U", name + ".qcow2").out().contains("backing file"));

        awaitText(watched, s -> s.contains("event 'block-job' for domain 'pipe': Block Pull for vda completed\n"));
        awaitText(watched, s -> s.contains("event 'block-job-2' for domain 'pipe': Block Pull for vda completed\n"));
        assertEquals(
                0,
                new ProcessBuilder("kill", "-INT", Long.toString(watcher.pid()))
                        .start()
                        .waitFor());
        assertTrue(watcher.waitFor(30, TimeUnit.SECONDS));
        String out = read(watched);
        assertTrue(out.contains("event 'lifecycle' for domain 'pipe': Started Booted\n"), out);
        assertTrue(
                out.endsWith("event loop interrupted\nevents received: "
                        + out.lines().filter(l -> l.startsWith("event '")).count() + "\n\n"),
                out);
        assertEquals(0, watcher.exitValue());
        assertEquals("Domain 'pipe' destroyed\n\n", ok("destroy", name).out());
    }

    private static void awaitText(Path file, Predicate<String> condition) throws InterruptedException {
        for (int i = 0; i < 600 && !condition.test(read(file)); i++) {
            Thread.sleep(50);
        }
        assertTrue(condition.test(read(file)), read(file));
    }

    @Test
    void timeoutAbortsThePullAsVirshDoes() throws Exception {
        defineAndStart("slow");
        Cli.Result pull = siphon("blockpull", "slow", "vda", "1", "--wait", "--verbose", "--timeout", "1");
        assertEquals(1, pull.status(), pull.toString());
        assertEquals("Pull aborted\n", pull.out());
        pull.err()
                .lines()
                .forEach(line -> assertTrue(PROGRESS_LINE.matcher(line).matches(), line));
        assertEquals(
                "No current block job for vda\n\n",
                ok("blockjob", "slow", "vda").out());
        assertTrue(Cli.qemuImg(dir, "info", "-U", "slow.qcow2").out().contains("backing file: slow-base.qcow2"));
        Cli.Result timedOut = siphon("event", "--event", "lifecycle", "--domain", "slow", "--timeout", "1");
        assertEquals(1, timedOut.status());
        assertEquals("event loop timed out\nevents received: 0\n\n", timedOut.out());
        ok("shutdown", "slow");
    }

    @Test
    void aTerminalGetsALiveBarAndCtrlCAbortsThePull() throws Exception {
        defineAndStart("tty");
        String session = "siphon-it-" + ProcessHandle.current().pid();
        Path script = dir.resolve("pull.sh");
        // bash (unlike dash) goes on after a child that handled SIGINT, so the status is shown
        Files.writeString(
                script,
                "#!/bin/bash\n" + "export " + Connections.DEFAULT_URI_VARIABLE + "='" + daemonUri + "'\n"
                        + SiphonProcess.shellLine("blockpull", "tty", "vda", "1", "--wait", "--verbose") + "\n"
                        + "echo EXIT=$?\nsleep 600\n");
        assertEquals(0, tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "12", "bash " + script));
        try {
            Optional<String> bar = awaitPane(
                    session,
                    pane -> pane.lines().anyMatch(l -> BAR.matcher(l.strip()).matches()));
            assertTrue(bar.isPresent(), "no live bar on the terminal");
            assertFalse(bar.get().contains("Block Pull: ["), bar.get());
            assertEquals(0, tmux("send-keys", "-t", session, "C-c"));
            Optional<String> end = awaitPane(session, pane -> pane.contains("EXIT="));
            assertTrue(end.isPresent(), "the pull did not end on Ctrl-C");
            assertTrue(end.get().contains("Pull aborted\nEXIT=1"), end.get());
        } finally {
            tmux("kill-session", "-t", session);
        }
        assertEquals(
                "No current block job for vda\n\n", ok("blockjob", "tty", "vda").out());
        ok("shutdown", "tty");
    }

    private int tmux(String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("tmux"));
        command.addAll(List.of(args));
        return Cli.run(dir, command.toArray(String[]::new)).status();
    }

    private Optional<String> awaitPane(String session, Predicate<String> condition)
            throws IOException, InterruptedException {
        for (int i = 0; i < 300; i++) {
            String pane =
                    Cli.run(dir, "tmux", "capture-pane", "-p", "-t", session).out();
            if (condition.test(pane)) {
                return Optional.of(pane);
            }
            Thread.sleep(100);
        }
        return Optional.empty();
    }

    @Test
    void failuresGiveStatusOneAndOneLine() throws Exception {
        Cli.Result unknown = siphon("dominfo", "nosuch");
        assertEquals(1, unknown.status());
        assertEquals(1, unknown.err().lines().count(), unknown.err());
        assertFalse(unknown.err().contains("\tat "), unknown.err());
        Cli.Result option = siphon("blockpull", "nosuch", "vda", "--verbose");
        assertEquals(1, option.status());
        assertEquals("siphon: Option --wait is required by option --verbose\n", option.err());
        Cli.Result unknownOption = siphon("list", "--frobnicate");
        assertEquals(1, unknownOption.status());
        assertEquals(
                "siphon: Unknown option: '--frobnicate'\nTry 'siphon list --help' for more information.\n",
                unknownOption.err());
        Cli.Result help = siphon("blockpull", "--help");
        assertEquals(0, help.status());
        assertTrue(help.out().startsWith("Usage: siphon blockpull"), help.out());
        Cli.Result nowhere =
                SiphonProcess.run(dir, Map.of(), "-c", "siphon+unix://" + dir.resolve("none.sock"), "list");
        assertEquals(1, nowhere.status());
        assertEquals(1, nowhere.err().lines().count(), nowhere.err());
    }

    @Test
    void embeddedDefinitionsOutliveTheProcess() throws Exception {
        Path xml = domain("emb");
        String uri = "embedded://" + dir.resolve("state");
        Cli.Result defined = SiphonProcess.run(dir, Map.of(), "-c", uri, "define", xml.toString());
        assertEquals(0, defined.status(), defined.toString());
        Cli.Result listed = SiphonProcess.run(dir, Map.of(Connections.DEFAULT_URI_VARIABLE, uri), "list", "--all");
        assertEquals(" Id   Name   State\n-----------------------\n -    emb    shut off\n\n", listed.out());
    }

    @Test
    void theDefaultIsTheSessionDaemonStartedOnDemand() throws Exception {
        Path session = dir.resolve("session");
        Cli.Result listed = SiphonProcess.run(dir, Map.of("SIPHON_SESSION_DIR", session.toString()), "list", "--all");
        try {
            assertEquals(0, listed.status(), listed.toString());
            assertEquals(" Id   Name   State\n--------------------\n\n", listed.out());
            assertTrue(Files.exists(session.resolve("siphon.sock")));
        } finally {
            // the session daemon outlives the command by design: stop the one this test started
            ProcessHandle.allProcesses()
                    .filter(p -> p.info().commandLine().orElse("").contains(session.toString()))
                    .forEach(ProcessHandle::destroy);
        }
    }
}
