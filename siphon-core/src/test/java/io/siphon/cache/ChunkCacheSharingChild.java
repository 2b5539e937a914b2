package io.siphon.cache;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * One of the processes {@link ChunkCacheSharingTest} runs at once on one cache directory: reads the
 * whole made-up object of {@link ChunkCacheCrashChild} one chunk at a time over a slow "link" (each
 * fetch takes 20 ms), appending each fetched range to a shared log; exits 0 when all it read is right.
 */
public final class ChunkCacheSharingChild {
    private ChunkCacheSharingChild() {}

    public static void main(String[] args) throws Exception {
        Path log = Path.of(args[1]);
        int chunks = Integer.parseInt(args[2]);
        ChunkCache cache = ChunkCache.open(Path.of(args[0]), ChunkCacheCrashChild.CHUNK, 1L << 30, 1);
        ChunkFetcher slow = (offset, dst) -> {
            Files.writeString(
                    log,
                    offset / ChunkCacheCrashChild.CHUNK + " " + dst.remaining() / ChunkCacheCrashChild.CHUNK + "\n",
                    StandardCharsets.US_ASCII,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new java.io.InterruptedIOException();
            }
            ChunkCacheCrashChild.fill(offset, dst);
        };
        for (int chunk = 0; chunk < chunks; chunk++) {
            ByteBuffer dst = ByteBuffer.allocate(ChunkCacheCrashChild.CHUNK);
            cache.read(ChunkCacheCrashChild.KEY, (long) chunk * ChunkCacheCrashChild.CHUNK, dst, slow);
            if (!Arrays.equals(dst.array(), ChunkCacheCrashChild.chunkBytes(chunk))) {
                System.exit(3);
            }
        }
    }
}
