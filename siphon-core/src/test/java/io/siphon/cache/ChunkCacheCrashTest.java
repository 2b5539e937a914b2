package io.siphon.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.testing.KilledChild;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills (SIGKILL) a process in the middle of filling and evicting a cache directory, at random
 * moments, then opens the cache: it opens, no temporary file is left, and every chunk it serves is
 * the object's (-Dsiphon.crash.iterations=N).
 */
class ChunkCacheCrashTest {
    @TempDir
    Path dir;

    @Test
    void aKillAtAnyMomentLeavesACacheThatOpensAndServesOnlyWholeChunks() throws Exception {
        int iterations = Integer.getInteger("siphon.crash.iterations", 12);
        long seed = Long.getLong("siphon.crash.seed", System.nanoTime());
        System.out.println("cache crash seed " + seed + ", " + iterations + " kills");
        Random random = new Random(seed);
        Path cacheDir = dir.resolve("cache");
        for (int i = 0; i < iterations; i++) {
            long killAfterMillis = random.nextInt(400);
            runAndKill(cacheDir, random.nextLong(), killAfterMillis);
            String where = "iteration " + i + " (seed " + seed + ", kill after " + killAfterMillis + " ms)";
            ChunkCache cache = ChunkCache.open(cacheDir, ChunkCacheCrashChild.CHUNK, ChunkCacheCrashChild.LIMIT, 1);
            // the last pass below left a full cache; the killed child only replaced chunks of it
            assertTrue(i == 0 || cache.stats().storedBytes() > 0, where + ": the cache lost its chunks");
            try (Stream<Path> files = Files.walk(cacheDir)) {
                assertEquals(
                        0,
                        files.filter(f -> f.toString().endsWith(ChunkFile.TEMP_SUFFIX))
                                .count(),
                        where);
            }
            for (int chunk = 0; chunk < ChunkCacheCrashChild.CHUNKS; chunk++) {
                ByteBuffer dst = ByteBuffer.allocate(ChunkCacheCrashChild.CHUNK);
                cache.read(
                        ChunkCacheCrashChild.KEY,
                        (long) chunk * ChunkCacheCrashChild.CHUNK,
                        dst,
                        ChunkCacheCrashChild::fill);
                assertArrayEquals(ChunkCacheCrashChild.chunkBytes(chunk), dst.array(), where + ", chunk " + chunk);
            }
        }
    }

    private static void runAndKill(Path cacheDir, long childSeed, long killAfterMillis) throws Exception {
        KilledChild.runAndKill(
                ChunkCacheCrashChild.class,
                List.of(cacheDir.toString(), Long.toString(childSeed)),
                ChunkCacheCrashChild.READY,
                killAfterMillis);
    }
}
