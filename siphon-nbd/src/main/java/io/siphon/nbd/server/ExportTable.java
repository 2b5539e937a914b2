package io.siphon.nbd.server;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

/** The exports a server offers, changed live; thread-safe. */
final class ExportTable {
    private final ConcurrentSkipListMap<String, Export> exports = new ConcurrentSkipListMap<>();

    /** Adds an export; a name already taken is an {@link IllegalArgumentException}. */
    void add(Export export) {
        if (exports.putIfAbsent(export.name(), export) != null) {
            throw new IllegalArgumentException("export '" + export.name() + "' already exists");
        }
    }

    Optional<Export> remove(String name) {
        return Optional.ofNullable(exports.remove(name));
    }

    /**
     * The export named {@code name}. The empty name is the spec's "default export": the export named
     * "" if there is one, else the only export when there is exactly one.
     */
    Optional<Export> find(String name) {
        Export exact = exports.get(name);
        if (exact != null || !name.isEmpty()) {
            return Optional.ofNullable(exact);
        }
        List<Export> all = all();
        return all.size() == 1 ? Optional.of(all.getFirst()) : Optional.empty();
    }

    List<Export> all() {
        return List.copyOf(exports.values());
    }
}
