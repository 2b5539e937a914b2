package io.siphon.format.qcow2;

import io.siphon.format.ImageFormatException;
import io.siphon.format.Preallocation;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code -o} options of {@code qemu-img create -f qcow2} that Siphon honours, parsed and checked
 * against each other before anything is written.
 *
 * @param version 2 (compat 0.10) or 3 (compat 1.1)
 * @param compressionType {@link Qcow2Header#COMPRESSION_ZLIB} or {@link Qcow2Header#COMPRESSION_ZSTD}:
 *     what clusters are compressed with
 * @param preallocation what create allocates up front ({@link Qcow2Preallocator})
 * @param extendedL2 whether L2 entries have subcluster bitmaps (incompatible bit 4)
 */
record Qcow2CreateOptions(
        int clusterSize,
        int version,
        int refcountBits,
        boolean lazyRefcounts,
        int compressionType,
        Preallocation preallocation,
        boolean extendedL2) {
    private static final int DEFAULT_CLUSTER_SIZE = 64 << 10;

    /** Parses {@code options}, refusing unknown names and values qemu-img would refuse. */
    static Qcow2CreateOptions parse(Path path, Map<String, String> options) throws ImageFormatException {
        Map<String, String> rest = new HashMap<>(options);
        int clusterSize = (int) parseSize(path, "cluster_size", rest.remove("cluster_size"), DEFAULT_CLUSTER_SIZE);
        String compat = Optional.ofNullable(rest.remove("compat")).orElse("1.1");
        int version = switch (compat) {
            case "0.10", "v2" -> 2;
            case "1.1", "v3" -> 3;
            default -> throw Errors.refused(path, "compat", "'" + compat + "' is not 0.10 or 1.1");
        };
        int refcountBits = (int) parseSize(path, "refcount_bits", rest.remove("refcount_bits"), 16);
        boolean lazy = parseBoolean(path, "lazy_refcounts", rest.remove("lazy_refcounts"));
        String compression =
                Optional.ofNullable(rest.remove("compression_type")).orElse("zlib");
        int compressionType = switch (compression) {
            case "zlib" -> Qcow2Header.COMPRESSION_ZLIB;
            case "zstd" -> Qcow2Header.COMPRESSION_ZSTD;
            default -> throw Errors.refused(path, "compression_type", "'" + compression + "' is not zlib or zstd");
        };
        boolean extendedL2 = parseBoolean(path, "extended_l2", rest.remove("extended_l2"));
        String given = rest.remove("preallocation");
        Preallocation preallocation = Preallocation.parse(
                path, Optional.ofNullable(given), "Parameter 'preallocation' does not accept value '" + given + "'");
        if (!rest.isEmpty()) {
            throw Errors.refused(path, "options", "unknown qcow2 options " + rest.keySet());
        }
        if (clusterSize < 512 || clusterSize > (2 << 20) || Integer.bitCount(clusterSize) != 1) {
            throw Errors.refused(path, "cluster_size", clusterSize + " is not a power of two from 512 B to 2 MiB");
        }
        if (refcountBits < 1 || refcountBits > 64 || Integer.bitCount(refcountBits) != 1) {
            throw Errors.refused(path, "refcount_bits", refcountBits + " is not a power of two from 1 to 64");
        }
        if (version == 2 && refcountBits != 16) {
            throw Errors.refused(path, "refcount_bits", "compat 0.10 images have 16-bit refcounts only");
        }
        if (version == 2 && lazy) {
            throw Errors.refused(path, "lazy_refcounts", "lazy refcounts need compat 1.1");
        }
        if (version == 2 && compressionType != Qcow2Header.COMPRESSION_ZLIB) {
            throw Errors.refused(path, "compression_type", "a compression type other than zlib needs compat 1.1");
        }
        if (extendedL2 && version == 2) {
            throw Errors.refused(
                    path,
                    "extended_l2",
                    "Extended L2 entries are only supported with compatibility level 1.1 and above"
                            + " (use version=v3 or greater)");
        }
        if (extendedL2 && clusterSize < 1 << Geometry.MIN_EXTENDED_L2_CLUSTER_BITS) {
            throw Errors.refused(
                    path,
                    "extended_l2",
                    "Extended L2 entries are only supported with cluster sizes of at least "
                            + (1 << Geometry.MIN_EXTENDED_L2_CLUSTER_BITS) + " bytes");
        }
        return new Qcow2CreateOptions(
                clusterSize, version, refcountBits, lazy, compressionType, preallocation, extendedL2);
    }

    static long parseSize(Path path, String option, String value, long defaultValue) throws ImageFormatException {
        if (value == null) {
            return defaultValue;
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        long multiplier = 1;
        if (!v.isEmpty()) {
            char unit = v.charAt(v.length() - 1);
            int shift = "bkmgt".indexOf(unit) * 10;
            if (shift >= 0) {
                multiplier = 1L << shift;
                v = v.substring(0, v.length() - 1);
            }
        }
        try {
            return Math.multiplyExact(Long.parseLong(v), multiplier);
        } catch (NumberFormatException | ArithmeticException e) {
            throw Errors.refused(path, option, "'" + value + "' is not a size");
        }
    }

    static boolean parseBoolean(Path path, String option, String value) throws ImageFormatException {
        if (value == null) {
            return false;
        }
        return switch (value) {
            case "on", "true", "yes" -> true;
            case "off", "false", "no" -> false;
            default -> throw Errors.refused(path, option, "'" + value + "' is not on or off");
        };
    }
}
