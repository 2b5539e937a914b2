package io.siphon.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkCacheTest {
    private static final int CHUNK = 4096;

    @TempDir
    Path dir;

    private final byte[] object = new byte[10 * CHUNK + 100];
    private final AtomicInteger fetches = new AtomicInteger();
    private final ObjectKey key = new ObjectKey("http://example/t.img", "etag=1", object.length);

    ChunkCacheTest() {
        long seed = System.nanoTime();
        System.out.println("ChunkCacheTest seed " + seed);
        new Random(seed).nextBytes(object);
    }

    private final ChunkFetcher fetcher = (offset, dst) -> {
        fetches.incrementAndGet();
        dst.put(object, (int) offset, dst.remaining());
    };

    private byte[] read(ChunkCache cache, long offset, int length) throws IOException {
        ByteBuffer dst = ByteBuffer.allocate(length);
        cache.read(key, offset, dst, fetcher);
        return dst.array();
    }

    private byte[] expected(long offset, int length) {
        byte[] out = new byte[length];
        System.arraycopy(object, (int) offset, out, 0, length);
        return out;
    }

    @Test
    void readsAcrossChunksAndTheShortLastChunk() throws IOException {
        ChunkCache cache = ChunkCache.open(dir, CHUNK, 1 << 20, 1);
        assertArrayEquals(expected(CHUNK - 10, 2 * CHUNK), read(cache, CHUNK - 10, 2 * CHUNK));
        assertArrayEquals(expected(object.length - 150, 150), read(cache, object.length - 150, 150));
    }

    @Test
    void aChunkIsFetchedOnceAndSharedWithALaterCacheOnTheSameDirectory() throws IOException {
        ChunkCache first = ChunkCache.open(dir, CHUNK, 1 << 20, 1);
        read(first, 0, object.length);
        int fetched = fetches.get();
        read(first, 0, object.length);
        assertEquals(fetched, fetches.get());
        ChunkCache second = ChunkCache.open(dir, CHUNK, 1 << 20, 1);
        assertArrayEquals(object, read(second, 0, object.length));
        assertEquals(fetched, fetches.get(), "a second cache on the directory fetches nothing");
    }

    @Test
    void concurrentReadersOfOneChunkShareOneFetch() throws Exception {
        CountDownLatch fetchStarted = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ChunkFetcher slow = (offset, dst) -> {
            fetches.incrementAndGet();
            fetchStarted.countDown();
            try {
                assertTrue(release.await(30, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            dst.put(object, (int) offset, dst.remaining());
        };
        ChunkCache cache = ChunkCache.open(dir, CHUNK, 1 << 20, 1);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<?> owner = pool.submit(() -> {
                cache.read(key, 100, ByteBuffer.allocate(10), slow);
                return null;
            });
            assertTrue(fetchStarted.await(30, TimeUnit.SECONDS));
            List<Future<byte[]>> waiters = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                int offset = i * 100;
                waiters.add(pool.submit(() -> {
                    ByteBuffer dst = ByteBuffer.allocate(50);
                    cache.read(key, offset, dst, slow);
                    return dst.array();
                }));
            }
            release.countDown();
            owner.get(30, TimeUnit.SECONDS);
            for (int i = 0; i < waiters.size(); i++) {
                assertArrayEquals(expected(i * 100, 50), waiters.get(i).get(30, TimeUnit.SECONDS));
            }
        }
        assertEquals(1, fetches.get());
    }

    @Test
    void aSequentialReaderFetchesAheadInOneRequest() throws IOException {
        ChunkCache cache = ChunkCache.open(dir, CHUNK, 1 << 20, 4);
        read(cache, 0, 10);
        read(cache, CHUNK, 10);
        assertEquals(2, fetches.get());
        read(cache, 2 * CHUNK, 3 * CHUNK);
        assertEquals(2, fetches.get(), "chunks 1..4 came in the second request");
        assertEquals(5 * CHUNK, cache.stats().fetchedBytes());
    }

    @Test
    void aTornOrCorruptChunkFileIsNeverServed() throws IOException {
        ChunkCache cache = ChunkCache.open(dir, CHUNK, 1 << 20, 1);
        read(cache, 0, CHUNK);
        Path chunk0 = dir.resolve(key.directoryName()).resolve("0");
        byte[] stored = Files.readAllBytes(chunk0);
        Files.write(chunk0, java.util.Arrays.copyOf(stored, CHUNK / 2)); // torn
        ChunkCache reopened = ChunkCache.open(dir, CHUNK, 1 << 20, 1);
        assertArrayEquals(expected(0, CHUNK), read(reopened, 0, CHUNK));
        assertEquals(1, reopened.stats().rejectedChunks());

        stored = Files.readAllBytes(chunk0);
        stored[7] ^= 1; // a flipped bit in the data
        Files.write(chunk0, stored);
        ChunkCache again = ChunkCache.open(dir, CHUNK, 1 << 20, 1);
        assertArrayEquals(expected(0, CHUNK), read(again, 0, CHUNK));
        assertEquals(1, again.stats().rejectedChunks());
    }

    @Test
    void temporaryFilesOfAKilledWriterAreRemovedOnOpen() throws IOException {
        Path keyDir = Files.createDirectories(dir.resolve(key.directoryName()));
        Path leftover = Files.write(keyDir.resolve("3.deadbeef.tmp"), new byte[100]);
        ChunkCache cache = ChunkCache.open(dir, CHUNK, 1 << 20, 1);
        assertFalse(Files.exists(leftover));
        assertArrayEquals(expected(3 * CHUNK, 10), read(cache, 3 * CHUNK, 10));
    }

    @Test
    void theLeastRecentlyUsedChunksAreEvictedAtTheLimit() throws IOException {
        long limit = 3L * (CHUNK + ChunkFile.TRAILER_BYTES);
        ChunkCache cache = ChunkCache.open(dir, CHUNK, limit, 1);
        read(cache, 0, 1);
        read(cache, 2 * CHUNK, 1);
        read(cache, 4 * CHUNK, 1);
        read(cache, 0, 1); // chunk 0 is now the most recent
        read(cache, 6 * CHUNK, 1);
        Path keyDir = dir.resolve(key.directoryName());
        assertTrue(Files.exists(keyDir.resolve("0")));
        assertFalse(Files.exists(keyDir.resolve("2")), "the least recently used chunk is evicted");
        assertTrue(cache.stats().storedBytes() <= limit);
    }

    @Test
    void anotherVersionOfTheObjectIsAnotherKey() throws IOException {
        ChunkCache cache = ChunkCache.open(dir, CHUNK, 1 << 20, 1);
        read(cache, 0, 10);
        ObjectKey changed = new ObjectKey(key.identity(), "etag=2", key.sizeBytes());
        byte[] other = new byte[10];
        cache.read(changed, 0, ByteBuffer.wrap(other), (offset, dst) -> {
            fetches.incrementAndGet();
            while (dst.hasRemaining()) {
                dst.put((byte) 7);
            }
        });
        assertEquals(2, fetches.get());
        assertEquals(7, other[0]);
        assertArrayEquals(expected(0, 10), read(cache, 0, 10));
    }

    @Test
    void aFailedFetchCachesNothingAndFailsEveryReader() throws IOException {
        ChunkCache cache = ChunkCache.open(dir, CHUNK, 1 << 20, 1);
        IOException failure = assertThrows(
                IOException.class,
                () -> cache.read(key, 0, ByteBuffer.allocate(10), (offset, dst) -> {
                    throw new IOException("store down");
                }));
        assertEquals("store down", failure.getMessage());
        assertArrayEquals(expected(0, 10), read(cache, 0, 10));
        assertEquals(1, fetches.get());
    }
}
