package io.siphon.domain;

import io.siphon.api.DomainInfo;
import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The domains defined in a {@link StateDirectory} ({@code domains/NAME.xml}), found by name or
 * UUID; a definition is on disk before it is visible. A domain marked autostart has, as in
 * libvirt, a symbolic link {@code autostart/NAME.xml} to its definition. Thread-safe: calls are
 * serialized on this object.
 */
public final class DomainDefinitions {
    private static final Logger LOG = LoggerFactory.getLogger(DomainDefinitions.class);

    private final StateDirectory state;
    private final Map<String, DomainDefinition> byName = new TreeMap<>();
    private final Set<String> autostart = new HashSet<>();

    private DomainDefinitions(StateDirectory state) {
        this.state = state;
    }

    /**
     * Reads every definition in {@code state}; a damaged or unreadable one (not UTF-8) is logged,
     * naming its file, and skipped, so that one bad
     * file does not take the others down. An unreadable directory is {@link ErrorCode#OPERATION_FAILED}.
     */
    public static DomainDefinitions load(StateDirectory state) {
        DomainDefinitions definitions = new DomainDefinitions(state);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(state.domains(), "*.xml")) {
            for (Path file : files) {
                try {
                    DomainDefinition definition = DomainXml.parse(Files.readString(file, StandardCharsets.UTF_8));
                    definitions.byName.put(definition.name(), definition);
                } catch (SiphonException e) {
                    LOG.warn("ignoring a damaged definition {}: {}", file, e.getMessage());
                } catch (IOException e) {
                    // not UTF-8, or unreadable: one file must not keep the others (and the daemon) down
                    LOG.warn("ignoring an unreadable definition {}: {}", file, IoMessages.describe(e));
                }
            }
        } catch (IOException e) {
            throw new SiphonException(
                    ErrorCode.OPERATION_FAILED,
                    "cannot read domains in " + state.root() + ": " + IoMessages.describe(e),
                    e);
        }
        for (String name : definitions.byName.keySet()) {
            if (Files.isSymbolicLink(definitions.autostartLink(name))) {
                definitions.autostart.add(name);
            }
        }
        return definitions;
    }

    /** Every definition, by name. */
    public synchronized List<DomainDefinition> list() {
        return List.copyOf(byName.values());
    }

    /** The domain named {@code nameOrUuid} or with that UUID; none is {@link ErrorCode#NO_DOMAIN}. */
    public synchronized DomainDefinition get(String nameOrUuid) {
        DomainDefinition named = byName.get(nameOrUuid);
        if (named != null) {
            return named;
        }
        for (DomainDefinition definition : byName.values()) {
            if (definition.uuid().toString().equalsIgnoreCase(nameOrUuid)) {
                return definition;
            }
        }
        throw new SiphonException(ErrorCode.NO_DOMAIN, "no domain with name or uuid '" + nameOrUuid + "'");
    }

    /**
     * Parses {@code xml} and writes it as its domain's definition, replacing one of the same name
     * and UUID. A name or UUID that another domain has is {@link ErrorCode#DOMAIN_EXISTS}; {@code
     * beforeWrite} sees the parsed definition once it clashes with none, and refuses it by throwing.
     */
    public synchronized DomainDefinition define(String xml, Consumer<DomainDefinition> beforeWrite) {
        DomainDefinition definition = DomainXml.parse(xml);
        for (DomainDefinition other : byName.values()) {
            boolean sameName = other.name().equals(definition.name());
            boolean sameUuid = other.uuid().equals(definition.uuid());
            if (sameName != sameUuid) {
                throw new SiphonException(
                        ErrorCode.DOMAIN_EXISTS,
                        "domain '" + other.name() + "' already exists with uuid " + other.uuid());
            }
        }
        beforeWrite.accept(definition);
        try {
            StateDirectory.writeAtomically(file(definition.name()), definition.xml());
        } catch (IOException e) {
            throw failed("saving domain " + definition.name(), e);
        }
        byName.put(definition.name(), definition);
        return definition;
    }

    /** Deletes the definition of the domain named {@code name} (exactly); none is {@link ErrorCode#NO_DOMAIN}. */
    public synchronized void undefine(String name) {
        if (!byName.containsKey(name)) {
            throw new SiphonException(ErrorCode.NO_DOMAIN, "no domain with name '" + name + "'");
        }
        try {
            StateDirectory.deleteDurably(autostartLink(name));
            StateDirectory.deleteDurably(file(name));
        } catch (IOException e) {
            throw failed("removing domain " + name, e);
        }
        autostart.remove(name);
        byName.remove(name);
    }

    /** Whether the domain named {@code name} (exactly) is marked autostart. */
    public synchronized boolean isAutostart(String name) {
        return autostart.contains(name);
    }

    /** What the API reports of {@code definition} when it is {@code running} or not. */
    public synchronized DomainInfo info(DomainDefinition definition, boolean running) {
        return definition.info(running, autostart.contains(definition.name()));
    }

    /**
     * Marks the domain named {@code nameOrUuid} autostart, or not, by creating or removing its
     * link (durably: the directory is synced); the name it has.
     */
    public synchronized String setAutostart(String nameOrUuid, boolean on) {
        String name = get(nameOrUuid).name();
        Path link = autostartLink(name);
        try {
            if (on && !Files.isSymbolicLink(link)) {
                Files.createSymbolicLink(link, Path.of("..", "domains", name + ".xml"));
            } else if (!on) {
                Files.deleteIfExists(link);
            }
            StateDirectory.syncDirectory(link);
        } catch (IOException e) {
            throw failed((on ? "marking" : "unmarking") + " domain " + name + " autostart", e);
        }
        if (on) {
            autostart.add(name);
        } else {
            autostart.remove(name);
        }
        return name;
    }

    private Path autostartLink(String name) {
        return state.autostart().resolve(name + ".xml");
    }

    private Path file(String name) {
        return state.domains().resolve(name + ".xml");
    }

    private static SiphonException failed(String what, IOException e) {
        return new SiphonException(ErrorCode.OPERATION_FAILED, what + ": " + IoMessages.describe(e), e);
    }
}
