package io.siphon.qemu;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One image of a running disk's chain as QEMU holds it: a file node and a format node over it.
 *
 * @param path the image file
 * @param format its format driver (qcow2, qed, raw)
 * @param storageNode the {@code file} node's name
 * @param formatNode the format node's name
 */
record ChainNode(Path path, String format, String storageNode, String formatNode) {
    ChainNode {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(storageNode, "storageNode");
        Objects.requireNonNull(formatNode, "formatNode");
    }

    /** The nodes of image {@code depth} (0 = top) of disk {@code diskIndex}: short, as QEMU wants (31 chars at most). */
    static ChainNode of(int diskIndex, int depth, Path path, String format) {
        return new ChainNode(path, format, "d" + diskIndex + "-s" + depth, "d" + diskIndex + "-f" + depth);
    }
}
