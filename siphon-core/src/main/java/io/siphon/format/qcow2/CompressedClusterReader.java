package io.siphon.format.qcow2;

import com.github.luben.zstd.ZstdException;
import com.github.luben.zstd.ZstdInputStream;
import io.siphon.format.ImageFile;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reads compressed clusters: the L2 descriptor gives a host byte offset and a count of 512-byte
 * sectors; the bytes there are raw deflate (zlib, window 4 KiB and up) or a zstd frame, and
 * decompress to exactly one cluster. Thread-safe (no shared state).
 */
final class CompressedClusterReader {
    private final ImageFile file;
    private final Path path;
    private final Geometry geometry;
    private final int compressionType;

    CompressedClusterReader(ImageFile file, Geometry geometry, int compressionType) {
        this.file = file;
        this.path = file.path();
        this.geometry = geometry;
        this.compressionType = compressionType;
    }

    /** Host offset where the compressed data of {@code entry} starts. */
    long hostOffset(long entry) {
        return entry & geometry.compressedOffsetMask();
    }

    /** Bytes from {@link #hostOffset} that the descriptor covers (to the end of its last sector). */
    long storedBytes(long entry) {
        long sectors = ((entry >>> geometry.compressedSizeShift()) & geometry.compressedSectorsMask()) + 1;
        return sectors * 512 - (hostOffset(entry) & 511);
    }

    /** Decompresses the cluster {@code entry} describes into {@code cluster} (one cluster long). */
    void read(long entry, long fileEnd, byte[] cluster) throws IOException {
        long offset = hostOffset(entry);
        long stored = storedBytes(entry);
        if (offset < geometry.clusterSize() || offset >= fileEnd) {
            throw Errors.malformed(
                    path, "L2 entry", "compressed cluster at " + offset + " is in the header or past end of file");
        }
        byte[] input = new byte[(int) Math.min(stored, fileEnd - offset)];
        file.readZeroPadded(offset, ByteBuffer.wrap(input));
        switch (compressionType) {
            case Qcow2Header.COMPRESSION_ZLIB -> inflate(input, cluster, offset);
            case Qcow2Header.COMPRESSION_ZSTD -> unzstd(input, cluster, offset);
            default -> throw Errors.unsupported(path, "compression_type", "compression type " + compressionType);
        }
    }

    private void inflate(byte[] input, byte[] cluster, long offset) throws IOException {
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(input);
            int produced = 0;
            while (produced < cluster.length) {
                int n = inflater.inflate(cluster, produced, cluster.length - produced);
                produced += n;
                if (n == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
            }
            if (produced != cluster.length) {
                throw Errors.malformed(
                        path,
                        "compressed cluster",
                        "deflate data at " + offset + " gives " + produced + " bytes, not a cluster of "
                                + cluster.length);
            }
        } catch (DataFormatException e) {
            throw Errors.malformed(path, "compressed cluster", "bad deflate data at " + offset + ": " + e.getMessage());
        } finally {
            inflater.end();
        }
    }

    private void unzstd(byte[] input, byte[] cluster, long offset) throws IOException {
        int produced = 0;
        try (InputStream in = new ZstdInputStream(new ByteArrayInputStream(input))) {
            while (produced < cluster.length) {
                int n = in.read(cluster, produced, cluster.length - produced);
                if (n < 0) {
                    break;
                }
                produced += n;
            }
        } catch (UnsatisfiedLinkError e) {
            throw Errors.unsupported(path, "compression_type", "zstd is not available here: " + e.getMessage());
        } catch (ZstdException e) {
            throw Errors.malformed(path, "compressed cluster", "bad zstd data at " + offset + ": " + e.getMessage());
        } catch (IOException e) {
            if (produced < cluster.length) {
                throw Errors.malformed(
                        path, "compressed cluster", "bad zstd data at " + offset + ": " + e.getMessage());
            }
        }
        if (produced != cluster.length) {
            throw Errors.malformed(
                    path,
                    "compressed cluster",
                    "zstd data at " + offset + " gives " + produced + " bytes, not a cluster of " + cluster.length);
        }
    }
}
