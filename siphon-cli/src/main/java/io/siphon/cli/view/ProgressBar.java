package io.siphon.cli.view;

import io.siphon.api.BlockJobInfo;
import io.siphon.cli.Sizes;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;

/**
 * A live bar on a terminal, redrawn in place: {@code Block Pull [=======>      ]  45.12 %  12.5
 * MiB/s  ETA 0:07}. Not thread-safe.
 */
final class ProgressBar implements ProgressDisplay {
    private static final int WIDTH = 30;
    private final PrintWriter err;
    private boolean drawn;

    ProgressBar(PrintWriter err) {
        this.err = err;
    }

    @Override
    public void show(BlockJobInfo info) {
        draw(info.curBytes(), info.endBytes(), info.rateBytesPerSecond(), etaText(info));
    }

    @Override
    public void complete(BlockJobInfo last) {
        draw(last.endBytes(), last.endBytes(), last.rateBytesPerSecond(), "done");
    }

    private static String etaText(BlockJobInfo info) {
        return info.eta().map(ProgressBar::clock).map(t -> "ETA " + t).orElse("ETA --:--");
    }

    static String clock(Duration eta) {
        long seconds = Math.max(0, eta.toSeconds());
        return seconds >= 3600
                ? String.format(Locale.ROOT, "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
                : String.format(Locale.ROOT, "%d:%02d", seconds / 60, seconds % 60);
    }

    /** The bar text, without the carriage return that redraws it. */
    static String render(long curBytes, long endBytes, long rateBytesPerSecond, String eta) {
        double percent = JobProgress.percent(curBytes, endBytes);
        int filled = (int) Math.floor(percent * WIDTH / 100);
        String bar = "=".repeat(filled) + (filled < WIDTH ? ">" + " ".repeat(WIDTH - filled - 1) : "");
        return String.format(
                Locale.ROOT, "Block Pull [%s] %6.2f %%  %s/s  %s", bar, percent, Sizes.human(rateBytesPerSecond), eta);
    }

    private void draw(long cur, long end, long rate, String eta) {
        // \r returns to the line start, ESC[K clears what a longer previous draw left
        err.print("\r" + render(cur, end, rate, eta) + "\u001b[K");
        err.flush();
        drawn = true;
    }

    @Override
    public void close() {
        if (drawn) {
            err.println();
            err.flush();
        }
    }
}
