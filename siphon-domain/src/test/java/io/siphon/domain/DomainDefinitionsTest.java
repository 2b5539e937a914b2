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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
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
        Path root = dir.resolve("state");
        try (StateDirectory state = StateDirectory.open(root)) {
            DomainDefinitions.load(state).define(xml("good", WEB_UUID), d -> {});
        }
        Files.writeString(root.resolve("domains/bad.xml"), "<domain><name>bad");
        try (StateDirectory state = StateDirectory.open(root)) {
            assertEquals(
                    List.of("good"),
                    DomainDefinitions.load(state).list().stream()
                            .map(DomainDefinition::name)
                            .toList());
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
