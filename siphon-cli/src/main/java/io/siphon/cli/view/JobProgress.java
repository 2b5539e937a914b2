package io.siphon.cli.view;

import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobType;
import java.util.Locale;

/** A block job's progress in virsh's words: {@code Block Pull: [ 45.12 %]}. Stateless. */
public final class JobProgress {
    private JobProgress() {}

    /** virsh's name of a job type, as {@code blockjob --info} and {@code event} print it. */
    public static String label(BlockJobType type) {
        return switch (type) {
            case PULL -> "Block Pull";
        };
    }

    /** virsh's name of a job type in {@code blockjob --raw}. */
    public static String rawName(BlockJobType type) {
        return switch (type) {
            case PULL -> "Pull";
        };
    }

    /**
     * The percentage done, cut (not rounded) to two decimals as virsh does, and below 100 until
     * nothing remains; 100 for an empty job.
     */
    public static double percent(long curBytes, long endBytes) {
        long remaining = endBytes - curBytes;
        if (remaining <= 0 || endBytes <= 0) {
            return 100.0;
        }
        double progress = (double) curBytes * 100 / endBytes;
        progress = Math.floor(progress * 100) / 100.0;
        return Math.min(progress, 99.99);
    }

    /** {@code Block Pull: [ 45.12 %]}. */
    public static String line(BlockJobType type, long curBytes, long endBytes) {
        return String.format(Locale.ROOT, "%s: [%5.2f %%]", label(type), percent(curBytes, endBytes));
    }

    /** {@code line} of {@code info}. */
    public static String line(BlockJobInfo info) {
        return line(info.type(), info.curBytes(), info.endBytes());
    }

    /** A byte count as virsh's {@code vshPrettyCapacity} shows it, e.g. {@code 10.000 MiB}. */
    public static String prettyCapacity(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        int unit = 0;
        double value = bytes;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.3f %s", value, units[unit]);
    }
}
