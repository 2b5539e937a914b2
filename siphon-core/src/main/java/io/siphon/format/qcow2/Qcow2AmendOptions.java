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
 * @param refcountBits refcount_bits: a power of two from 1 to 64
 * @param dataFile, dataFileRaw what data_file and data_file_raw say (refused once the image is open:
 *     it has no external data file)
 * @param encryption whether any encrypt.* option is given (refused likewise: it is unencrypted)
 */
record Qcow2AmendOptions(
        OptionalInt version,
        Optional<Boolean> lazyRefcounts,
        OptionalLong sizeBytes,
        Optional<String> backingFile,
        Optional<String> backingFormat,
        OptionalInt refcountBits,
        Optional<String> dataFile,
        Optional<Boolean> dataFileRaw,
        boolean encryption) {
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
        Optional<Boolean> lazy = bool(options, "lazy_refcounts");
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
        long refcountBits = 0;
        if (options.containsKey("refcount_bits")) {
            try {
                refcountBits = Long.parseLong(options.get("refcount_bits"));
            } catch (NumberFormatException e) {
                throw refused("Parameter 'refcount_bits' expects a number");
            }
        }
        Optional<Boolean> dataFileRaw = bool(options, "data_file_raw");
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
        if (options.containsKey("refcount_bits")
                && (refcountBits < 1 || refcountBits > 64 || Long.bitCount(refcountBits) != 1)) {
            throw refused("Refcount width must be a power of two and may not exceed 64 bits");
        }
        return new Qcow2AmendOptions(
                version,
                lazy,
                size,
                Optional.ofNullable(options.get("backing_file")),
                Optional.ofNullable(options.get("backing_fmt")),
                options.containsKey("refcount_bits") ? OptionalInt.of((int) refcountBits) : OptionalInt.empty(),
                Optional.ofNullable(options.get("data_file")),
                dataFileRaw,
                options.keySet().stream().anyMatch(name -> name.startsWith("encrypt.")));
    }

    /** An on/off option, in qemu's spellings. */
    private static Optional<Boolean> bool(Map<String, String> options, String name) throws ImageFormatException {
        if (!options.containsKey(name)) {
            return Optional.empty();
        }
        return Optional.of(
                switch (options.get(name).toLowerCase(Locale.ROOT)) {
                    case "on", "yes", "true", "y" -> true;
                    case "off", "no", "false", "n" -> false;
                    default -> throw refused("Parameter '" + name + "' expects 'on' or 'off'");
                });
    }

    /** A refusal in qemu-img's words: no file name, so that the CLI prints it as qemu-img does. */
    static ImageFormatException refused(String message) {
        return new ImageFormatException(ImageFormatException.Reason.REFUSED, Path.of(""), "", message);
    }
}
