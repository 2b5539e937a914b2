package io.siphon.format.qed;

import io.siphon.format.ExternalCommand;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** QEMU's tools (qemu-img, qemu-io) from PATH, and readers for their JSON output. */
final class QemuTools {
    private static final Pattern MAP_ENTRY = Pattern.compile("\\{([^}]*)}");

    private QemuTools() {}

    static ExternalCommand.Result run(String... command) throws IOException, InterruptedException {
        return ExternalCommand.run(command);
    }

    /** Runs the command and fails the test unless it exits 0; returns what it printed. */
    static String ok(String... command) throws IOException, InterruptedException {
        return ExternalCommand.run(command).requireSuccess().stdout();
    }

    /** A number field of a flat JSON object, or -1 when absent. */
    static long jsonLong(String json, String field) {
        Matcher m =
                Pattern.compile("\"" + Pattern.quote(field) + "\":\\s*(-?\\d+)").matcher(json);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    static String jsonString(String json, String field) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(field) + "\":\\s*\"([^\"]*)\"")
                .matcher(json);
        return m.find() ? m.group(1) : null;
    }

    static boolean jsonBool(String json, String field) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(field) + "\":\\s*(true|false)")
                .matcher(json);
        return m.find() && Boolean.parseBoolean(m.group(1));
    }

    /** One entry of {@code qemu-img map --output=json}. */
    record MapEntry(long start, long length, long depth, boolean present, boolean zero, boolean data, long offset) {}

    static List<MapEntry> map(String json) {
        List<MapEntry> entries = new ArrayList<>();
        Matcher m = MAP_ENTRY.matcher(json);
        while (m.find()) {
            String e = m.group(1);
            entries.add(new MapEntry(
                    jsonLong(e, "start"),
                    jsonLong(e, "length"),
                    jsonLong(e, "depth"),
                    jsonBool(e, "present"),
                    jsonBool(e, "zero"),
                    jsonBool(e, "data"),
                    jsonLong(e, "offset")));
        }
        return entries;
    }
}
