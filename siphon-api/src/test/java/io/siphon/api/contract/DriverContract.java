package io.siphon.api.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.AbortFlag;
import io.siphon.api.BlockInfo;
import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobProgress;
import io.siphon.api.BlockJobState;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.BlockJobType;
import io.siphon.api.BlockStats;
import io.siphon.api.Connection;
import io.siphon.api.DiskInfo;
import io.siphon.api.Domain;
import io.siphon.api.DomainInfo;
import io.siphon.api.DomainState;
import io.siphon.api.ErrorCode;
import io.siphon.api.LifecycleEvent;
import io.siphon.api.ListenerHandle;
import io.siphon.api.PullFlag;
import io.siphon.api.RebaseFlag;
import io.siphon.api.SiphonException;
import io.siphon.api.SpeedFlag;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The behaviour every driver shows through the public API; a driver's test extends this and says
 * how to connect. Each test uses its own domain names, so implementations may share one daemon.
 */
public abstract class DriverContract {
    private static final AtomicInteger NAMES = new AtomicInteger();
    private static final long MIB = 1024 * 1024;

    @TempDir
    protected Path images;

    protected Connection connection;

    /** A read-write connection to the driver under test. */
    protected abstract Connection connect();

    /** A read-only connection to the same driver and state. */
    protected abstract Connection connectReadOnly();

    /**
     * Whether the driver has single-increment pulls ({@code blockPullStep}); one that has not must
     * refuse the call with {@link ErrorCode#NO_SUPPORT}, never emulate it.
     */
    protected boolean supportsPullStep() {
        return true;
    }

    /**
     * Whether the driver takes a pull's outage policy ({@link PullFlag#FAIL_ON_OUTAGE}); one that has
     * none must refuse {@code fail} with {@link ErrorCode#NO_SUPPORT} and start no job.
     */
    protected boolean supportsOutagePolicy() {
        return true;
    }

    @BeforeEach
    void open() {
        connection = connect();
    }

    @AfterEach
    void closeConnection() {
        connection.close();
    }

    /** A fresh domain name, unique across the tests of a run. */
    protected static String uniqueName(String prefix) {
        return prefix + "-" + ProcessHandle.current().pid() + "-" + NAMES.incrementAndGet();
    }

    /** A raw image of {@code sizeBytes} filled with {@code fill}. */
    protected Path rawImage(String fileName, int sizeBytes, byte fill) throws IOException {
        byte[] data = new byte[sizeBytes];
        java.util.Arrays.fill(data, fill);
        return Files.write(images.resolve(fileName), data);
    }

    /**
     * A libvirt domain XML with the elements Siphon ignores, and one raw disk per source; its
     * {@code <os>} has no {@code <boot>} or {@code <kernel>}, so it describes no machine and starts
     * disks only.
     */
    protected static String domainXml(String name, UUID uuid, boolean readOnly, Path... sources) {
        StringBuilder disks = new StringBuilder();
        char letter = 'a';
        for (Path source : sources) {
            disks.append("    <disk type='file' device='disk'>\n")
                    .append("      <driver name='qemu' type='raw' cache='none'/>\n")
                    .append("      <source file='")
                    .append(source)
                    .append("'/>\n")
                    .append("      <target dev='vd")
                    .append(letter++)
                    .append("' bus='virtio'/>\n")
                    .append(readOnly ? "      <readonly/>\n" : "")
                    .append("      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>\n")
                    .append("    </disk>\n");
        }
        return "<domain type='kvm'>\n  <name>" + name + "</name>\n  <uuid>" + uuid + "</uuid>\n"
                + "  <memory unit='KiB'>1048576</memory>\n  <vcpu placement='static'>2</vcpu>\n"
                + "  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>\n"
                + "  <features><acpi/><apic/></features>\n  <devices>\n"
                + "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n" + disks
                + "    <interface type='network'><source network='default'/><model type='virtio'/></interface>\n"
                + "    <cdrom-like-unknown-element/>\n"
                + "  </devices>\n</domain>\n";
    }

    protected Domain defineRaw(String name) throws IOException {
        Path disk = rawImage(name + ".img", 1 << 20, (byte) 7);
        return connection.define(domainXml(name, UUID.randomUUID(), false, disk));
    }

    protected static void assertCode(ErrorCode expected, Executable call) {
        SiphonException e = assertThrows(SiphonException.class, call);
        assertEquals(expected, e.code(), () -> "wrong code for: " + e.getMessage());
    }

    /** The next event for {@code domain}, skipping other domains' events. */
    protected static <E> E next(BlockingQueue<E> events, String domain, java.util.function.Function<E, String> domainOf)
            throws InterruptedException {
        while (true) {
            E event = events.poll(30, TimeUnit.SECONDS);
            if (event == null) {
                throw new AssertionError("no event for " + domain + " within 30 s");
            }
            if (domainOf.apply(event).equals(domain)) {
                return event;
            }
        }
    }

    @Test
    void definesARealLibvirtXmlIgnoringUnknownElements() throws IOException {
        String name = uniqueName("define");
        UUID uuid = UUID.randomUUID();
        Path a = rawImage(name + "-a.img", 1 << 20, (byte) 1);
        Path b = rawImage(name + "-b.img", 1 << 20, (byte) 2);
        Domain domain = connection.define(domainXml(name, uuid, false, a, b));

        assertEquals(name, domain.name());
        assertEquals(new DomainInfo(name, uuid, DomainState.SHUTOFF, 2), domain.info());
        assertTrue(connection.list().contains(domain.info()));
        assertEquals(name, connection.lookup(uuid.toString()).name());
        List<DiskInfo> disks = domain.disks();
        assertEquals(List.of("vda", "vdb"), disks.stream().map(DiskInfo::target).toList());
        assertEquals(a.toString(), disks.get(0).source());
        assertEquals("raw", disks.get(0).format());
        assertEquals(Optional.empty(), disks.get(0).nbdUri());
        connection.undefine(name);
        assertCode(ErrorCode.NO_DOMAIN, () -> connection.lookup(name));
    }

    /**
     * A domain as {@code virt-install --print-xml} makes one (metadata, features, cpu, clock, a
     * cdrom, an interface, graphics, a channel, an rng), which Siphon ignores but keeps.
     */
    protected static String virtInstallXml(String name, UUID uuid, Path disk) {
        return "<domain type=\"kvm\">\n  <name>" + name + "</name>\n  <uuid>" + uuid + "</uuid>\n"
                + "  <metadata>\n    <libosinfo:libosinfo xmlns:libosinfo=\"http://libosinfo.org/xmlns/libvirt/domain/1.0\">\n"
                + "      <libosinfo:os id=\"http://debian.org/debian/12\"/>\n    </libosinfo:libosinfo>\n  </metadata>\n"
                + "  <memory>1048576</memory>\n  <currentMemory>1048576</currentMemory>\n  <vcpu>2</vcpu>\n"
                + "  <os>\n    <type arch=\"x86_64\" machine=\"q35\">hvm</type>\n    <boot dev=\"hd\"/>\n  </os>\n"
                + "  <features>\n    <acpi/>\n    <apic/>\n    <vmport state=\"off\"/>\n  </features>\n"
                + "  <cpu mode=\"host-passthrough\"/>\n"
                + "  <clock offset=\"utc\">\n    <timer name=\"rtc\" tickpolicy=\"catchup\"/>\n  </clock>\n"
                + "  <pm>\n    <suspend-to-mem enabled=\"no\"/>\n  </pm>\n"
                + "  <devices>\n    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
                + "    <disk type=\"file\" device=\"disk\">\n      <driver name=\"qemu\" type=\"raw\" discard=\"unmap\"/>\n"
                + "      <source file=\"" + disk + "\"/>\n      <target dev=\"vda\" bus=\"virtio\"/>\n    </disk>\n"
                + "    <disk type=\"file\" device=\"cdrom\">\n      <driver name=\"qemu\" type=\"raw\"/>\n"
                + "      <target dev=\"sda\" bus=\"sata\"/>\n      <readonly/>\n    </disk>\n"
                + "    <controller type=\"usb\" model=\"qemu-xhci\" ports=\"15\"/>\n"
                + "    <interface type=\"network\">\n      <source network=\"default\"/>\n      <mac address=\"52:54:00:12:34:56\"/>\n"
                + "      <model type=\"virtio\"/>\n    </interface>\n"
                + "    <channel type=\"unix\">\n      <source mode=\"bind\"/>\n      <target type=\"virtio\" name=\"org.qemu.guest_agent.0\"/>\n    </channel>\n"
                + "    <graphics type=\"vnc\" port=\"-1\"/>\n    <video>\n      <model type=\"virtio\"/>\n    </video>\n"
                + "    <memballoon model=\"virtio\"/>\n"
                + "    <rng model=\"virtio\">\n      <backend model=\"random\">/dev/urandom</backend>\n    </rng>\n"
                + "  </devices>\n</domain>\n";
    }

    @Test
    void xmlDescIsTheDefinitionWithWhatSiphonIgnoresKept() throws IOException {
        String name = uniqueName("dumpxml");
        String xml = virtInstallXml(name, UUID.randomUUID(), rawImage(name + ".img", 1 << 20, (byte) 3));
        Domain domain = connection.define(xml);
        assertEquals(xml, domain.xmlDesc());
        try (Connection other = connectReadOnly()) {
            assertEquals(xml, other.lookup(name).xmlDesc());
        }
        // without a uuid the XML comes back as written with the one Siphon generated on a line of its own
        UUID given = connection.lookup(name).info().uuid();
        String noUuid = xml.replace("  <uuid>" + given + "</uuid>\n", "");
        connection.undefine(name);
        String dumped = connection.define(noUuid).xmlDesc();
        UUID generated = connection.lookup(name).info().uuid();
        assertEquals(xml.replace(given.toString(), generated.toString()), dumped);
        connection.undefine(name);
        assertCode(ErrorCode.NO_DOMAIN, () -> connection.lookup(name).xmlDesc());
    }

    /** {@code stat}'s allocated bytes of {@code file}: its blocks times the block size. */
    private static long allocatedBytes(Path file) throws IOException, InterruptedException {
        String[] fields =
                QemuTools.ok("stat", "-c", "%b %B", file.toString()).strip().split(" ");
        return Long.parseLong(fields[0]) * Long.parseLong(fields[1]);
    }

    @Test
    void blockInfoGivesCapacityAllocationAndPhysicalRunningOrNot() throws Exception {
        String name = uniqueName("blkinfo");
        Path top = top(name);
        QemuTools.createQcow2(top, "16M");
        QemuTools.write(top, "qcow2", 0x44, 0, MIB);
        Domain domain = connection.define("<domain><name>" + name + "</name><devices><disk><driver type='qcow2'/>"
                + "<source file='" + top + "'/><target dev='vda'/></disk></devices></domain>");
        BlockInfo expected = new BlockInfo(16 * MIB, allocatedBytes(top), Files.size(top));
        assertEquals(expected, domain.blockInfo("vda"));
        assertEquals(expected, domain.blockInfo(top.toString()));
        assertCode(ErrorCode.NO_DISK, () -> domain.blockInfo("vdz"));
        domain.start();
        try {
            assertEquals(expected.capacityBytes(), domain.blockInfo("vda").capacityBytes());
            assertEquals(Files.size(top), domain.blockInfo("vda").physicalBytes());
            assertEquals(allocatedBytes(top), domain.blockInfo("vda").allocationBytes());
        } finally {
            domain.shutdown();
        }
        connection.undefine(name);
    }

    /**
     * Whether the driver counts a disks-only domain's I/O on its NBD exports; one that cannot must
     * refuse {@code blockStats} with {@link ErrorCode#NO_SUPPORT}, never report zeroes.
     */
    protected boolean countsExportRequests() {
        return true;
    }

    @Test
    void blockStatsCountTheRequestsOnTheDisksExport() throws Exception {
        String name = uniqueName("blkstat");
        Path a = rawImage(name + "-a.img", 1 << 20, (byte) 1);
        Path b = rawImage(name + "-b.img", 1 << 20, (byte) 2);
        Domain domain = connection.define(domainXml(name, UUID.randomUUID(), false, a, b));
        assertCode(ErrorCode.OPERATION_INVALID, () -> domain.blockStats("vda"));
        domain.start();
        try {
            if (!countsExportRequests()) {
                assertCode(ErrorCode.NO_SUPPORT, () -> domain.blockStats("vda"));
                return;
            }
            assertCode(ErrorCode.NO_DISK, () -> domain.blockStats("vdz"));
            String uri = domain.disks().getFirst().nbdUri().orElseThrow();
            QemuTools.ok(
                    "qemu-io",
                    "-f",
                    "raw",
                    "-c",
                    "write -P 9 0 64k",
                    "-c",
                    "write -P 9 64k 64k",
                    "-c",
                    "read 0 128k",
                    "-c",
                    "flush",
                    uri);
            BlockStats vda = domain.blockStats("vda");
            assertEquals(1, vda.readRequests(), vda::toString);
            assertEquals(128 * 1024, vda.readBytes(), vda::toString);
            assertEquals(2, vda.writeRequests(), vda::toString);
            assertEquals(128 * 1024, vda.writeBytes(), vda::toString);
            assertTrue(vda.flushRequests() >= 1, vda::toString);
            assertTrue(vda.readTotalNanos() > 0 && vda.writeTotalNanos() > 0, vda::toString);
            assertEquals(BlockStats.ZERO, domain.blockStats("vdb"));
            assertEquals(vda, domain.blockStats(), "the totals over vda and an idle vdb");
        } finally {
            domain.destroy();
            connection.undefine(name);
        }
    }

    @Test
    void autostartIsMarkedListedAndForgottenWithTheDomain() throws Exception {
        String name = uniqueName("autostart");
        Domain domain = defineRaw(name);
        assertFalse(domain.autostart());
        domain.setAutostart(true);
        assertTrue(domain.autostart());
        assertTrue(connection.list().stream().anyMatch(d -> d.name().equals(name) && d.autostart()));
        try (Connection readOnly = connectReadOnly()) {
            assertTrue(readOnly.lookup(name).autostart());
            assertCode(ErrorCode.READ_ONLY, () -> readOnly.lookup(name).setAutostart(false));
        }
        domain.setAutostart(true); // idempotent, as libvirt's
        domain.setAutostart(false);
        assertFalse(domain.autostart());
        domain.setAutostart(true);
        connection.undefine(name);
        Domain again = defineRaw(name);
        assertFalse(again.autostart(), "a new definition of the name starts unmarked");
        connection.undefine(name);
    }

    @Test
    void lifecycleEventsArriveInOrderAndTheHandleRemovesTheListener() throws Exception {
        String name = uniqueName("life");
        BlockingQueue<LifecycleEvent> events = new LinkedBlockingQueue<>();
        ListenerHandle handle = connection.addLifecycleListener(events::add);
        Domain domain = defineRaw(name);
        domain.start();
        assertEquals(DomainState.RUNNING, domain.info().state());
        domain.shutdown();
        domain.start();
        domain.destroy();
        connection.undefine(name);
        for (LifecycleEvent.Kind kind : List.of(
                LifecycleEvent.Kind.DEFINED,
                LifecycleEvent.Kind.STARTED,
                LifecycleEvent.Kind.SHUTDOWN,
                LifecycleEvent.Kind.STARTED,
                LifecycleEvent.Kind.DESTROYED,
                LifecycleEvent.Kind.UNDEFINED)) {
            assertEquals(new LifecycleEvent(name, kind), next(events, name, LifecycleEvent::domain));
        }
        handle.close();
        String other = uniqueName("life-after");
        defineRaw(other);
        // a marker listener added after the close proves delivery went on while the closed one stayed silent
        BlockingQueue<LifecycleEvent> marker = new LinkedBlockingQueue<>();
        try (ListenerHandle markerHandle = connection.addLifecycleListener(marker::add)) {
            connection.undefine(other);
            next(marker, other, LifecycleEvent::domain);
        }
        assertTrue(events.stream().noneMatch(e -> e.domain().equals(other)), () -> "closed listener got " + events);
    }

    @Test
    void stateErrorsNameTheProblemAndChangeNothing() throws IOException {
        String name = uniqueName("state");
        Domain domain = defineRaw(name);
        assertCode(ErrorCode.OPERATION_INVALID, domain::shutdown);
        assertCode(ErrorCode.OPERATION_INVALID, domain::destroy);
        domain.start();
        assertCode(ErrorCode.OPERATION_INVALID, domain::start);
        assertCode(ErrorCode.OPERATION_INVALID, () -> connection.undefine(name));
        Path other = rawImage(name + "-other.img", 4096, (byte) 0);
        UUID uuid = domain.info().uuid();
        assertCode(ErrorCode.OPERATION_INVALID, () -> connection.define(domainXml(name, uuid, false, other)));
        assertEquals(1, domain.disks().size());
        assertEquals(DomainState.RUNNING, domain.info().state());
        domain.shutdown();
        connection.undefine(name);
    }

    @Test
    void aNameOrUuidTakenByAnotherDomainIsRefused() throws IOException {
        String name = uniqueName("dup");
        Path disk = rawImage(name + ".img", 1 << 20, (byte) 0);
        UUID uuid = UUID.randomUUID();
        connection.define(domainXml(name, uuid, false, disk));
        assertCode(ErrorCode.DOMAIN_EXISTS, () -> connection.define(domainXml(name, UUID.randomUUID(), false, disk)));
        assertCode(ErrorCode.DOMAIN_EXISTS, () -> connection.define(domainXml(name + "x", uuid, false, disk)));
        // the same name and uuid redefine
        connection.define(domainXml(name, uuid, false, disk, disk.resolveSibling(name + ".img")));
        assertEquals(2, connection.lookup(name).info().diskCount());
        connection.undefine(name);
    }

    @Test
    void unknownDomainDiskAndJobAreTypedErrors() throws IOException {
        assertCode(ErrorCode.NO_DOMAIN, () -> connection.lookup("no-such-domain"));
        assertCode(ErrorCode.NO_DOMAIN, () -> connection.undefine("no-such-domain"));
        String name = uniqueName("errors");
        Domain domain = defineRaw(name);
        domain.start();
        try {
            assertCode(ErrorCode.NO_DISK, () -> domain.blockJobInfo("vdz"));
            assertCode(ErrorCode.NO_DISK, () -> domain.blockPull("/no/such/source.img", 0, Set.of()));
            assertEquals(Optional.empty(), domain.blockJobInfo("vda"));
            String source = domain.disks().getFirst().source();
            assertEquals(Optional.empty(), domain.blockJobInfo(source));
            assertCode(ErrorCode.NO_JOB, () -> domain.blockJobAbort("vda", Set.of()));
            assertCode(ErrorCode.NO_JOB, () -> domain.blockJobAbort("vda", Set.of(AbortFlag.ASYNC)));
            assertCode(ErrorCode.NO_JOB, () -> domain.blockJobSetSpeed("vda", 1, Set.of()));
            assertCode(ErrorCode.NO_JOB, () -> domain.blockJobPause(source));
            assertCode(ErrorCode.NO_JOB, () -> domain.blockJobResume("vda"));
            assertCode(
                    ErrorCode.INVALID_ARG,
                    () -> domain.blockRebase("vda", Optional.of("/not/in/chain.img"), 0, Set.of()));
            assertCode(ErrorCode.INVALID_ARG, () -> domain.blockPull("vda", -1, Set.of()));
            assertCode(ErrorCode.INVALID_ARG, () -> domain.blockPull("vda", Long.MAX_VALUE / MIB + 1, Set.of()));
            assertCode(
                    ErrorCode.INVALID_ARG,
                    () -> domain.blockRebase("vda", Optional.empty(), 0, Set.of(RebaseFlag.KEEP_RELATIVE)));
            assertEquals(Optional.empty(), domain.blockJobInfo("vda"));
        } finally {
            domain.destroy();
            connection.undefine(name);
        }
    }

    @Test
    void aReadOnlyDiskIsNotPulledInto() throws IOException {
        String name = uniqueName("rodisk");
        Path disk = rawImage(name + ".img", 1 << 20, (byte) 3);
        Domain domain = connection.define(domainXml(name, UUID.randomUUID(), true, disk));
        domain.start();
        try {
            assertTrue(domain.disks().getFirst().readOnly());
            assertCode(ErrorCode.OPERATION_INVALID, () -> domain.blockPull("vda", 0, Set.of()));
            assertCode(ErrorCode.OPERATION_INVALID, () -> domain.blockPullStep("vda"));
        } finally {
            domain.shutdown();
            connection.undefine(name);
        }
    }

    @Test
    void aReadOnlyConnectionQueriesButChangesNothing() throws IOException {
        String name = uniqueName("roconn");
        Domain domain = defineRaw(name);
        domain.start();
        try (Connection readOnly = connectReadOnly()) {
            assertTrue(readOnly.isReadOnly());
            Domain seen = readOnly.lookup(name);
            assertEquals(DomainState.RUNNING, seen.info().state());
            assertEquals(1, seen.disks().size());
            assertEquals(Optional.empty(), seen.blockJobInfo("vda"));
            assertTrue(readOnly.list().stream().anyMatch(d -> d.name().equals(name)));
            Path other = rawImage(name + "-new.img", 4096, (byte) 0);
            assertCode(
                    ErrorCode.READ_ONLY,
                    () -> readOnly.define(domainXml(name + "-new", UUID.randomUUID(), false, other)));
            assertCode(ErrorCode.READ_ONLY, () -> readOnly.undefine(name));
            assertCode(ErrorCode.READ_ONLY, seen::shutdown);
            assertCode(ErrorCode.READ_ONLY, seen::destroy);
            assertCode(ErrorCode.READ_ONLY, seen::start);
            assertCode(ErrorCode.READ_ONLY, () -> seen.blockPull("vda", 0, Set.of()));
            assertCode(ErrorCode.READ_ONLY, () -> seen.blockRebase("vda", Optional.empty(), 0, Set.of()));
            assertCode(ErrorCode.READ_ONLY, () -> seen.blockPullStep("vda"));
            assertCode(ErrorCode.READ_ONLY, () -> seen.blockJobAbort("vda", Set.of()));
            assertCode(ErrorCode.READ_ONLY, () -> seen.blockJobSetSpeed("vda", 1, Set.of(SpeedFlag.BANDWIDTH_BYTES)));
            assertCode(ErrorCode.READ_ONLY, () -> seen.blockJobPause("vda"));
            assertCode(ErrorCode.READ_ONLY, () -> seen.blockJobResume("vda"));
            assertCode(ErrorCode.NO_DOMAIN, () -> readOnly.lookup(name + "-new"));
        }
        assertEquals(DomainState.RUNNING, domain.info().state());
        domain.shutdown();
        connection.undefine(name);
    }

    @Test
    void aDomainWhoseImageIsMissingDoesNotStart() throws IOException {
        String name = uniqueName("missing");
        Path disk = rawImage(name + ".img", 4096, (byte) 0);
        Domain domain = connection.define(domainXml(name, UUID.randomUUID(), false, disk));
        Files.delete(disk);
        SiphonException e = assertThrows(SiphonException.class, domain::start);
        assertEquals(ErrorCode.OPERATION_FAILED, e.code());
        assertTrue(e.getMessage().contains(name), e.getMessage());
        assertEquals(DomainState.SHUTOFF, domain.info().state());
        connection.undefine(name);
    }

    @Test
    void domainXmlWithAnExternalEntityIsRefusedAndDefinesNothing() throws IOException {
        Path secret = Files.writeString(images.resolve("secret.txt"), "top-secret-value");
        String name = uniqueName("xxe");
        String xml = "<?xml version='1.0'?>\n<!DOCTYPE domain [<!ENTITY x SYSTEM 'file://" + secret + "'>]>\n"
                + "<domain type='kvm'><name>" + name + "</name><description>&x;</description></domain>";
        SiphonException e = assertThrows(SiphonException.class, () -> connection.define(xml));
        assertEquals(ErrorCode.INVALID_ARG, e.code());
        assertFalse(e.getMessage().contains("top-secret-value"), e.getMessage());
        assertCode(ErrorCode.NO_DOMAIN, () -> connection.lookup(name));
    }

    @Test
    void aDiskIsNamedByTargetOrBySourcePath() throws IOException {
        String name = uniqueName("naming");
        Domain domain = defineRaw(name);
        domain.start();
        try {
            String source = domain.disks().getFirst().source();
            assertEquals(domain.blockJobInfo("vda"), domain.blockJobInfo(source));
            assertCode(ErrorCode.NO_DISK, () -> domain.blockJobInfo(source + ".other"));
            assertCode(ErrorCode.INVALID_ARG, () -> domain.blockJobInfo(""));
        } finally {
            domain.shutdown();
            connection.undefine(name);
        }
    }

    @Test
    void pullFlagsAreAcceptedOnlyWithValidBandwidth() throws IOException {
        String name = uniqueName("bw");
        Domain domain = defineRaw(name);
        try {
            // a shut-off domain has no running disks: the call is refused before any job starts
            assertCode(ErrorCode.OPERATION_INVALID, () -> domain.blockPull("vda", 5, Set.of(PullFlag.BANDWIDTH_BYTES)));
            assertCode(ErrorCode.INVALID_ARG, () -> domain.blockPull("vda", -5, Set.of(PullFlag.BANDWIDTH_BYTES)));
        } finally {
            connection.undefine(name);
        }
    }

    // ---- block jobs on a qcow2 overlay of a raw template ----

    /** A domain whose vda is a qcow2 overlay over a raw template of {@code mib} MiB, all of it data. */
    protected Domain defineChain(String name, int mib) throws Exception {
        Path base = images.resolve(name + "-base.raw");
        java.nio.file.Files.write(base, new byte[mib << 20]);
        for (int i = 0; i < mib; i++) {
            QemuTools.write(base, "raw", 0x10 + i, (long) i << 20, 1 << 20);
        }
        Path top = images.resolve(name + "-top.qcow2");
        QemuTools.createOverlay(top, base.getFileName().toString(), "raw");
        QemuTools.write(top, "qcow2", 0xEE, 65536, 65536); // the clone's own write stays on top
        QemuTools.flatten(top, images.resolve(name + "-expected.raw"));
        String xml = "<domain><name>" + name + "</name><devices><disk type='file' device='disk'>"
                + "<driver name='qemu' type='qcow2'/><source file='" + top + "'/><target dev='vda'/>"
                + "</disk></devices></domain>";
        return connection.define(xml);
    }

    protected Path top(String name) {
        return images.resolve(name + "-top.qcow2");
    }

    /** A started domain over a fresh chain, with the connection's block job events. */
    protected record RunningChain(String name, Domain domain, BlockingQueue<BlockJobEvent> events) {
        BlockJobEvent nextEvent() throws InterruptedException {
            return next(events, name, BlockJobEvent::domain);
        }
    }

    protected RunningChain startChain(String prefix, int mib) throws Exception {
        String name = uniqueName(prefix);
        BlockingQueue<BlockJobEvent> events = jobEvents();
        Domain domain = defineChain(name, mib);
        domain.start();
        return new RunningChain(name, domain, events);
    }

    /**
     * Shuts the domain down (whatever happened), then checks with qemu-img that the top backs onto
     * {@code expectedBacking} ("" for none) and still reads as the chain read before, and undefines it.
     */
    protected void finish(RunningChain chain, String expectedBacking) throws Exception {
        chain.domain().shutdown();
        assertEquals(expectedBacking, Objects.requireNonNullElse(QemuTools.backingName(top(chain.name())), ""));
        QemuTools.assertSameContent(top(chain.name()), images.resolve(chain.name() + "-expected.raw"));
        connection.undefine(chain.name());
    }

    protected BlockingQueue<BlockJobEvent> jobEvents() {
        BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
        connection.addBlockJobListener(events::add);
        return events;
    }

    @Test
    void aPullCompletesDropsTheBackingAndKeepsTheContent() throws Exception {
        RunningChain chain = startChain("pull", 4);
        Domain domain = chain.domain();
        assertTrue(domain.disks().getFirst().nbdUri().orElseThrow().startsWith("nbd+unix://"));
        domain.blockPull("vda", 0, Set.of());
        assertEquals(
                new BlockJobEvent(chain.name(), "vda", BlockJobType.PULL, BlockJobStatus.COMPLETED, Optional.empty()),
                chain.nextEvent());
        assertEquals(Optional.empty(), domain.blockJobInfo("vda"));
        finish(chain, "");
    }

    @Test
    void aRunningJobReportsSpeedPausesResumesAndASyncAbortWaits() throws Exception {
        RunningChain chain = startChain("control", 16);
        Domain domain = chain.domain();
        domain.blockPull("vda", 1, Set.of()); // 1 MiB/s: 16 s for the whole disk, ample for the checks
        BlockJobInfo info = domain.blockJobInfo("vda").orElseThrow();
        assertEquals(BlockJobType.PULL, info.type());
        assertEquals(MIB, info.bandwidthBytesPerSecond());
        assertEquals(1, info.bandwidthMiBPerSecond());
        assertEquals(16 * MIB, info.endBytes());
        assertCode(ErrorCode.JOB_EXISTS, () -> domain.blockPull("vda", 0, Set.of()));
        assertCode(ErrorCode.JOB_EXISTS, () -> domain.blockPullStep("vda"));
        domain.blockJobSetSpeed("vda", 300_000, Set.of(SpeedFlag.BANDWIDTH_BYTES));
        info = domain.blockJobInfo("vda").orElseThrow();
        assertEquals(300_000, info.bandwidthBytesPerSecond());
        assertEquals(1, info.bandwidthMiBPerSecond()); // rounded up, never reads as unlimited
        domain.blockJobSetSpeed("vda", 1, Set.of());
        assertEquals(MIB, domain.blockJobInfo("vda").orElseThrow().bandwidthBytesPerSecond());
        domain.blockJobPause("vda");
        assertEquals(
                BlockJobState.PAUSED, domain.blockJobInfo("vda").orElseThrow().state());
        assertCode(ErrorCode.OPERATION_INVALID, () -> domain.blockJobPause("vda"));
        domain.blockJobResume("vda");
        assertEquals(
                BlockJobState.RUNNING, domain.blockJobInfo("vda").orElseThrow().state());
        assertCode(ErrorCode.OPERATION_INVALID, () -> domain.blockJobResume("vda"));
        domain.blockJobAbort("vda", Set.of());
        // a synchronous abort returns once the job is gone
        assertEquals(Optional.empty(), domain.blockJobInfo("vda"));
        assertEquals(BlockJobStatus.CANCELED, chain.nextEvent().status());
        assertCode(ErrorCode.NO_JOB, () -> domain.blockJobAbort("vda", Set.of()));
        finish(chain, chain.name() + "-base.raw");
    }

    @Test
    void anAsyncAbortReturnsAtOnceAndTheEventFollows() throws Exception {
        RunningChain chain = startChain("async", 8);
        Domain domain = chain.domain();
        domain.blockPull("vda", 65536, Set.of(PullFlag.BANDWIDTH_BYTES));
        assertEquals(65536, domain.blockJobInfo("vda").orElseThrow().bandwidthBytesPerSecond());
        domain.blockJobAbort("vda", Set.of(AbortFlag.ASYNC));
        BlockJobEvent event = chain.nextEvent();
        assertEquals(BlockJobStatus.CANCELED, event.status());
        assertEquals("vda", event.disk());
        assertEquals(Optional.empty(), domain.blockJobInfo("vda"));
        finish(chain, chain.name() + "-base.raw");
    }

    @Test
    void aPullThatFailsOnAnOutageRunsOrIsRefused() throws Exception {
        RunningChain chain = startChain("outage", 4);
        Domain domain = chain.domain();
        if (!supportsOutagePolicy()) {
            String base = images.resolve(chain.name() + "-base.raw").toString();
            List<Executable> asks = List.of(
                    () -> domain.blockPull("vda", 0, Set.of(PullFlag.FAIL_ON_OUTAGE)),
                    () -> domain.blockRebase("vda", Optional.of(base), 0, Set.of(RebaseFlag.FAIL_ON_OUTAGE)));
            for (Executable ask : asks) {
                SiphonException e = assertThrows(SiphonException.class, ask);
                assertEquals(ErrorCode.NO_SUPPORT, e.code(), e.getMessage());
                assertTrue(e.getMessage().contains("on-outage fail"), e.getMessage());
                assertEquals(Optional.empty(), domain.blockJobInfo("vda"));
            }
            finish(chain, chain.name() + "-base.raw");
            return;
        }
        // the chain is local, never unreachable: the policy is taken and the pull completes as any other
        domain.blockPull("vda", 0, Set.of(PullFlag.FAIL_ON_OUTAGE));
        assertEquals(BlockJobStatus.COMPLETED, chain.nextEvent().status());
        finish(chain, "");
    }

    @Test
    void stepModeRunsToCompletion() throws Exception {
        RunningChain chain = startChain("step", 4);
        Domain domain = chain.domain();
        if (!supportsPullStep()) {
            SiphonException e = assertThrows(SiphonException.class, () -> domain.blockPullStep("vda"));
            assertEquals(ErrorCode.NO_SUPPORT, e.code(), e.getMessage());
            assertTrue(e.getMessage().contains("not supported"), e.getMessage());
            assertEquals(Optional.empty(), domain.blockJobInfo("vda"));
            finish(chain, chain.name() + "-base.raw");
            return;
        }
        BlockJobProgress progress = domain.blockPullStep("vda");
        assertEquals(
                BlockJobState.STEPPING, domain.blockJobInfo("vda").orElseThrow().state());
        // a pull to a base is another job; only a whole-device pull continues the steps (below)
        String base = images.resolve(chain.name() + "-base.raw").toString();
        assertCode(ErrorCode.JOB_EXISTS, () -> domain.blockRebase("vda", Optional.of(base), 0, Set.of()));
        int steps = 1;
        long previous = progress.curBytes();
        while (!progress.completed()) {
            progress = domain.blockPullStep("vda");
            assertTrue(progress.curBytes() >= previous, () -> "progress went back");
            previous = progress.curBytes();
            steps++;
            assertTrue(steps < 100, "step mode did not complete");
        }
        assertEquals(progress.endBytes(), progress.curBytes());
        assertTrue(steps > 1, "a 4 MiB pull took " + steps + " step(s)");
        assertEquals(BlockJobStatus.COMPLETED, chain.nextEvent().status());
        assertEquals(Optional.empty(), domain.blockJobInfo("vda"));
        finish(chain, "");
    }

    @Test
    void aWholeDevicePullTakesOverFromStepsAsOneJob() throws Exception {
        // a driver without single increments refuses the step (stepModeRunsToCompletion checks that)
        org.junit.jupiter.api.Assumptions.assumeTrue(supportsPullStep(), "the driver has no single-increment pull");
        RunningChain chain = startChain("takeover", 16);
        Domain domain = chain.domain();
        domain.blockPullStep("vda");
        BlockJobProgress stepped = domain.blockPullStep("vda");
        assertTrue(stepped.curBytes() > 0 && !stepped.completed(), () -> "after two steps: " + stepped);
        domain.blockPull("vda", 1, Set.of()); // 1 MiB/s: the rest takes seconds, ample for the checks
        BlockJobInfo info = domain.blockJobInfo("vda").orElseThrow();
        assertEquals(BlockJobState.RUNNING, info.state());
        assertEquals(MIB, info.bandwidthBytesPerSecond());
        assertEquals(stepped.endBytes(), info.endBytes());
        assertTrue(info.curBytes() >= stepped.curBytes(), () -> "progress went back: " + info + " after " + stepped);
        assertCode(ErrorCode.JOB_EXISTS, () -> domain.blockPullStep("vda"));
        assertCode(ErrorCode.JOB_EXISTS, () -> domain.blockPull("vda", 0, Set.of()));
        domain.blockJobSetSpeed("vda", 0, Set.of());
        assertEquals(BlockJobStatus.COMPLETED, chain.nextEvent().status());
        assertEquals(Optional.empty(), domain.blockJobInfo("vda"));
        finish(chain, "");
    }

    @Test
    void aPullThatMeetsACorruptTemplateFailsNamingItAndKeepsTheLink() throws Exception {
        String name = uniqueName("corrupt");
        BlockingQueue<BlockJobEvent> events = jobEvents();
        Path base = images.resolve(name + "-base.qcow2");
        QemuTools.ok("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), "8M");
        QemuTools.write(base, "qcow2", 0x5a, 0, 8 * MIB);
        Path top = top(name);
        QemuTools.createOverlay(top, base.getFileName().toString(), "qcow2");
        // opening the chain reads only headers and L1 tables: the pull is the first to meet this entry
        Qcow2Damage.pointPastEnd(base, 6 * MIB);
        Domain domain = connection.define("<domain><name>" + name + "</name><devices><disk><driver type='qcow2'/>"
                + "<source file='" + top + "'/><target dev='vda'/></disk></devices></domain>");
        domain.start();
        try {
            domain.blockPull("vda", 0, Set.of());
            BlockJobEvent event = next(events, name, BlockJobEvent::domain);
            assertEquals(BlockJobStatus.FAILED, event.status(), () -> "event " + event);
            assertEquals("vda", event.disk());
            assertEquals(BlockJobType.PULL, event.type());
            String error = event.error().orElseThrow(() -> new AssertionError("FAILED without an error"));
            assertTrue(error.contains(base.getFileName().toString()), error);
            assertEquals(Optional.empty(), domain.blockJobInfo("vda"));
            assertEquals(DomainState.RUNNING, domain.info().state());
        } finally {
            domain.shutdown();
        }
        assertEquals(base.getFileName().toString(), QemuTools.backingName(top));
        connection.undefine(name);
    }

    @Test
    void rebaseOntoABaseKeepsItRelativeOrMakesItAbsolute() throws Exception {
        for (boolean keepRelative : List.of(true, false)) {
            String name = uniqueName("rebase");
            BlockingQueue<BlockJobEvent> events = jobEvents();
            Path base = images.resolve(name + "-base.raw");
            Files.write(base, new byte[2 << 20]);
            QemuTools.write(base, "raw", 0x22, 0, 1 << 20);
            Path mid = images.resolve(name + "-mid.qcow2");
            QemuTools.createOverlay(mid, base.getFileName().toString(), "raw");
            QemuTools.write(mid, "qcow2", 0x33, 1 << 20, 1 << 20);
            Path top = images.resolve(name + "-top.qcow2");
            QemuTools.createOverlay(top, mid.getFileName().toString(), "qcow2");
            Path expected = images.resolve(name + "-expected.raw");
            QemuTools.flatten(top, expected);
            Domain domain = connection.define("<domain><name>" + name + "</name><devices><disk><driver type='qcow2'/>"
                    + "<source file='" + top + "'/><target dev='vda'/></disk></devices></domain>");
            domain.start();
            Set<RebaseFlag> flags = keepRelative ? Set.of(RebaseFlag.KEEP_RELATIVE) : Set.of();
            domain.blockRebase("vda", Optional.of(base.toString()), 0, flags);
            assertEquals(
                    BlockJobStatus.COMPLETED,
                    next(events, name, BlockJobEvent::domain).status());
            domain.shutdown();
            assertEquals(keepRelative ? base.getFileName().toString() : base.toString(), QemuTools.backingName(top));
            QemuTools.assertSameContent(top, expected);
            connection.undefine(name);
        }
    }
}
