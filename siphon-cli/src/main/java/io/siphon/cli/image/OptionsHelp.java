package io.siphon.cli.image;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code create -o help} and {@code amend -o help}: the options Siphon honours for each format, in
 * qemu-img's layout and words (only those: qemu-img's others, such as encryption or data files, are
 * refused).
 */
final class OptionsHelp {
    private static final Map<String, List<String[]>> OPTIONS = Map.of(
            "qcow2",
            List.of(
                    new String[] {"backing_file=<str>", "File name of a base image"},
                    new String[] {"backing_fmt=<str>", "Image format of the base image"},
                    new String[] {"cluster_size=<size>", "qcow2 cluster size"},
                    new String[] {"compat=<str>", "Compatibility level (v2 [0.10] or v3 [1.1])"},
                    new String[] {"compression_type=<str>", "Compression method used for image cluster compression"},
                    new String[] {"extended_l2=<bool (on/off)>", "Extended L2 tables"},
                    new String[] {"lazy_refcounts=<bool (on/off)>", "Postpone refcount updates"},
                    new String[] {
                        "preallocation=<str>", "Preallocation mode (allowed values: off, metadata, falloc, full)"
                    },
                    new String[] {"refcount_bits=<num>", "Width of a reference count entry in bits"},
                    new String[] {"size=<size>", "Virtual disk size"}),
            "qed",
            List.of(
                    new String[] {"backing_file=<str>", "File name of a base image"},
                    new String[] {"backing_fmt=<str>", "Image format of the base image"},
                    new String[] {"cluster_size=<size>", "Cluster size (in bytes)"},
                    new String[] {"size=<size>", "Virtual disk size"},
                    new String[] {"table_size=<size>", "L1/L2 table size (in clusters)"}),
            "raw",
            List.<String[]>of(new String[] {"size=<size>", "Virtual disk size"}));

    /** What amend changes (qcow2 only; backing_file and backing_fmt only as they are, as qemu-img 7.2). */
    private static final List<String[]> AMEND_QCOW2 = List.of(
            new String[] {"backing_file=<str>", "File name of a base image"},
            new String[] {"backing_fmt=<str>", "Image format of the base image"},
            new String[] {"compat=<str>", "Compatibility level (v2 [0.10] or v3 [1.1])"},
            new String[] {"lazy_refcounts=<bool (on/off)>", "Postpone refcount updates"},
            new String[] {"refcount_bits=<num>", "Width of a reference count entry in bits"},
            new String[] {"size=<size>", "Virtual disk size"});

    private OptionsHelp() {}

    /** The amend help text of qcow2, lines ending in newlines. */
    static String amendQcow2() {
        return lines("Amend options for 'qcow2':\n", AMEND_QCOW2);
    }

    /** Whether an {@code -o} list asks for help, as qemu-img's {@code help} and {@code ?}. */
    static boolean asked(List<String> optionLists) {
        return optionLists.stream().anyMatch(list -> list.equals("help") || list.equals("?"));
    }

    /** The help text for {@code format}, lines ending in newlines; empty for an unknown format. */
    static String of(String format) {
        return lines("Supported options:\n", OPTIONS.getOrDefault(format, List.of()));
    }

    private static String lines(String heading, List<String[]> options) {
        StringBuilder out = new StringBuilder(heading);
        for (String[] option : options) {
            out.append(String.format(Locale.ROOT, "  %-22s - %s%n", option[0], option[1]));
        }
        return out.toString();
    }
}
