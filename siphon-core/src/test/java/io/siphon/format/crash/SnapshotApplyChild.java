package io.siphon.format.crash;

import io.siphon.format.Formats;
import java.nio.file.Path;

/** Run in a child JVM with {@code -Dsiphon.crash-point=POINT@N}: applies snapshot {@code args[1]} of qcow2 {@code args[0]}. */
public final class SnapshotApplyChild {
    private SnapshotApplyChild() {}

    public static void main(String[] args) throws Exception {
        Formats.byName("qcow2").applySnapshot(Path.of(args[0]), args[1]);
        Runtime.getRuntime().halt(0);
    }
}
