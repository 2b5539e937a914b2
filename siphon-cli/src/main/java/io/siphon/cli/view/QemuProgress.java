package io.siphon.cli.view;

import java.io.PrintWriter;
import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * qemu-img's {@code -p} progress on stdout: {@code "    (12.34/100%)\r"} at the start, each time it
 * has moved on by at least one percent, and at 100; the end adds a newline. Thread-safe.
 */
public final class QemuProgress {
    private static final double MIN_STEP_PERCENT = 1.0;

    private final PrintWriter out;
    private final boolean enabled;
    private double lastPrinted = -MIN_STEP_PERCENT;

    public QemuProgress(PrintWriter out, boolean enabled) {
        this.out = out;
        this.enabled = enabled;
    }

    public synchronized void update(long doneBytes, long totalBytes) {
        double percent = totalBytes == 0 ? 100 : Math.min(100, 100.0 * doneBytes / totalBytes);
        if (percent - lastPrinted >= MIN_STEP_PERCENT || (percent == 100 && lastPrinted < 100)) {
            print(percent);
        }
    }

    /**
     * As {@link #update}, printing a report of 0 or 100 percent every time, as qemu_progress_print
     * does for what a block driver reports (amend's status callback).
     */
    public synchronized void updateFromDriver(long done, long total) {
        // qemu-img computes this one in single precision (100.f * offset / total_work_size)
        double percent = total == 0 ? 100 : Math.min(100, 100.0f * done / total);
        if (percent == 0 || percent == 100) {
            print(percent);
        } else {
            update(done, total);
        }
    }

    /** The 100% line again and the newline, as qemu-img ends a copy (convert, rebase). */
    public synchronized void end() {
        if (enabled) {
            print(100);
        }
        newline();
    }

    /** Only the newline, as qemu-img ends compare's progress (after its verdict). */
    public synchronized void newline() {
        if (enabled) {
            out.print('\n');
            out.flush();
        }
    }

    private void print(double percent) {
        lastPrinted = percent;
        if (enabled) {
            // as C's printf: the exact binary value rounded half to even (3.125 prints 3.12)
            out.print("    (" + new BigDecimal(percent).setScale(2, RoundingMode.HALF_EVEN) + "/100%)\r");
            out.flush();
        }
    }
}
