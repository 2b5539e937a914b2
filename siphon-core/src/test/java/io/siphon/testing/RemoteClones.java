package io.siphon.testing;

import io.siphon.block.BlockDevice;
import io.siphon.cache.ChunkCache;
import io.siphon.format.BackingReference;
import io.siphon.format.CreateOptions;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.format.RemoteBackingPolicy;
import io.siphon.format.qcow2.Qcow2Format;
import io.siphon.format.remote.RemoteImages;
import io.siphon.format.remote.RetryPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/** What the remote-template tests share: a random template, a cache and policy, clones made and read. */
public final class RemoteClones {
    private RemoteClones() {}

    /** {@code sizeBytes} random bytes (the seed printed, as every randomized test does). */
    public static byte[] randomTemplate(String test, int sizeBytes) {
        long seed = System.nanoTime();
        System.out.println(test + " seed " + seed);
        byte[] template = new byte[sizeBytes];
        new Random(seed).nextBytes(template);
        return template;
    }

    /**
     * Remote backings allowed, read through a 1 MiB-chunk cache in {@code cacheDir} with {@code
     * readaheadChunks}, retried every 10 to 50 ms for up to {@code timeout}.
     */
    public static RemoteBackingPolicy policy(Path cacheDir, int readaheadChunks, Duration timeout) throws IOException {
        return policy(ChunkCache.open(cacheDir, ChunkCache.DEFAULT_CHUNK_BYTES, 1L << 30, readaheadChunks), timeout);
    }

    /** Remote backings allowed, read through {@code cache}, retried every 10 to 50 ms for up to {@code timeout}. */
    public static RemoteBackingPolicy policy(ChunkCache cache, Duration timeout) {
        return RemoteBackingPolicy.allowRemote(
                new RemoteImages(cache, new RetryPolicy(Duration.ofMillis(10), Duration.ofMillis(50), timeout)));
    }

    /** Creates the qcow2 clone {@code clone} of {@code backing} (format recorded, or probed when empty). */
    public static Path create(Path clone, String backing, Optional<String> format, RemoteBackingPolicy policy)
            throws IOException {
        new Qcow2Format()
                .create(
                        clone,
                        new CreateOptions(
                                CreateOptions.SIZE_OF_BACKING,
                                Optional.of(new BackingReference(backing, format)),
                                Map.of(),
                                policy));
        return clone;
    }

    /**
     * Starts reading {@code lengthBytes} of {@code device} at {@code offsetBytes} on another thread and
     * returns once that read has asked {@code cache} for a fetch (so a server stopped before it sees
     * the request fail): outage tests restart the server then and wait for the data.
     */
    public static CompletableFuture<byte[]> readWhenFetching(
            ChunkCache cache, BlockDevice device, long offsetBytes, int lengthBytes) {
        long fetchesBefore = cache.stats().fetches();
        CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(() -> {
            try {
                ByteBuffer dst = ByteBuffer.allocate(lengthBytes);
                device.read(offsetBytes, dst);
                return dst.array();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        while (cache.stats().fetches() == fetchesBefore && !read.isDone()) {
            Thread.onSpinWait();
        }
        return read;
    }

    /** Everything the qcow2 {@code clone} reads, through its chain. */
    public static byte[] readAll(Path clone, RemoteBackingPolicy policy) throws IOException {
        try (ImageChain chain =
                ImageChain.open(clone, Optional.of("qcow2"), OpenOptions.READ_ONLY.withRemote(policy))) {
            ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(chain.top().sizeBytes()));
            chain.top().read(0, all);
            return all.array();
        }
    }
}
