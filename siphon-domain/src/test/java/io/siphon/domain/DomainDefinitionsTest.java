package io.siphon.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DomainDefinitionsTest {
    private static final String WEB_UUID = "4dea22b3-1d52-d8f3-2516-782e98ab3fa0";

    @TempDir
    Path dir;

    private static String xml(String name, String uuid) {
        return "<domain><name>" + name + "</name><uuid>" + uuid + "</uuid><devices><disk type='file'>"
                + "<source file='/images/" + name + ".qcow2'/><target dev='vda'/></disk></devices></domain>";
    }

    /** The definitions Siphon 0.1.0 wrote (one given a UUID, one with its own) still load as they were. */
    @Test
    void loadsTheDefinitionsOfAStateDirectoryWrittenBySiphon010() throws Exception {
        Path root = copyFixture("state-0.1.0");
        try (StateDirectory state = StateDirectory.open(root)) {
            DomainDefinitions definitions = DomainDefinitions.load(state);
            assertEquals(
                    List.of("no-uuid", "web-01"),
                    definitions.list().stream().map(DomainDefinition::name).toList());
            DomainDefinition web = definitions.get(WEB_UUID.toUpperCase());
            assertEquals("web-01", web.name());
            assertEquals(
                    List.of(
                            new DiskDefinition(
                                    "vda", Path.of("/var/lib/siphon/web-01.qcow2"), Optional.of("qcow2"), true, false),
                            new DiskDefinition(
                                    "vdb", Path.of("/var/lib/siphon/data.raw"), Optional.of("raw"), false, true)),
                    web.disks());
            assertEquals(Files.readString(root.resolve("domains/web-01.xml")), web.xml());
            DomainDefinition generated = definitions.get("no-uuid");
            assertEquals(UUID.fromString("90a1c58c-1e90-4c9a-bb5d-239c370b87a1"), generated.uuid());
            assertEquals(
                    List.of(new DiskDefinition(
                            "sda", Path.of("/var/lib/siphon/n.qed"), Optional.empty(), false, false)),
                    generated.disks());
        }
    }

    @Test
    void aDefinitionIsOnDiskAndLoadsAgain() throws Exception {
        Path root = dir.resolve("state");
        try (StateDirectory state = StateDirectory.open(root)) {
            DomainDefinition defined = DomainDefinitions.load(state).define(xml("a", WEB_UUID), d -> {});
            assertEquals(defined.xml(), Files.readString(root.resolve("domains/a.xml")));
        }
        try (StateDirectory state = StateDirectory.open(root)) {
            DomainDefinitions reloaded = DomainDefinitions.load(state);
            assertEquals(UUID.fromString(WEB_UUID), reloaded.get("a").uuid());
            reloaded.undefine("a");
            assertFalse(Files.exists(root.resolve("domains/a.xml")));
            assertEquals(
                    ErrorCode.NO_DOMAIN,
                    assertThrows(SiphonException.class, () -> reloaded.get("a")).code());
        }
    }

    @Test
    void theAutostartMarkIsLibvirtsLinkAndLoadsAgain() throws Exception {
        Path root = dir.resolve("state");
        try (StateDirectory state = StateDirectory.open(root)) {
            DomainDefinitions definitions = DomainDefinitions.load(state);
            definitions.define(xml("a", WEB_UUID), d -> {});
            definitions.define(xml("b", UUID.randomUUID().toString()), d -> {});
            assertEquals("a", definitions.setAutostart(WEB_UUID, true), "found by UUID, named by name");
            assertEquals(Path.of("../domains/a.xml"), Files.readSymbolicLink(root.resolve("autostart/a.xml")));
        }
        try (StateDirectory state = StateDirectory.open(root)) {
            DomainDefinitions reloaded = DomainDefinitions.load(state);
            assertTrue(reloaded.isAutostart("a"));
            assertFalse(reloaded.isAutostart("b"));
            assertTrue(reloaded.info(reloaded.get("a"), false).autostart());
            reloaded.undefine("a");
            assertFalse(Files.exists(root.resolve("autostart/a.xml"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
            reloaded.define(xml("a", WEB_UUID), d -> {});
            assertFalse(reloaded.isAutostart("a"), "a new definition starts unmarked");
        }
    }

    @Test
    void aGeneratedUuidIsInsertedIntoTheXmlAsWritten() {
        String written = "<domain type='kvm'>\n  <name>w</name>\n  <devices><disk type='file'><source file='/i.qcow2'/>"
                + "<target dev='vda' bus='virtio'/></disk></devices>\n  <!-- kept -->\n</domain>\n";
        DomainDefinition parsed = DomainXml.parse(written);
        assertEquals(
                written.replace("<name>w</name>\n", "<name>w</name>\n  <uuid>" + parsed.uuid() + "</uuid>\n"),
                parsed.xml());
    }

    @Test
    void aNameOrUuidOfAnotherDomainIsRefusedAndTheSameDomainIsReplaced() throws Exception {
        try (StateDirectory state = StateDirectory.open(dir.resolve("state"))) {
            DomainDefinitions definitions = DomainDefinitions.load(state);
            definitions.define(xml("a", WEB_UUID), d -> {});
            String otherUuid = UUID.randomUUID().toString();
            assertEquals(
                    ErrorCode.DOMAIN_EXISTS,
                    assertThrows(SiphonException.class, () -> definitions.define(xml("a", otherUuid), d -> {}))
                            .code());
            assertEquals(
                    ErrorCode.DOMAIN_EXISTS,
                    assertThrows(SiphonException.class, () -> definitions.define(xml("b", WEB_UUID), d -> {}))
                            .code());
            String replacement = xml("a", WEB_UUID).replace("/images/a.qcow2", "/images/a2.qcow2");
            assertEquals(replacement, definitions.define(replacement, d -> {}).xml());
            assertEquals(1, definitions.list().size());
        }
    }

    @Test
    void aRefusalBeforeWritingLeavesTheOldDefinition() throws Exception {
        Path root = dir.resolve("state");
        try (StateDirectory state = StateDirectory.open(root)) {
            DomainDefinitions definitions = DomainDefinitions.load(state);
            DomainDefinition old = definitions.define(xml("a", WEB_UUID), d -> {});
            SiphonException refusal = new SiphonException(ErrorCode.OPERATION_INVALID, "running");
            String replacement = xml("a", WEB_UUID).replace("/images/a.qcow2", "/images/a2.qcow2");
            assertSame(
                    refusal,
                    assertThrows(
                            SiphonException.class,
                            () -> definitions.define(replacement, d -> {
                                assertEquals("a", d.name());
                                throw refusal;
                            })));
            assertEquals(old, definitions.get("a"));
            assertEquals(old.xml(), Files.readString(root.resolve("domains/a.xml")));
        }
    }

    @Test
    void aDamagedDefinitionIsSkippedAndTheOthersLoad() throws Exception {
        assertOnlyTheGoodOneLoadsBeside("bad.xml", "<domain><name>bad".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aDefinitionThatIsNotUtf8IsSkippedAndTheOthersLoad() throws Exception {
        assertOnlyTheGoodOneLoadsBeside(
                "latin1.xml", "<domain><name>caf\u00e9</name></domain>".getBytes(StandardCharsets.ISO_8859_1));
    }

    private void assertOnlyTheGoodOneLoadsBeside(String damagedFile, byte[] damaged) throws Exception {
        Path root = dir.resolve("state");
        try (StateDirectory state = StateDirectory.open(root)) {
            DomainDefinitions.load(state).define(xml("good", WEB_UUID), d -> {});
        }
        Files.write(root.resolve("domains").resolve(damagedFile), damaged);
        try (StateDirectory state = StateDirectory.open(root)) {
            assertEquals(
                    List.of("good"),
                    DomainDefinitions.load(state).list().stream()
                            .map(DomainDefinition::name)
                            .toList());
        }
    }

    /** A full state disk (a 64 KiB tmpfs; root only) fails the define, names the file, and leaves no temporary file. */
    @Test
    void aFullDiskFailsTheDefineWithoutAClassNameAndLeavesNoTemporaryFile() throws Exception {
        Path mount = Files.createDirectory(dir.resolve("small"));
        Process mountCommand = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mount.toString())
                .redirectErrorStream(true)
                .start();
        String mountOutput = new String(mountCommand.getInputStream().readAllBytes());
        Assumptions.assumeTrue(mountCommand.waitFor() == 0, "cannot mount a small tmpfs here: " + mountOutput);
        try {
            Path root = mount.resolve("state");
            try (StateDirectory state = StateDirectory.open(root)) {
                DomainDefinitions definitions = DomainDefinitions.load(state);
                try (var filler = FileChannel.open(
                        mount.resolve("filler"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                    ByteBuffer block = ByteBuffer.allocate(4096);
                    while (true) {
                        try {
                            filler.write(block.clear());
                        } catch (IOException full) {
                            break;
                        }
                    }
                }
                SiphonException e =
                        assertThrows(SiphonException.class, () -> definitions.define(xml("web", WEB_UUID), d -> {}));
                assertEquals(ErrorCode.OPERATION_FAILED, e.code(), e.getMessage());
                assertTrue(e.getMessage().contains("web.xml.tmp: No space left on device"), e.getMessage());
                assertFalse(e.getMessage().contains("Exception"), e.getMessage());
                try (var files = Files.list(root.resolve("domains"))) {
                    assertEquals(List.of(), files.toList());
                }
            }
        } finally {
            new ProcessBuilder("umount", mount.toString()).inheritIO().start().waitFor();
        }
    }

    private Path copyFixture(String name) throws IOException, URISyntaxException {
        Path fixture = Path.of(getClass().getResource("/" + name).toURI());
        Path root = dir.resolve(name);
        try (var files = Files.walk(fixture)) {
            for (Path from : files.toList()) {
                Path to = root.resolve(fixture.relativize(from).toString());
                if (Files.isDirectory(from)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(from, to);
                }
            }
        }
        assertTrue(Files.isRegularFile(root.resolve("domains/web-01.xml")));
        return root;
    }
}
