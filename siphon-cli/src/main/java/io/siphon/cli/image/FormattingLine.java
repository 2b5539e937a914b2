package io.siphon.cli.image;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * qemu-img create's {@code Formatting 'FILE', fmt=... size=...} line: each format's options in
 * qemu-img's order, with the defaults qemu-img shows for options not given.
 */
final class FormattingLine {
    /** Where {@code size}, {@code backing_file} and {@code backing_fmt} go among a format's options. */
    private static final String CREATE_FIELDS = "*";

    private static final Map<String, List<String>> ORDER = Map.of(
            "qcow2",
            List.of(
                    "cluster_size=65536",
                    "extended_l2=off",
                    "preallocation",
                    "compression_type=zlib",
                    CREATE_FIELDS,
                    "encryption",
                    "lazy_refcounts=off",
                    "refcount_bits=16"),
            "qed",
            List.of(CREATE_FIELDS, "cluster_size=65536", "table_size"),
            "raw",
            List.of(CREATE_FIELDS, "preallocation"));

    private FormattingLine() {}

    static String of(
            String file,
            String format,
            long sizeBytes,
            Optional<String> backingFile,
            Optional<String> backingFormat,
            Map<String, String> options) {
        Map<String, String> remaining = new LinkedHashMap<>(options);
        List<String> parts = new ArrayList<>();
        parts.add("fmt=" + format);
        for (String entry : ORDER.getOrDefault(format, List.of(CREATE_FIELDS))) {
            if (entry.equals(CREATE_FIELDS)) {
                parts.add("size=" + sizeBytes);
                // compat sits between size and the backing file in qemu-img's qcow2 list
                Optional.ofNullable(remaining.remove("compat")).ifPresent(v -> parts.add("compat=" + v));
                backingFile.ifPresent(b -> parts.add("backing_file=" + b));
                backingFormat.ifPresent(f -> parts.add("backing_fmt=" + f));
                continue;
            }
            int equals = entry.indexOf('=');
            String name = equals < 0 ? entry : entry.substring(0, equals);
            String given = remaining.remove(name);
            if (given != null) {
                parts.add(name + "=" + given);
            } else if (equals >= 0) {
                parts.add(entry);
            }
        }
        remaining.forEach((name, value) -> parts.add(name + "=" + value));
        return "Formatting '" + file + "', " + String.join(" ", parts);
    }
}
