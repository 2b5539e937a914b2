package io.siphon.format.qcow2;

import io.siphon.format.ImageFormatException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The {@code -o} options of {@code qemu-img amend} on a qcow2 image, parsed with qemu-img 7.2's
 * refusals in its words (the first line of each; the message names no file, as qemu-img's). Empty
 * means "leave as it is".
 *
 * @param version 2 (compat 0.10) or 3 (compat 1.1)
 * @param lazyRefcounts lazy_refcounts on or off
 * @param sizeBytes the new virtual size
 * @param backingFile, backingFormat what backing_file and backing_fmt say (only the current
 *     values are allowed: qemu-img 7.2 cannot amend the backing file)
 * @param refcountBits refcount_bits (only the current width: Siphon does not change it)
 */
record Qcow2AmendOptions(
        OptionalInt version,
        Optional<Boolean> lazyRefcounts,
        OptionalLong sizeBytes,
        Optional<String> backingFile,
        Optional<String> backingFormat,
        OptionalLong refcountBits) {
    /** What qemu-img lists for amend (and so accepts by name). */
    static final Set<String> AMENDABLE = Set.of(
            "backing_file",
            "backing_fmt",
            "compat",
            "data_file",
            "data_file_raw",
            "encrypt.iter-time",
            "encrypt.keyslot",
            "encrypt.new-secret",
            "encrypt.old-secret",
            "encrypt.state",
            "lazy_refcounts",
            "refcount_bits",
            "size");
    /** Create options that amend cannot change. */
    private static final Set<String> CREATE_ONLY =
            Set.of("cluster_size", "preallocation", "compression_type", "extended_l2", "encryption", "encrypt.format");

    static Qcow2AmendOptions parse(Path path, Map<String, String> options) throws ImageFormatException {
        for (String name : options.keySet()) {
            if (CREATE_ONLY.contains(name) || name.startsWith("encrypt.") && !AMENDABLE.contains(name)) {
                throw refused("Invalid parameter '" + name + "'\nThis option is only supported for image creation");
            }
            if (!AMENDABLE.contains(name)) {
                throw refused("Invalid parameter '" + name + "'");
            }
        }
        for (String name : options.keySet()) {
            if (name.startsWith("data_file") || name.startsWith("encrypt.")) {
                throw refused("Amending '" + name + "' is not supported: Siphon's qcow2 engine has no external data"
                        + " files or encryption");
            }
        }
        Optional<Boolean> lazy = Optional.empty();
        if (options.containsKey("lazy_refcounts")) {
            String value = options.get("lazy_refcounts");
            lazy = Optional.of(
                    switch (value.toLowerCase(Locale.ROOT)) {
                        case "on", "yes", "true", "y" -> true;
                        case "off", "no", "false", "n" -> false;
                        default -> throw refused("Parameter 'lazy_refcounts' expects 'on' or 'off'");
                    });
        }
        OptionalLong size = OptionalLong.empty();
        if (options.containsKey("size")) {
            try {
                size = OptionalLong.of(Qcow2CreateOptions.parseSize(path, "size", options.get("size"), 0));
            } catch (ImageFormatException e) {
                throw refused("Parameter 'size' expects a non-negative number below 2^64\n"
                        + "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n"
                        + "and exabytes, respectively.");
            }
        }
        OptionalLong refcountBits = OptionalLong.empty();
        if (options.containsKey("refcount_bits")) {
            try {
                refcountBits = OptionalLong.of(Long.parseLong(options.get("refcount_bits")));
            } catch (NumberFormatException e) {
                throw refused("Parameter 'refcount_bits' expects a number");
            }
        }
        OptionalInt version = OptionalInt.empty();
        if (options.containsKey("compat")) {
            String compat = options.get("compat");
            version = OptionalInt.of(
                    switch (compat) {
                        case "0.10", "v2" -> 2;
                        case "1.1", "v3" -> 3;
                        default -> throw refused("Unknown compatibility level " + compat);
                    });
        }
        return new Qcow2AmendOptions(
                version,
                lazy,
                size,
                Optional.ofNullable(options.get("backing_file")),
                Optional.ofNullable(options.get("backing_fmt")),
                refcountBits);
    }

    /** A refusal in qemu-img's words: no file name, so that the CLI prints it as qemu-img does. */
    static ImageFormatException refused(String message) {
        return new ImageFormatException(ImageFormatException.Reason.REFUSED, Path.of(""), "", message);
    }
}
