package io.siphon.cli.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.Connection;
import io.siphon.api.Siphon;
import io.siphon.cli.Cli;
import io.siphon.cli.demo.PullDemo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The domain and block-job commands in this JVM against {@code embedded:///DIR}, on qcow2 clones made
 * by qemu-img; a held connection keeps the embedded engine (and a started domain) alive between
 * commands, as one process would.
 */
class DomainCommandsTest {
    private static final Pattern PROGRESS_LINE = Pattern.compile("Block Pull: \\[[ 0-9]{2,3}\\.[0-9]{2} %\\]");

    @TempDir
    Path dir;

    private String uri;
    private Connection held;

    @BeforeEach
    void images() throws IOException, InterruptedException {
        uri = "embedded://" + dir.resolve("state").toAbsolutePath();
        assertEquals(
                0,
                Cli.qemuImg(dir, "create", "-q", "-f", "qcow2", "base.qcow2", "16M")
                        .status());
        Cli.qemuIo(dir, "qcow2", "base.qcow2", "write -P 0x11 0 8M", "write -P 0x22 12M 1M");
        assertEquals(
                0,
                Cli.qemuImg(dir, "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "top.qcow2")
                        .status());
        Files.writeString(dir.resolve("d.xml"), PullDemo.domainXml("d", dir.resolve("top.qcow2")));
    }

    @AfterEach
    void release() {
        if (held != null) {
            held.close();
        }
    }

    private Cli.Result siphon(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "-c";
        all[1] = uri;
        System.arraycopy(args, 0, all, 2, args.length);
        return Cli.siphon(all);
    }

    private Cli.Result ok(String... args) {
        Cli.Result result = siphon(args);
        assertEquals(0, result.status(), List.of(args) + ": " + result);
        return result;
    }

    @Test
    void definitionsPersistAndShowAsVirshShowsThem() {
        Path xmlFile = dir.resolve("d.xml");
        assertEquals(
                "Domain 'd' defined from " + xmlFile + "\n\n",
                ok("define", xmlFile.toString()).out());
        assertEquals(" Id   Name   State\n--------------------\n\n", ok("list").out());
        assertEquals(
                " Id   Name   State\n-----------------------\n -    d      shut off\n\n",
                ok("list", "--all").out());
        assertEquals("d\n\n", ok("list", "--all", "--name").out());
        String info = ok("dominfo", "d").out();
        assertTrue(info.startsWith("Id:             -\nName:           d\nUUID:           "), info);
        assertTrue(
                info.contains(
                        "State:          shut off\nPersistent:     yes\nAutostart:      disable\nDisks:          1\n"),
                info);
        String top = dir.resolve("top.qcow2").toAbsolutePath().toString();
        assertEquals(
                " Target   Source" + " ".repeat(top.length() - 3) + "NBD\n" + "-".repeat(9 + top.length() + 3 + 6)
                        + "\n vda      " + top + "   -\n\n",
                ok("domblklist", "d").out());
        assertTrue(ok("domblklist", "d", "--details")
                .out()
                .contains(" file   disk     vda      " + top + "   qcow2    on "));
        assertEquals("Domain 'd' has been undefined\n\n", ok("undefine", "d").out());
        assertEquals("\n", ok("list", "--all", "--name").out());
    }

    @Test
    void pullWithWaitVerbosePrintsVirshLinesAndLeavesNoBackingFile() throws IOException, InterruptedException {
        held = Siphon.connect(uri);
        ok("define", dir.resolve("d.xml").toString());
        Cli.Result started = ok("start", "d");
        assertEquals("Domain 'd' started\n\n", started.out());
        assertTrue(started.err().contains("runs only while this process does"), started.err());
        assertTrue(ok("domblklist", "d").out().contains(" nbd+unix://"));
        assertTrue(ok("dominfo", "d").out().contains("Id:             1\n"));

        Cli.Result pull = ok("blockpull", "d", "vda", "--bandwidth", "32", "--wait", "--verbose");
        assertEquals("Pull complete\n", pull.out());
        List<String> lines = pull.err().lines().toList();
        assertFalse(lines.isEmpty(), pull.err());
        lines.forEach(line -> assertTrue(PROGRESS_LINE.matcher(line).matches(), line));
        assertEquals("Block Pull: [100.00 %]", lines.getLast());
        assertEquals(
                "No current block job for vda\n\n", ok("blockjob", "d", "vda").out());
        Cli.Result info = Cli.qemuImg(dir, "info", "-U", "top.qcow2");
        assertFalse(info.out().contains("backing file"), info.out());
        assertEquals("Domain 'd' is being shutdown\n\n", ok("shutdown", "d").out());
        assertEquals(0, Cli.qemuImg(dir, "compare", "base.qcow2", "top.qcow2").status());
    }

    @Test
    void blockjobShowsChangesPausesAndAbortsARunningPull() {
        held = Siphon.connect(uri);
        ok("define", dir.resolve("d.xml").toString());
        ok("start", "d");
        assertEquals("Block Pull started\n\n", ok("blockpull", "d", "vda", "1").out());
        String info = ok("blockjob", "d", "vda", "--info").out();
        assertTrue(
                Pattern.matches(
                        "Block Pull: \\[[ 0-9]{2}\\.[0-9]{2} %\\]    Bandwidth limit: 1048576 bytes/s \\(1\\.000 MiB/s\\)\n\n",
                        info),
                info);
        String raw = ok("blockjob", "d", "vda", "--raw").out();
        assertTrue(Pattern.matches(" type=Pull\n bandwidth=1\n cur=[0-9]+\n end=16777216\n\n", raw), raw);
        ok("blockjob", "d", "vda", "--bandwidth", "2M", "--bytes");
        assertTrue(ok("blockjob", "d", "vda", "--raw", "--bytes").out().contains(" bandwidth=2097152\n"));
        ok("blockjob", "d", "vda", "--pause");
        assertTrue(ok("blockjob", "d", "vda").out().endsWith("    paused\n\n"));
        ok("blockjob", "d", "vda", "--resume");
        ok("blockjob", "d", "vda", "3145728", "--bytes"); // virsh's positional BANDWIDTH
        assertTrue(ok("blockjob", "d", "vda", "--raw", "--bytes").out().contains(" bandwidth=3145728\n"));
        assertEquals("\n", ok("blockjob", "d", "vda", "--abort").out());
        assertEquals(
                "No current block job for vda\n\n", ok("blockjob", "d", "vda").out());
        assertEquals("", ok("blockjob", "d", "vda", "--raw").out());
    }

    @Test
    void stepPullsOneIncrementAtATimeUntilComplete() throws IOException, InterruptedException {
        held = Siphon.connect(uri);
        ok("define", dir.resolve("d.xml").toString());
        ok("start", "d");
        String first = ok("blockpull", "d", "vda", "--step").out();
        assertTrue(PROGRESS_LINE.matcher(first.strip()).matches(), first);
        assertTrue(ok("blockjob", "d", "vda").out().contains("    stepping"));
        String last = first;
        for (int i = 0; i < 10_000 && !last.contains("Pull complete"); i++) {
            last = ok("blockpull", "d", "vda", "--step").out();
        }
        assertEquals("Block Pull: [100.00 %]\nPull complete\n", last);
        assertFalse(Cli.qemuImg(dir, "info", "-U", "top.qcow2").out().contains("backing file"));
    }

    @Test
    void aGuestPacedPullTakesItsLatencyFactorAndRefusesOneOutOfRange() throws IOException, InterruptedException {
        held = Siphon.connect(uri);
        ok("define", dir.resolve("d.xml").toString());
        ok("start", "d");
        Cli.Result low = siphon("blockpull", "d", "vda", "--pace", "guest", "--pace-latency", "0.5");
        assertEquals(1, low.status());
        assertEquals("siphon: guest latency factor must be above 1 and at most 10, is 0.5\n", low.err());
        assertEquals(
                "Pull complete\n",
                ok("blockpull", "d", "vda", "--pace", "guest", "--pace-latency", "2", "--wait")
                        .out());
        assertFalse(Cli.qemuImg(dir, "info", "-U", "top.qcow2").out().contains("backing file"));
    }

    @Test
    void failuresAreOneLineWithStatusOne() {
        Cli.Result unknown = siphon("dominfo", "nosuch");
        assertEquals(1, unknown.status());
        assertEquals(1, unknown.err().lines().count(), unknown.err());
        assertTrue(unknown.err().startsWith("siphon: ") && unknown.err().contains("nosuch"), unknown.err());
        Cli.Result debug = siphon("--debug", "dominfo", "nosuch");
        assertEquals(1, debug.status());
        assertTrue(debug.err().contains("\tat "), debug.err());

        ok("define", dir.resolve("d.xml").toString());
        Cli.Result notRunning = siphon("blockpull", "d", "vda");
        assertEquals(1, notRunning.status());
        assertEquals(1, notRunning.err().lines().count(), notRunning.err());
        Cli.Result missingFile = siphon("define", dir.resolve("absent.xml").toString());
        assertEquals("siphon: " + dir.resolve("absent.xml") + ": no such file or directory\n", missingFile.err());
    }

    @Test
    void optionErrorsNameTheOptionsAsVirshDoes() {
        expectError("siphon: Option --wait is required by option --verbose\n", "blockpull", "d", "vda", "--verbose");
        expectError("siphon: Option --wait is required by option --async\n", "blockpull", "d", "vda", "--async");
        expectError(
                "siphon: Option --wait is required by option --timeout\n", "blockpull", "d", "vda", "--timeout", "3");
        expectError(
                "siphon: Option --base is required by option --keep-relative\n",
                "blockpull",
                "d",
                "vda",
                "--keep-relative");
        expectError(
                "siphon: Option --pace guest is required by option --pace-latency\n",
                "blockpull",
                "d",
                "vda",
                "--pace-latency",
                "2");
        expectError(
                "siphon: Options --step and --wait are mutually exclusive\n",
                "blockpull",
                "d",
                "vda",
                "--step",
                "--wait");
        expectError(
                "siphon: bandwidth given twice: as an argument and as --bandwidth\n",
                "blockpull",
                "d",
                "vda",
                "5",
                "--bandwidth",
                "5");
        expectError(
                "siphon: Scaled numeric value 'fast' for <--bandwidth> option is malformed or out of range\n",
                "blockpull",
                "d",
                "vda",
                "fast");
        expectError(
                "siphon: invalid timeout 0: must be at least 1 second\n",
                "blockpull",
                "d",
                "vda",
                "--wait",
                "--timeout",
                "0");
        expectError(
                "siphon: Options --raw and --abort are mutually exclusive\n",
                "blockjob",
                "d",
                "vda",
                "--raw",
                "--abort");
        expectError(
                "siphon: Options --info and --bandwidth are mutually exclusive\n",
                "blockjob",
                "d",
                "vda",
                "--info",
                "--bandwidth",
                "3");
        expectError(
                "siphon: bandwidth given twice: as an argument and as --bandwidth\n",
                "blockjob",
                "d",
                "vda",
                "3",
                "--bandwidth",
                "4");
        expectError(
                "siphon: base given twice: as an argument and as --base\n",
                "blockpull",
                "d",
                "vda",
                "0",
                "one.qcow2",
                "--base",
                "other.qcow2");
        expectError(
                "siphon: unknown event type reboot (known: lifecycle, block-job, block-job-2)\n",
                "event",
                "d",
                "reboot");
        expectError("siphon: one of --list, --all, or --event <type> is required\n", "event");
        expectError(
                "siphon: unknown event type reboot (known: lifecycle, block-job, block-job-2)\n",
                "event",
                "--event",
                "reboot");
        Cli.Result missing = siphon("blockpull", "d");
        assertEquals(1, missing.status());
        assertTrue(missing.err().startsWith("siphon: Missing required parameter: 'DISK'"), missing.err());
        assertTrue(missing.err().contains("Try 'siphon blockpull --help'"), missing.err());
    }

    private void expectError(String err, String... args) {
        Cli.Result result = siphon(args);
        assertEquals(1, result.status(), List.of(args).toString());
        assertEquals(err, result.err(), List.of(args).toString());
        assertEquals("", result.out(), List.of(args).toString());
    }

    @Test
    void blockpullOnOutageReachesTheJobsRecord() throws IOException {
        expectError(
                "siphon: Options --step and --on-outage are mutually exclusive\n",
                "blockpull",
                "d",
                "vda",
                "--step",
                "--on-outage",
                "fail");
        Cli.Result unknown = siphon("blockpull", "d", "vda", "--on-outage", "retry");
        assertEquals(1, unknown.status());
        assertTrue(unknown.err().contains("--on-outage") && unknown.err().contains("retry"), unknown.err());
        held = Siphon.connect(uri);
        ok("define", dir.resolve("d.xml").toString());
        ok("start", "d");
        // 1 MiB/s over 9 MiB of data: the job still runs when its record is read
        ok("blockpull", "d", "vda", "--bandwidth", "1", "--on-outage", "fail");
        String record = Files.readString(dir.resolve("state/jobs/d.vda.job"));
        assertTrue(record.contains("on-outage=fail"), record);
        ok("blockjob", "d", "vda", "--abort");
        ok("blockpull", "d", "vda", "--bandwidth", "1", "--on-outage", "pause");
        record = Files.readString(dir.resolve("state/jobs/d.vda.job"));
        assertTrue(record.contains("on-outage=pause"), record);
        ok("blockjob", "d", "vda", "--abort");
        ok("destroy", "d");
    }

    @Test
    void blockpullTakesBandwidthAndBaseByPosition() throws IOException, InterruptedException {
        held = Siphon.connect(uri);
        ok("define", dir.resolve("d.xml").toString());
        ok("start", "d");
        ok("blockpull", "d", "vda", "0", dir.resolve("base.qcow2").toString(), "--wait");
        ok("shutdown", "d");
        Cli.Result info = Cli.qemuImg(dir, "info", "top.qcow2");
        assertTrue(info.out().contains("backing file: "), info.out()); // pulled down to BASE: it stays
        assertTrue(info.out().contains("base.qcow2"), info.out());
    }

    @Test
    void uriAndDomstateAsVirsh() {
        assertEquals(uri + "\n\n", ok("uri").out());
        held = Siphon.connect(uri);
        ok("define", dir.resolve("d.xml").toString());
        assertEquals("shut off\n\n", ok("domstate", "d").out());
        ok("start", "d");
        assertEquals("running\n\n", ok("domstate", "d").out());
        ok("shutdown", "d");
        Cli.Result missing = siphon("domstate", "nothere");
        assertEquals(1, missing.status(), missing.toString());
        assertEquals(1, missing.err().lines().count(), missing.err());
        assertTrue(missing.err().contains("nothere"), missing.err());
    }

    @Test
    void dumpxmlPrintsTheDefinitionAsDefined() throws IOException {
        ok("define", dir.resolve("d.xml").toString());
        String xml = Files.readString(dir.resolve("d.xml"));
        assertEquals(
                xml + (xml.endsWith("\n") ? "" : "\n") + "\n",
                ok("dumpxml", "d").out());
    }

    /** {@code stat}'s allocated bytes of {@code file}. */
    private long allocatedBytes(String file) throws IOException, InterruptedException {
        String[] fields =
                Cli.run(dir, "stat", "-c", "%b %B", file).out().strip().split(" ");
        return Long.parseLong(fields[0]) * Long.parseLong(fields[1]);
    }

    @Test
    void domblkinfoPrintsCapacityAllocationAndPhysicalAsVirsh() throws IOException, InterruptedException {
        ok("define", dir.resolve("d.xml").toString());
        long allocation = allocatedBytes("top.qcow2");
        long physical = Files.size(dir.resolve("top.qcow2"));
        assertEquals(
                "Capacity:       16777216\nAllocation:     " + allocation + "\nPhysical:       " + physical + "\n\n",
                ok("domblkinfo", "d", "vda").out());
        String human = ok("domblkinfo", "d", "vda", "--human").out();
        assertTrue(
                Pattern.matches(
                        "Capacity:       16\\.000 MiB\nAllocation:     [0-9]+\\.[0-9]{3} KiB\n"
                                + "Physical:       [0-9]+\\.[0-9]{3} KiB\n\n",
                        human),
                human);
        int allocationWidth = Math.max(10, Long.toString(allocation).length());
        int physicalWidth = Math.max(8, Long.toString(physical).length());
        String allocationColumn = "%-" + allocationWidth + "s";
        assertEquals(
                " Target   Capacity   " + String.format(allocationColumn, "Allocation") + "   Physical\n"
                        + "-".repeat(6 + 3 + 8 + 3 + allocationWidth + 3 + physicalWidth + 3) + "\n"
                        + " vda      16777216   " + String.format(allocationColumn, allocation) + "   " + physical
                        + "\n\n",
                ok("domblkinfo", "d", "--all").out());
        assertEquals(
                "{\"capacity\":16777216,\"allocation\":" + allocation + ",\"physical\":" + physical + "}\n",
                ok("domblkinfo", "d", "vda", "--output=json").out());
        assertEquals(
                "[{\"target\":\"vda\",\"capacity\":16777216,\"allocation\":" + allocation + ",\"physical\":" + physical
                        + "}]\n",
                ok("domblkinfo", "d", "--all", "--output", "json").out());
        expectError("siphon: command 'domblkinfo' requires <device> option\n", "domblkinfo", "d");
        expectError("siphon: Options --all and --device are mutually exclusive\n", "domblkinfo", "d", "vda", "--all");
    }

    @Test
    void domblkstatPrintsTheGuestsRequestsAsVirsh() throws IOException, InterruptedException {
        held = Siphon.connect(uri);
        ok("define", dir.resolve("d.xml").toString());
        Cli.Result shutOff = siphon("domblkstat", "d", "vda");
        assertEquals(1, shutOff.status(), shutOff.toString());
        assertTrue(shutOff.err().contains("is not running"), shutOff.err());
        ok("start", "d");
        String nbd = held.lookup("d").disks().getFirst().nbdUri().orElseThrow();
        Cli.Result io = Cli.run(dir, "qemu-io", "-f", "raw", "-c", "write -P 5 0 64k", "-c", "read 0 64k", nbd);
        assertEquals(0, io.status(), io.toString());
        String stats = ok("domblkstat", "d", "vda").out();
        assertTrue(
                Pattern.matches(
                        "vda rd_req 1\nvda rd_bytes 65536\nvda wr_req 1\nvda wr_bytes 65536\n"
                                + "vda flush_operations [0-9]+\nvda rd_total_times [1-9][0-9]*\n"
                                + "vda wr_total_times [1-9][0-9]*\nvda flush_total_times [0-9]+\n\n",
                        stats),
                stats);
        String totals = ok("domblkstat", "d").out();
        assertTrue(totals.startsWith(" rd_req 1\n rd_bytes 65536\n wr_req 1\n"), totals);
        String human = ok("domblkstat", "d", "vda", "--human").out();
        assertTrue(
                human.startsWith("Device: vda\n number of read operations:      1\n"
                        + " number of bytes read:           65536\n"),
                human);
        assertTrue(human.contains("\n total duration of flushes (ns): "), human);
        String json = ok("domblkstat", "d", "vda", "--output=json").out();
        assertTrue(
                Pattern.matches(
                        "\\{\"rd-operations\":1,\"rd-bytes\":65536,\"wr-operations\":1,\"wr-bytes\":65536,"
                                + "\"flush-operations\":[0-9]+,\"rd-total-times\":[0-9]+,\"wr-total-times\":[0-9]+,"
                                + "\"flush-total-times\":[0-9]+\\}\n",
                        json),
                json);
        ok("destroy", "d");
    }

    @Test
    void autostartMarksTheDomainForListAndDominfo() {
        ok("define", dir.resolve("d.xml").toString());
        assertEquals(
                "Domain 'd' marked as autostarted\n\n", ok("autostart", "d").out());
        assertTrue(ok("dominfo", "d").out().contains("\nAutostart:      enable\n"));
        assertEquals("d\n\n", ok("list", "--all", "--autostart", "--name").out());
        assertEquals("\n", ok("list", "--all", "--no-autostart", "--name").out());
        assertTrue(Files.isSymbolicLink(dir.resolve("state/autostart/d.xml")), "libvirt's autostart link");
        assertEquals(
                "Domain 'd' unmarked as autostarted\n\n",
                ok("autostart", "d", "--disable").out());
        assertEquals("\n", ok("list", "--all", "--autostart", "--name").out());
        assertFalse(Files.exists(dir.resolve("state/autostart/d.xml"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        expectError(
                "siphon: Options --autostart and --no-autostart are mutually exclusive\n",
                "list",
                "--autostart",
                "--no-autostart");
    }

    @Test
    void outputJsonGivesTheProtocolsShapes() throws Exception {
        held = Siphon.connect(uri);
        ok("define", dir.resolve("d.xml").toString());
        String uuid = held.lookup("d").info().uuid().toString();
        String shutOff = "{\"id\":null,\"name\":\"d\",\"uuid\":\"" + uuid
                + "\",\"state\":\"shutoff\",\"disks\":1,\"autostart\":false}";
        assertEquals("[" + shutOff + "]\n", ok("list", "--all", "--output=json").out());
        assertEquals("[]\n", ok("list", "--output=json").out());
        assertEquals(
                shutOff.replace("}", ",\"persistent\":true}") + "\n",
                ok("dominfo", "d", "--output=json").out());
        assertEquals(
                "{\"state\":\"shutoff\"}\n",
                ok("domstate", "d", "--output=json").out());
        String top = dir.resolve("top.qcow2").toAbsolutePath().toString();
        assertEquals(
                "[{\"target\":\"vda\",\"source\":\"" + top
                        + "\",\"format\":\"qcow2\",\"read-only\":false,\"copy-on-read\":true}]\n",
                ok("domblklist", "d", "--output=json").out());
        ok("start", "d");
        String running = ok("dominfo", "d", "--output=json").out();
        assertTrue(running.startsWith("{\"id\":1,\"name\":\"d\""), running);
        assertTrue(
                running.endsWith(",\"state\":\"running\",\"disks\":1,\"autostart\":false,\"persistent\":true,"
                        + "\"block-jobs\":0}\n"),
                running);
        assertEquals(
                "{}\n", ok("blockjob", "d", "vda", "--info", "--output=json").out());
        ok("blockpull", "d", "vda", "1");
        String job = ok("blockjob", "d", "vda", "--output=json").out();
        assertTrue(
                Pattern.matches(
                        "\\{\"job\":\\{\"type\":\"pull\",\"bandwidth-bytes\":1048576,\"cur\":[0-9]+,"
                                + "\"end\":16777216,\"state\":\"running\",.*\\}\\}\n",
                        job),
                job);
        ok("blockjob", "d", "vda", "--abort");
        expectError("siphon: unknown output format 'xml' (known: human, json)\n", "list", "--output=xml");
        expectError(
                "siphon: Option --output=json goes only with --info\n",
                "blockjob",
                "d",
                "vda",
                "--abort",
                "--output=json");
    }

    @Test
    void eventOutputJsonPrintsTheProtocolsEventMessage() throws Exception {
        held = Siphon.connect(uri);
        ok("define", dir.resolve("d.xml").toString());
        java.util.concurrent.ExecutorService waiter = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            java.util.concurrent.Future<Cli.Result> event =
                    waiter.submit(() -> siphon("event", "d", "lifecycle", "--output=json", "--timeout", "60"));
            // redefining emits DEFINED; repeat until the waiting command, subscribed at some point, has one
            while (!event.isDone()) {
                ok("define", dir.resolve("d.xml").toString());
                try {
                    event.get(100, java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.TimeoutException notYet) {
                    // not subscribed yet
                }
            }
            Cli.Result result = event.get();
            assertEquals(0, result.status(), result.toString());
            assertTrue(
                    Pattern.matches(
                            "\\{\"event\":\"DOMAIN_LIFECYCLE\",\"data\":\\{\"domain\":\"d\",\"kind\":\"defined\"\\},"
                                    + "\"timestamp\":\\{\"seconds\":[0-9]+,\"microseconds\":[0-9]+\\}\\}\n",
                            result.out()),
                    result.out());
        } finally {
            waiter.shutdownNow();
        }
    }

    @Test
    void eventListNamesTheTypes() {
        assertEquals(
                "lifecycle\nblock-job\nblock-job-2\n\n", ok("event", "--list").out());
    }
}
