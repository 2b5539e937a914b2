package io.siphon.cli.view;

import io.siphon.api.BlockJobInfo;
import java.io.PrintWriter;

/** Where {@code blockpull --wait --verbose} shows a running job's progress. Not thread-safe. */
public sealed interface ProgressDisplay permits ProgressLines, ProgressBar {
    /** Shows {@code info}, a fresh poll of the job. */
    public void show(BlockJobInfo info);

    /** Shows that the job has copied everything. */
    public void complete(BlockJobInfo last);

    /** Ends the display (a bar ends its line), before the outcome is printed. */
    public void close();

    /** A live bar on a terminal, else virsh's lines; {@code terminal} says what stderr is. */
    public static ProgressDisplay on(PrintWriter err, boolean terminal) {
        return terminal ? new ProgressBar(err) : new ProgressLines(err);
    }
}
