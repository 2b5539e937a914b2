package io.siphon.format.crash;

import io.siphon.format.Formats;
import io.siphon.format.ImageFormat;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Run in a child JVM with {@code -Dsiphon.crash-point=POINT@N}: one qcow2 format call on {@code
 * args[1]}, {@code apply NAME} (snapshot -a), {@code empty} (what commit leaves of the top) or
 * {@code amend NAME VALUE} (amend -o NAME=VALUE), or {@code write} (the guest writes of {@link
 * SnapshotWriteCrashTest}, then a flush).
 */
public final class FormatCallChild {
    private FormatCallChild() {}

    public static void main(String[] args) throws Exception {
        Path image = Path.of(args[1]);
        switch (args[0]) {
            case "apply" -> Formats.byName("qcow2").applySnapshot(image, args[2]);
            case "empty" -> Formats.byName("qcow2").makeEmpty(image);
            case "amend" ->
                Formats.byName("qcow2").amend(image, Map.of(args[2], args[3]), ImageFormat.AmendProgress.NONE);
            case "write" -> SnapshotWriteCrashTest.writeAll(image);
            default -> throw new IllegalArgumentException("unknown call " + args[0]);
        }
        Runtime.getRuntime().halt(0);
    }

    /** Runs {@code call} in a child that dies at {@code point@at}; its exit status. */
    static int run(String point, int at, String... call) throws Exception {
        List<String> command = ChildJvm.command(point, at, FormatCallChild.class, call);
        Process child = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!child.waitFor(60, TimeUnit.SECONDS)) {
            child.destroyForcibly();
            throw new AssertionError("the child did not end");
        }
        return child.exitValue();
    }
}
