package io.siphon.cli.view;

import io.siphon.cli.Sizes;
import io.siphon.format.ImageSnapshot;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** An internal snapshot as qemu-img prints it: a table line (info, snapshot -l) or a JSON object. */
public final class SnapshotView {
    /** The table's column heading, as QEMU's bdrv_snapshot_dump prints it. */
    public static final String HEADING = String.format(
            Locale.ROOT, "%-10s%-17s%8s%20s%13s%11s", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK", "ICOUNT");

    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT);

    private SnapshotView() {}

    /** One table line; the date in the local time zone, as qemu-img shows it. */
    public static String line(ImageSnapshot snapshot) {
        long seconds = snapshot.vmClockNanos() / 1_000_000_000L;
        String clock = String.format(
                Locale.ROOT,
                "%02d:%02d:%02d.%03d",
                seconds / 3600,
                (seconds / 60) % 60,
                seconds % 60,
                (snapshot.vmClockNanos() / 1_000_000) % 1000);
        String date = DATE.format(Instant.ofEpochSecond(snapshot.dateSeconds()).atZone(ZoneId.systemDefault()));
        String icount =
                snapshot.icount().isPresent() ? Long.toString(snapshot.icount().getAsLong()) : "";
        return String.format(
                Locale.ROOT,
                "%-9s %-16s %8s%20s%13s%11s",
                snapshot.id(),
                snapshot.name(),
                Sizes.human(snapshot.vmStateBytes()),
                date,
                clock,
                icount);
    }

    /** qemu-img's JSON object, keys in the order qemu-img 7.2 prints them. */
    public static Map<String, Object> json(ImageSnapshot snapshot) {
        Map<String, Object> json = new LinkedHashMap<>();
        snapshot.icount().ifPresent(icount -> json.put("icount", icount));
        json.put("vm-clock-nsec", snapshot.vmClockNanos() % 1_000_000_000L);
        json.put("name", snapshot.name());
        json.put("date-sec", snapshot.dateSeconds());
        json.put("date-nsec", snapshot.dateNanos());
        json.put("vm-clock-sec", snapshot.vmClockNanos() / 1_000_000_000L);
        json.put("id", snapshot.id());
        json.put("vm-state-size", snapshot.vmStateBytes());
        return json;
    }
}
