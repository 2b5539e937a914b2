package io.siphon.cli.demo;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.Connection;
import io.siphon.api.DiskInfo;
import io.siphon.api.Siphon;
import io.siphon.cli.CliException;
import io.siphon.cli.view.JobProgress;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.nbd.client.NbdClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The story {@code siphon demo} tells in a work directory: a template with content, a thin qcow2
 * clone of it with copy-on-read as a domain's disk, used over NBD by Siphon's own client, pulled with
 * a progress bar, and afterwards standing alone. Each step runs a real siphon command line, shown as a
 * user would type it. Not thread-safe.
 */
public final class PullDemo {
    private static final long MIB = 1 << 20;
    private static final long DISK_BYTES = 64 * MIB;
    /** Fixed so that every run shows the same map. */
    private static final long CONTENT_SEED = 20261125;
    /** Slow enough that the bar is seen, fast enough that the demo takes seconds. */
    private static final String PULL_MIB_PER_SECOND = "16";

    /** Where the template holds data, as {offset, length} in bytes. */
    private static final long[][] DATA_RANGES = {{1 * MIB, 32 * MIB}, {40 * MIB, 8 * MIB}};

    private static final long WRITE_OFFSET = 2 * MIB;
    private static final int WRITE_BYTES = 64 * 1024;
    private static final byte WRITE_FILL = 0x5a;

    private static final String LABEL = "Siphon demo template\n";
    private static final String DOMAIN = "demo";

    private final DemoShell shell;
    private final Path work;
    private final String uri;

    PullDemo(PrintWriter out, PrintWriter err, Path work) {
        this.shell = new DemoShell(out, err);
        this.work = work;
        this.uri =
                "embedded://" + work.toAbsolutePath().resolve("state").toUri().getRawPath();
    }

    void run() throws IOException, CliException, InterruptedException {
        Path template = work.resolve("template.qcow2");
        Path disk = work.resolve("disk.qcow2");
        shell.say("Working in " + work);
        shell.say("");
        shell.say("1. A template image: a 64 MiB qcow2 disk with content: a text label at 0,");
        shell.say("   32 MiB of data at 1 MiB and 8 MiB at 40 MiB.");
        shell.siphon(0, "image", "create", "-f", "qcow2", template.toString(), "64M");
        byte[] expected = templateContent();
        writeTemplateContent(template, expected);
        Arrays.fill(expected, (int) WRITE_OFFSET, (int) WRITE_OFFSET + WRITE_BYTES, WRITE_FILL);
        shell.say("");
        shell.say("2. A thin clone: a qcow2 image that holds nothing yet and reads through to the template.");
        shell.siphon(0, "image", "create", "-f", "qcow2", "-b", "template.qcow2", "-F", "qcow2", disk.toString());
        shell.siphon(0, "image", "info", "--backing-chain", disk.toString());
        shell.say("   Where the clone's data lives (depth 0 is the clone, 1 the template):");
        shell.siphon(0, "image", "map", disk.toString());
        shell.say("");
        shell.say("3. A domain whose disk vda is the clone, with copy-on-read, run by the engine embedded in");
        shell.say("   this process (" + uri + "): nothing to install or start first.");
        Path xml = work.resolve("demo.xml");
        Files.writeString(xml, domainXml(DOMAIN, disk), StandardCharsets.UTF_8);
        // this connection keeps the embedded engine, and so the running domain, alive between commands
        try (Connection connection = Siphon.connect(uri)) {
            BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
            connection.addBlockJobListener(events::add);
            shell.siphon(0, "-c", uri, "define", xml.toString());
            shell.siphon(0, "-c", uri, "start", DOMAIN);
            shell.siphon(0, "-c", uri, "domblklist", DOMAIN);
            String nbdUri = nbdUriOf(connection);
            shell.say("4. The disk in use over NBD, with Siphon's NBD client (io.siphon.nbd.client):");
            useOverNbd(nbdUri);
            shell.say("");
            shell.say("5. Pull the template's data into the disk while it is exported, at " + PULL_MIB_PER_SECOND
                    + " MiB/s:");
            shell.siphon(
                    0,
                    "-c",
                    uri,
                    "blockpull",
                    DOMAIN,
                    "vda",
                    "--bandwidth",
                    PULL_MIB_PER_SECOND,
                    "--wait",
                    "--verbose");
            BlockJobEvent event = events.poll(30, TimeUnit.SECONDS);
            if (event == null) {
                throw new CliException("demo: no block job event arrived within 30 s of the pull's end");
            }
            shell.say("   The event the connection received:");
            shell.say("   event 'block-job' for domain '" + event.domain() + "': " + JobProgress.label(event.type())
                    + " for " + event.disk() + " " + event.status().name().toLowerCase(Locale.ROOT));
            if (event.status() != BlockJobStatus.COMPLETED) {
                throw new CliException("demo: the pull ended " + event.status()
                        + event.error().map(e -> ": " + e).orElse(""));
            }
            shell.say("");
            shell.say("6. The disk reads as before over NBD: the template's content with the 64 KiB written.");
            byte[] after = digestOverNbd(nbdUri);
            byte[] want = DemoShell.sha256().digest(expected);
            shell.say("   SHA-256 of the expected content   " + HexFormat.of().formatHex(want));
            shell.say("   SHA-256 of the disk read over NBD " + HexFormat.of().formatHex(after));
            if (!Arrays.equals(want, after)) {
                throw new CliException("demo: the disk reads differently after the pull");
            }
            shell.say("   identical.");
            shell.say("");
            shell.siphon(0, "-c", uri, "shutdown", DOMAIN);
        }
        shell.say("7. The disk stands alone: no backing file, every cluster in the disk itself.");
        shell.siphon(0, "image", "info", "--backing-chain", disk.toString());
        shell.siphon(0, "image", "map", disk.toString());
        shell.siphon(0, "image", "map", "--output=json", disk.toString());
        shell.say("   It differs from the template only where it was written over NBD (exit status 1):");
        shell.siphon(1, "image", "compare", template.toString(), disk.toString());
        shell.siphon(0, "image", "check", disk.toString());
    }

    /** The template's content: the label at 0 and seeded random data at 1 MiB (32 MiB) and 40 MiB (8 MiB). */
    private static byte[] templateContent() {
        byte[] content = new byte[(int) DISK_BYTES];
        byte[] label = LABEL.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(label, 0, content, 0, label.length);
        Random random = new Random(CONTENT_SEED);
        for (long[] range : DATA_RANGES) {
            byte[] data = new byte[(int) range[1]];
            random.nextBytes(data);
            System.arraycopy(data, 0, content, (int) range[0], data.length);
        }
        return content;
    }

    private static void writeTemplateContent(Path template, byte[] content) throws IOException {
        try (ImageChain chain = ImageChain.open(template, Optional.of("qcow2"), OpenOptions.READ_WRITE)) {
            Image image = chain.top();
            image.write(0, ByteBuffer.wrap(content, 0, LABEL.length()));
            for (long[] range : DATA_RANGES) {
                image.write(range[0], ByteBuffer.wrap(content, (int) range[0], (int) range[1]));
            }
            image.flush();
        }
    }

    /**
     * A libvirt domain XML for {@code name} with one qcow2 disk vda with copy-on-read; its UUID comes
     * from the name, so that defining it again redefines it.
     */
    public static String domainXml(String name, Path disk) {
        return """
                <domain type='kvm'>
                  <name>%s</name>
                  <uuid>%s</uuid>
                  <memory unit='MiB'>512</memory>
                  <devices>
                    <disk type='file' device='disk'>
                      <driver name='qemu' type='qcow2' copy_on_read='on'/>
                      <source file='%s'/>
                      <target dev='vda' bus='virtio'/>
                    </disk>
                  </devices>
                </domain>
                """.formatted(
                        name, UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)), disk.toAbsolutePath());
    }

    private String nbdUriOf(Connection connection) throws CliException {
        for (DiskInfo disk : connection.lookup(DOMAIN).disks()) {
            if (disk.target().equals("vda") && disk.nbdUri().isPresent()) {
                return disk.nbdUri().get();
            }
        }
        throw new CliException("demo: disk vda of the running domain has no NBD export");
    }

    /** Reads and writes the disk over NBD as a guest would. */
    private void useOverNbd(String nbdUri) throws IOException, CliException {
        try (NbdClient client = NbdClient.connect(nbdUri)) {
            shell.say("   $ connect " + nbdUri + "  (" + client.sizeBytes() / MIB + " MiB)");
            ByteBuffer label = ByteBuffer.allocate(LABEL.length());
            client.read(0, label);
            shell.say("   read 0+" + LABEL.length() + ": \""
                    + new String(label.array(), StandardCharsets.US_ASCII).strip()
                    + "\"  (from the template; copy-on-read copies it into the clone)");
            ByteBuffer written = ByteBuffer.allocate(WRITE_BYTES);
            while (written.hasRemaining()) {
                written.put(WRITE_FILL);
            }
            client.write(WRITE_OFFSET, written.flip(), false);
            client.flush();
            shell.say("   wrote 64 KiB of 0x5a at 2 MiB  (into the clone only)");
            ByteBuffer back = ByteBuffer.allocate(WRITE_BYTES);
            client.read(WRITE_OFFSET, back);
            if (!back.flip().equals(written.rewind())) {
                throw new CliException("demo: reading back the write over NBD gave different bytes");
            }
            shell.say("   read it back: identical");
        }
    }

    private static byte[] digestOverNbd(String nbdUri) throws IOException {
        MessageDigest sha256 = DemoShell.sha256();
        try (NbdClient client = NbdClient.connect(nbdUri)) {
            ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(4 * MIB, client.maxBlockBytes()));
            for (long offset = 0; offset < client.sizeBytes(); offset += chunk.capacity()) {
                chunk.clear().limit((int) Math.min(chunk.capacity(), client.sizeBytes() - offset));
                client.read(offset, chunk);
                sha256.update(chunk.flip());
            }
        }
        return sha256.digest();
    }
}
