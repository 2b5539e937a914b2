package io.siphon.cache;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * The process {@link ChunkCacheCrashTest} kills: reads random ranges of a made-up object through a
 * cache on the given directory (storing and evicting chunks) until it is killed.
 */
public final class ChunkCacheCrashChild {
    static final String READY = "reading";
    static final int CHUNK = 4096;
    static final int CHUNKS = 400;
    static final long LIMIT = 40L * (CHUNK + ChunkFile.TRAILER_BYTES);
    static final ObjectKey KEY = new ObjectKey("crash://object", "v1", (long) CHUNKS * CHUNK);

    private ChunkCacheCrashChild() {}

    /** The made-up object's bytes in {@code [offset, offset + dst.remaining())}. */
    static void fill(long offset, ByteBuffer dst) {
        while (dst.hasRemaining()) {
            long chunk = offset / CHUNK;
            byte[] bytes = chunkBytes(chunk);
            int within = (int) (offset - chunk * CHUNK);
            int n = Math.min(dst.remaining(), CHUNK - within);
            dst.put(bytes, within, n);
            offset += n;
        }
    }

    static byte[] chunkBytes(long chunk) {
        byte[] bytes = new byte[CHUNK];
        new Random(chunk * 7919 + 17).nextBytes(bytes);
        return bytes;
    }

    public static void main(String[] args) throws Exception {
        ChunkCache cache = ChunkCache.open(Path.of(args[0]), CHUNK, LIMIT, 4);
        Random random = new Random(Long.parseLong(args[1]));
        System.out.println(READY);
        System.out.flush();
        while (true) {
            long chunk = random.nextInt(CHUNKS - 3);
            int length = (1 + random.nextInt(3)) * CHUNK;
            ByteBuffer dst = ByteBuffer.allocate(length);
            cache.read(KEY, chunk * CHUNK, dst, ChunkCacheCrashChild::fill);
            ByteBuffer expected = ByteBuffer.allocate(length);
            fill(chunk * CHUNK, expected);
            if (!Arrays.equals(dst.array(), expected.array())) {
                System.out.println("MISMATCH at chunk " + chunk);
                System.exit(3);
            }
        }
    }
}
