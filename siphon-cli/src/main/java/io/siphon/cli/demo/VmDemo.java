package io.siphon.cli.demo;

import io.siphon.api.BlockJobInfo;
import io.siphon.api.Connection;
import io.siphon.api.DiskInfo;
import io.siphon.api.Domain;
import io.siphon.api.LifecycleEvent;
import io.siphon.api.Siphon;
import io.siphon.cli.CliException;
import io.siphon.cli.view.JobProgress;
import io.siphon.nbd.client.NbdClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code siphon demo --vm}: a real VM boots at once from a thin clone of a template and reads its
 * whole disk in a loop while the clone is pulled; its console lines are shown beside the pull's
 * progress. The guest is built from Debian packages by {@code scripts/make-guest}. Not thread-safe.
 */
final class VmDemo {
    private static final long MIB = 1 << 20;
    private static final int DISK_BYTES = (int) (64 * MIB);
    private static final long CONTENT_SEED = 20261201;
    private static final String PULL_MIB_PER_SECOND = "4";
    private static final String DOMAIN = "demo-vm";
    private static final Duration BOOT = Duration.ofSeconds(180);
    private static final Pattern READ = Pattern.compile("guest: read \\d+: .* sha256 ([0-9a-f]{16})");

    /** The guest's script: read the whole disk (O_DIRECT) until its second disk holds "ssss". */
    private static final String SCRIPT = """
            dev=$1
            n=0
            while [ "$(dd if=/dev/vdb bs=512 count=1 iflag=direct 2>/dev/null | head -c 4)" != "ssss" ]; do
                n=$((n + 1))
                t0=$(cut -d' ' -f1 /proc/uptime)
                sum=$(dd if=$dev bs=1M iflag=direct 2>/dev/null | sha256sum | cut -c1-16)
                t1=$(cut -d' ' -f1 /proc/uptime)
                secs=$(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}')
                echo "guest: read $n: $(($(blockdev --getsize64 $dev) >> 20)) MiB in $secs s, sha256 $sum"
            done
            echo "guest: stop mark seen; powering off"
            """;

    private final DemoShell shell;
    private final Path work;
    private final String uri;
    private final Path console;
    private final List<String> sums = new ArrayList<>();
    private int shownLines;
    private boolean booted;

    VmDemo(PrintWriter out, PrintWriter err, Path work) {
        this.shell = new DemoShell(out, err);
        this.work = work.toAbsolutePath();
        this.uri = "embedded://" + this.work.resolve("state").toUri().getRawPath();
        this.console = this.work.resolve("console.log");
    }

    void run() throws IOException, CliException, InterruptedException {
        shell.say("Working in " + work);
        shell.say("");
        shell.say("1. A test guest from Debian packages: the cloud kernel and busybox; its init reads /dev/vda");
        shell.say("   in a loop, printing each read's time and checksum on its serial console.");
        Path guest = work.resolve("guest");
        Path script = Files.writeString(work.resolve("guest.sh"), SCRIPT);
        Path makeGuest = makeGuest();
        shell.say("   $ " + makeGuest + " " + guest + " " + script);
        run(List.of(makeGuest.toString(), guest.toString(), script.toString()));
        shell.say("");
        shell.say("2. A template with 64 MiB of data, and a thin qcow2 clone of it that holds nothing yet.");
        byte[] content = new byte[DISK_BYTES];
        new Random(CONTENT_SEED).nextBytes(content);
        Path template = Files.write(work.resolve("template.raw"), content);
        Path disk = work.resolve("disk.qcow2");
        shell.siphon(0, "image", "create", "-f", "qcow2", "-b", "template.raw", "-F", "raw", disk.toString());
        Path control = Files.write(work.resolve("control.raw"), new byte[(int) MIB]);
        String expected =
                HexFormat.of().formatHex(DemoShell.sha256().digest(content)).substring(0, 16);
        shell.say("   SHA-256 of the template starts " + expected);
        shell.say("");
        shell.say("3. A domain that describes a machine: 256 MiB, direct kernel boot, its serial port to");
        shell.say("   console.log, vda the clone (vdb a small disk to tell the guest to stop).");
        Path xml = Files.writeString(work.resolve(DOMAIN + ".xml"), domainXml(guest, disk, control, console));
        try (Connection connection = Siphon.connect(uri)) {
            BlockingQueue<LifecycleEvent> lifecycle = new LinkedBlockingQueue<>();
            connection.addLifecycleListener(lifecycle::add);
            shell.siphon(0, "-c", uri, "define", xml.toString());
            long startNanos = System.nanoTime();
            shell.siphon(0, "-c", uri, "start", DOMAIN);
            shell.say("");
            shell.say("4. The guest boots from the clone at once (what it reads comes from the template):");
            awaitBoot(startNanos);
            shell.say("");
            shell.say("5. Pull the template's data into the clone at " + PULL_MIB_PER_SECOND
                    + " MiB/s while the guest reads it:");
            shell.siphon(0, "-c", uri, "blockpull", DOMAIN, "vda", "--bandwidth", PULL_MIB_PER_SECOND);
            Domain domain = connection.lookup(DOMAIN);
            watch(domain, startNanos);
            shell.say("");
            shell.say("6. The pull completed. A stop mark on vdb (written over its NBD export) ends the guest's loop;");
            shell.say("   it powers off and the domain is shut off.");
            writeStopMark(domain);
            awaitShutOff(lifecycle, startNanos);
            for (String sum : sums) {
                if (!sum.equals(expected)) {
                    throw new CliException(
                            "demo: the guest read a checksum " + sum + ", not the template's " + expected);
                }
            }
            shell.say(
                    "   Every read the guest made (" + sums.size() + ") had the template's checksum " + expected + ".");
        }
        shell.say("");
        shell.say("7. The disk stands alone: no backing file; the template is not needed any more.");
        shell.siphon(0, "image", "info", disk.toString());
        shell.siphon(0, "image", "check", disk.toString());
        Files.delete(template);
        shell.say("   (template.raw deleted)");
    }

    /** Shows the guest's console until its first line. */
    private void awaitBoot(long startNanos) throws IOException, InterruptedException, CliException {
        long deadline = System.nanoTime() + BOOT.toNanos();
        while (!booted) {
            if (System.nanoTime() > deadline) {
                throw new CliException("demo: the guest printed nothing within " + BOOT.toSeconds() + " s:\n"
                        + String.join("\n", consoleLines(console)));
            }
            Thread.sleep(100); // the console is a file QEMU appends to
            showConsole("", startNanos);
        }
    }

    /** Shows new console lines beside the pull's progress until the pull ends. */
    private void watch(Domain domain, long startNanos) throws IOException, InterruptedException, CliException {
        long deadline = System.nanoTime() + BOOT.toNanos() * 2;
        Optional<BlockJobInfo> last = Optional.empty();
        while (true) {
            Optional<BlockJobInfo> info = domain.blockJobInfo("vda");
            if (info.isEmpty() && last.isPresent()) {
                showConsole("pull done", startNanos);
                return;
            }
            last = info.isPresent() ? info : last;
            showConsole(last.map(VmDemo::progress).orElse("pull starting"), startNanos);
            if (System.nanoTime() > deadline) {
                throw new CliException("demo: the pull did not end within " + BOOT.toSeconds() * 2 + " s");
            }
            Thread.sleep(250); // a display refresh: the console is a file QEMU appends to
        }
    }

    private static String progress(BlockJobInfo info) {
        return String.format(
                Locale.ROOT,
                "pull %3.0f%% %2d/%d MiB",
                JobProgress.percent(info.curBytes(), info.endBytes()),
                info.curBytes() / MIB,
                info.endBytes() / MIB);
    }

    /** Prints the guest's console lines not shown yet, each beside {@code progress}, noting their checksums. */
    private void showConsole(String progress, long startNanos) throws IOException {
        List<String> lines = consoleLines(console);
        for (; shownLines < lines.size(); shownLines++) {
            String line = lines.get(shownLines);
            int guest = line.indexOf("guest:");
            if (guest < 0) {
                continue; // the kernel's own lines
            }
            line = line.substring(guest); // after the firmware's terminal codes, on the first line
            if (!booted) {
                shell.say(String.format(
                        Locale.ROOT,
                        "   (first console line %.1f s after start)",
                        (System.nanoTime() - startNanos) / 1e9));
                booted = true;
            }
            Matcher m = READ.matcher(line);
            if (m.find()) {
                sums.add(m.group(1));
            }
            shell.say(String.format(Locale.ROOT, "   %-22s | %s", progress, line));
        }
    }

    private void writeStopMark(Domain domain) throws IOException, CliException {
        String vdb = domain.disks().stream()
                .filter(d -> d.target().equals("vdb"))
                .map(DiskInfo::nbdUri)
                .flatMap(Optional::stream)
                .findFirst()
                .orElseThrow(() -> new CliException("demo: vdb has no NBD export"));
        byte[] mark = new byte[512];
        Arrays.fill(mark, (byte) 's');
        try (NbdClient client = NbdClient.connect(vdb)) {
            client.write(0, ByteBuffer.wrap(mark), false);
            client.flush();
        }
    }

    private void awaitShutOff(BlockingQueue<LifecycleEvent> lifecycle, long startNanos)
            throws InterruptedException, CliException, IOException {
        long deadline = System.nanoTime() + BOOT.toNanos();
        while (System.nanoTime() < deadline) {
            LifecycleEvent event = lifecycle.poll(250, TimeUnit.MILLISECONDS);
            showConsole("pull done", startNanos);
            if (event != null
                    && event.domain().equals(DOMAIN)
                    && event.kind() != LifecycleEvent.Kind.STARTED
                    && event.kind() != LifecycleEvent.Kind.DEFINED) {
                shell.say("   event 'lifecycle' for domain '" + DOMAIN + "': "
                        + event.kind().name().toLowerCase(Locale.ROOT));
                if (event.kind() != LifecycleEvent.Kind.SHUTDOWN) {
                    throw new CliException(
                            "demo: the guest ended " + event.kind() + ":\n" + String.join("\n", consoleLines(console)));
                }
                return;
            }
        }
        throw new CliException("demo: the guest did not power off within " + BOOT.toSeconds() + " s");
    }

    private static String domainXml(Path guest, Path disk, Path control, Path console) {
        return """
                <domain type='kvm'>
                  <name>%s</name>
                  <memory unit='MiB'>256</memory>
                  <vcpu>1</vcpu>
                  <os>
                    <type arch='x86_64'>hvm</type>
                    <kernel>%s</kernel>
                    <initrd>%s</initrd>
                    <cmdline>console=ttyS0 panic=-1 quiet</cmdline>
                  </os>
                  <devices>
                    <disk type='file' device='disk'>
                      <driver name='qemu' type='qcow2'/>
                      <source file='%s'/>
                      <target dev='vda' bus='virtio'/>
                    </disk>
                    <disk type='file' device='disk'>
                      <driver name='qemu' type='raw'/>
                      <source file='%s'/>
                      <target dev='vdb' bus='virtio'/>
                    </disk>
                    <serial type='file'><source path='%s'/></serial>
                  </devices>
                </domain>
                """.formatted(DOMAIN, guest.resolve("vmlinuz"), guest.resolve("initrd.img"), disk, control, console);
    }

    /** scripts/make-guest of the Siphon installation ({@code siphon.home}, set by the launcher) or of a tree above. */
    private static Path makeGuest() throws CliException {
        List<Path> roots = new ArrayList<>();
        Optional.ofNullable(System.getProperty("siphon.home")).map(Path::of).ifPresent(roots::add);
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            roots.add(dir);
        }
        for (Path root : roots) {
            Path script = root.resolve("scripts/make-guest");
            if (Files.isExecutable(script)) {
                return script;
            }
        }
        throw new CliException("demo --vm: scripts/make-guest not found (run ./siphon from Siphon's source tree)");
    }

    private void run(List<String> command) throws IOException, InterruptedException, CliException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new CliException("demo: " + String.join(" ", command) + " failed:\n" + output.strip());
        }
    }

    private static List<String> consoleLines(Path console) throws IOException {
        if (!Files.exists(console)) {
            return List.of();
        }
        return new String(Files.readAllBytes(console), StandardCharsets.UTF_8)
                .lines()
                .toList();
    }
}
