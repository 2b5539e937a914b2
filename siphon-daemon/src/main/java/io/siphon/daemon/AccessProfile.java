package io.siphon.daemon;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.zip.CRC32;

/**
 * Which clusters of a template guests read in their first seconds after a start, and how often,
 * merged across starts and bounded to {@value #MAX_CLUSTERS} clusters (the hottest kept). As a
 * file: a header of {@code key value} lines (format, the template's identity, the cluster size,
 * starts merged, the CRC-32 of the entries), a blank line, then one {@code offset count} line per
 * cluster, hottest first. Immutable.
 *
 * @param template the template's identity when the profile was recorded
 * @param clusterBytes the unit of the offsets
 * @param starts how many starts the counts merge
 * @param counts reads per cluster offset (bytes, a multiple of {@code clusterBytes})
 */
record AccessProfile(TemplateIdentity template, long clusterBytes, long starts, Map<Long, Long> counts) {
    static final int MAX_CLUSTERS = 4096;
    private static final String FORMAT = "siphon-access-profile 1";

    AccessProfile {
        Objects.requireNonNull(template, "template");
        if (clusterBytes <= 0 || Long.bitCount(clusterBytes) != 1) {
            throw new IllegalArgumentException("profile cluster size " + clusterBytes + " is not a power of two");
        }
        counts = Map.copyOf(bounded(counts));
    }

    /** What makes a template the same one: its path, size and modification time. */
    record TemplateIdentity(Path path, long sizeBytes, long modifiedMillis) {}

    /** The cluster offsets, hottest first (ties in offset order). */
    List<Long> hottestFirst() {
        return order(counts);
    }

    /** This profile with {@code reads} (reads per cluster offset of one start) added, bounded again. */
    AccessProfile merge(Map<Long, Long> reads) {
        Map<Long, Long> merged = new HashMap<>(counts);
        reads.forEach((offset, n) -> merged.merge(offset, n, Long::sum));
        return new AccessProfile(template, clusterBytes, starts + 1, merged);
    }

    String format() {
        StringBuilder body = new StringBuilder();
        for (long offset : hottestFirst()) {
            body.append(offset).append(' ').append(counts.get(offset)).append('\n');
        }
        return FORMAT + "\n"
                + "template " + template.path() + "\n"
                + "size-bytes " + template.sizeBytes() + "\n"
                + "modified-ms " + template.modifiedMillis() + "\n"
                + "cluster-bytes " + clusterBytes + "\n"
                + "starts " + starts + "\n"
                + "crc32 " + Long.toHexString(crc(body.toString())) + "\n"
                + "\n" + body;
    }

    /** Reads a profile file's text; a damaged one is an {@link IllegalArgumentException} saying where. */
    static AccessProfile parse(String text) {
        int blank = text.indexOf("\n\n");
        if (!text.startsWith(FORMAT + "\n") || blank < 0) {
            throw new IllegalArgumentException("not a " + FORMAT + " file");
        }
        Map<String, String> header = new HashMap<>();
        for (String line : text.substring(FORMAT.length() + 1, blank).split("\n")) {
            int space = line.indexOf(' ');
            if (space <= 0) {
                throw new IllegalArgumentException("header line '" + line + "' is not 'key value'");
            }
            header.put(line.substring(0, space), line.substring(space + 1));
        }
        String body = text.substring(blank + 2);
        long crc = Long.parseLong(field(header, "crc32"), 16);
        if (crc != crc(body)) {
            throw new IllegalArgumentException("entries do not match their CRC-32 " + field(header, "crc32"));
        }
        Map<Long, Long> counts = new HashMap<>();
        long clusterBytes = Long.parseLong(field(header, "cluster-bytes"));
        for (String line : body.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            String[] parts = line.split(" ");
            if (parts.length != 2) {
                throw new IllegalArgumentException("entry '" + line + "' is not 'offset count'");
            }
            long offset = Long.parseLong(parts[0]);
            long count = Long.parseLong(parts[1]);
            if (offset < 0 || offset % clusterBytes != 0 || count <= 0) {
                throw new IllegalArgumentException("entry '" + line + "' is out of range");
            }
            counts.put(offset, count);
        }
        if (counts.size() > MAX_CLUSTERS) {
            throw new IllegalArgumentException(counts.size() + " entries, more than " + MAX_CLUSTERS);
        }
        TemplateIdentity template = new TemplateIdentity(
                Path.of(field(header, "template")),
                Long.parseLong(field(header, "size-bytes")),
                Long.parseLong(field(header, "modified-ms")));
        return new AccessProfile(template, clusterBytes, Long.parseLong(field(header, "starts")), counts);
    }

    private static String field(Map<String, String> header, String key) {
        String value = header.get(key);
        if (value == null) {
            throw new IllegalArgumentException("header lacks '" + key + "'");
        }
        return value;
    }

    private static long crc(String body) {
        CRC32 crc = new CRC32();
        crc.update(body.getBytes(StandardCharsets.UTF_8));
        return crc.getValue();
    }

    private static List<Long> order(Map<Long, Long> counts) {
        List<Long> offsets = new ArrayList<>(counts.keySet());
        offsets.sort(Comparator.<Long>comparingLong(counts::get).reversed().thenComparing(Comparator.naturalOrder()));
        return offsets;
    }

    private static Map<Long, Long> bounded(Map<Long, Long> counts) {
        if (counts.size() <= MAX_CLUSTERS) {
            return counts;
        }
        Map<Long, Long> kept = new HashMap<>();
        for (long offset : order(counts).subList(0, MAX_CLUSTERS)) {
            kept.put(offset, counts.get(offset));
        }
        return kept;
    }
}
