package io.siphon.cli.view;

import io.siphon.api.BlockJobInfo;
import java.io.PrintWriter;

/**
 * virsh's progress, {@code Block Pull: [ 45.12 %]}, one line each time the figure changes, for logs and
 * pipes (virsh itself overwrites one line with carriage returns).
 */
final class ProgressLines implements ProgressDisplay {
    private final PrintWriter err;
    private String last = "";

    ProgressLines(PrintWriter err) {
        this.err = err;
    }

    @Override
    public void show(BlockJobInfo info) {
        print(JobProgress.line(info));
    }

    @Override
    public void complete(BlockJobInfo last) {
        print(JobProgress.line(last.type(), last.endBytes(), last.endBytes()));
    }

    private void print(String line) {
        if (!line.equals(last)) {
            err.println(line);
            err.flush();
            last = line;
        }
    }

    @Override
    public void close() {}
}
