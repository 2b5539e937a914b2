package io.siphon.testing;

import java.util.List;

/**
 * The named crash points of each image format's metadata write order ({@code
 * io.siphon.util.CrashPoints}), for the crash tests of the engine and of the daemon.
 */
public final class ImageCrashPoints {
    public static final List<String> QCOW2 = List.of(
            "qcow2.data.written",
            "qcow2.flush.refcount_raises.before",
            "qcow2.flush.refcount_raises.after",
            "qcow2.flush.l2_tables.before",
            "qcow2.flush.l2_tables.after",
            "qcow2.flush.l1_entries.before",
            "qcow2.flush.l1_entries.after",
            "qcow2.flush.refcount_decrements.before",
            "qcow2.flush.refcount_decrements.after",
            "qcow2.header.before",
            "qcow2.header.written",
            "qcow2.header.flushed");
    public static final List<String> QED = List.of(
            "qed.data.written",
            "qed.l2.new.written",
            "qed.l2.new.flushed",
            "qed.l1.written",
            "qed.l2.entries.written",
            "qed.header.before",
            "qed.header.written",
            "qed.header.flushed");

    private ImageCrashPoints() {}

    /** The points of {@code format} ("qcow2" or "qed"). */
    public static List<String> of(String format) {
        return format.equals("qcow2") ? QCOW2 : QED;
    }
}
