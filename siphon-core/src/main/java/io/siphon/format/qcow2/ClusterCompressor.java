package io.siphon.format.qcow2;

import com.github.luben.zstd.Zstd;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Compresses one guest cluster as QEMU's qcow2_co_compress does: raw deflate (zlib, through
 * {@link ZlibDeflate}) or one zstd frame at zstd's default level, into at most a cluster less one
 * byte. A cluster that does not shrink that far is stored as it is. Thread-safe (no state).
 */
final class ClusterCompressor {
    private final Path path;
    private final int compressionType;

    ClusterCompressor(Path path, int compressionType) {
        this.path = path;
        this.compressionType = compressionType;
    }

    /**
     * Compresses the whole {@code cluster} into {@code out} (at least a cluster long); the length, or
     * -1 when the compressed form would not be smaller than {@code cluster.length - 1} bytes.
     */
    int compress(byte[] cluster, byte[] out) throws IOException {
        int limit = cluster.length - 1;
        return switch (compressionType) {
            case Qcow2Header.COMPRESSION_ZLIB -> {
                if (!ZlibDeflate.available()) {
                    throw Errors.unsupported(
                            path, "compression_type", "writing zlib clusters needs the system's zlib (libz.so.1)");
                }
                yield ZlibDeflate.compress(cluster, out, limit);
            }
            case Qcow2Header.COMPRESSION_ZSTD -> zstd(cluster, out, limit);
            default -> throw Errors.unsupported(path, "compression_type", "compression type " + compressionType);
        };
    }

    private int zstd(byte[] cluster, byte[] out, int limit) throws IOException {
        long result;
        try {
            result = Zstd.compressByteArray(out, 0, limit, cluster, 0, cluster.length, Zstd.defaultCompressionLevel());
        } catch (UnsatisfiedLinkError e) {
            throw Errors.unsupported(path, "compression_type", "zstd is not available here: " + e.getMessage());
        }
        if (Zstd.isError(result)) {
            if (Zstd.getErrorCode(result) == Zstd.errDstSizeTooSmall()) {
                return -1;
            }
            throw Errors.malformed(path, "compressed cluster", "zstd failed: " + Zstd.getErrorName(result));
        }
        return (int) result;
    }
}
