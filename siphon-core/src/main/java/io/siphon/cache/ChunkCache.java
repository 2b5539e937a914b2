package io.siphon.cache;

import io.siphon.util.Checked;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The host-wide cache of remote objects, in fixed-size chunks, each fetched once and then shared by
 * every clone and job that reads the object. Chunks live in memory (a bounded LRU) and, when the
 * cache has a directory, in files under it ({@code DIR/KEY/INDEX}, see {@link ChunkFile}), so that
 * other processes on the host share them too. The directory is bounded by a size limit with
 * least-recently-used eviction.
 *
 * <p>Concurrent reads of one missing chunk are coalesced into one fetch: in the process by one
 * future per chunk, among processes by a record lock on the chunks' range of {@code DIR/KEY/lock}
 * taken before fetching (a process that waited finds the chunks stored). A miss whose previous chunk
 * is cached (a sequential reader) fetches the next {@code readaheadChunks} missing chunks in the same
 * range request. Thread-safe; one instance per directory in a process ({@link #shared}).
 */
public final class ChunkCache {
    /** The chunk size: large enough that a range request is worth its round trip. */
    public static final int DEFAULT_CHUNK_BYTES = 1 << 20;

    private static final int DEFAULT_READAHEAD_CHUNKS = 8;
    private static final long MEMORY_LIMIT_BYTES = 64L << 20;
    private static final Map<Path, ChunkCache> SHARED = new ConcurrentHashMap<>();
    private static final String LOCK_FILE = "lock";

    private final Optional<Path> directory;
    private final int chunkBytes;
    private final long limitBytes;
    private final int readaheadChunks;
    private final long memoryLimitBytes;
    /** Guarded by itself; access order is recency. */
    private final LinkedHashMap<ChunkId, ByteBuffer> memory = new LinkedHashMap<>(16, 0.75f, true);

    private long memoryBytes;
    /** Chunk files and their sizes; guarded by itself; access order is recency. */
    private final LinkedHashMap<Path, Long> stored = new LinkedHashMap<>(16, 0.75f, true);

    private long storedBytes;
    private final Map<ChunkId, CompletableFuture<ByteBuffer>> inFlight = new ConcurrentHashMap<>();
    /** Per object, the file whose byte ranges lock chunk fetches among processes; open for the process's life. */
    private final Map<ObjectKey, FileChannel> lockFiles = new ConcurrentHashMap<>();

    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong fetches = new AtomicLong();
    private final AtomicLong fetchedBytes = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();

    private record ChunkId(ObjectKey key, long index) {}

    private ChunkCache(Optional<Path> directory, int chunkBytes, long limitBytes, int readaheadChunks) {
        if (chunkBytes < 4096 || Integer.bitCount(chunkBytes) != 1) {
            throw new IllegalArgumentException("chunk size " + chunkBytes + " is not a power of two of 4 KiB or more");
        }
        if (limitBytes < chunkBytes) {
            throw new IllegalArgumentException(
                    "cache limit " + limitBytes + " is below one chunk (" + chunkBytes + ")");
        }
        this.directory = directory;
        this.chunkBytes = chunkBytes;
        this.limitBytes = limitBytes;
        this.readaheadChunks = Math.max(1, readaheadChunks);
        this.memoryLimitBytes = directory.isPresent() ? Math.min(MEMORY_LIMIT_BYTES, limitBytes) : limitBytes;
    }

    /**
     * The process's cache on {@code directory} (created if missing), opened on first use with
     * {@code limitBytes}; later calls get the same instance, whatever limit they name.
     */
    public static ChunkCache shared(Path directory, long limitBytes) throws IOException {
        Path key = directory.toAbsolutePath().normalize();
        try {
            return SHARED.computeIfAbsent(key, dir -> {
                try {
                    return open(dir, DEFAULT_CHUNK_BYTES, limitBytes, DEFAULT_READAHEAD_CHUNKS);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /**
     * Opens a cache on {@code directory}: removes temporary files a killed writer left, and indexes
     * the chunk files there by their modification time (oldest evicted first).
     */
    public static ChunkCache open(Path directory, int chunkBytes, long limitBytes, int readaheadChunks)
            throws IOException {
        ChunkCache cache = new ChunkCache(Optional.of(directory), chunkBytes, limitBytes, readaheadChunks);
        cache.scan(directory);
        return cache;
    }

    /** A cache in memory only, bounded by {@code limitBytes}. */
    public static ChunkCache inMemory(int chunkBytes, long limitBytes, int readaheadChunks) {
        return new ChunkCache(Optional.empty(), chunkBytes, limitBytes, readaheadChunks);
    }

    public int chunkBytes() {
        return chunkBytes;
    }

    public CacheStats stats() {
        synchronized (stored) {
            return new CacheStats(hits.get(), fetches.get(), fetchedBytes.get(), storedBytes, rejected.get());
        }
    }

    /**
     * Copies {@code dst.remaining()} bytes of {@code key}'s object at {@code offsetBytes} into {@code
     * dst}, from cached chunks, fetching the missing ones with {@code fetcher}. A failed fetch caches
     * nothing and is thrown to every reader waiting on it.
     */
    public void read(ObjectKey key, long offsetBytes, ByteBuffer dst, ChunkFetcher fetcher) throws IOException {
        Checked.requireWithin(offsetBytes, dst.remaining(), key.sizeBytes());
        long position = offsetBytes;
        while (dst.hasRemaining()) {
            long index = position / chunkBytes;
            int within = (int) (position - index * chunkBytes);
            ByteBuffer chunk = chunk(key, index, fetcher);
            int n = Math.min(dst.remaining(), chunk.remaining() - within);
            dst.put(dst.position(), chunk, within, n);
            dst.position(dst.position() + n);
            position += n;
        }
    }

    private ByteBuffer chunk(ObjectKey key, long index, ChunkFetcher fetcher) throws IOException {
        ChunkId id = new ChunkId(key, index);
        while (true) {
            Optional<ByteBuffer> cached = cached(id);
            if (cached.isPresent()) {
                hits.incrementAndGet();
                return cached.get();
            }
            CompletableFuture<ByteBuffer> mine = new CompletableFuture<>();
            CompletableFuture<ByteBuffer> theirs = inFlight.putIfAbsent(id, mine);
            if (theirs != null) {
                return await(theirs);
            }
            // a chunk stored between the lookup and the claim needs no fetch
            Optional<ByteBuffer> stored = cached(id);
            if (stored.isPresent()) {
                inFlight.remove(id, mine);
                mine.complete(stored.get());
                hits.incrementAndGet();
                return stored.get();
            }
            List<CompletableFuture<ByteBuffer>> claimed = new ArrayList<>(List.of(mine));
            if (index > 0 && isCached(new ChunkId(key, index - 1))) {
                claimReadahead(key, index, claimed);
            }
            fetchClaimed(key, index, claimed, fetcher);
            return mine.join();
        }
    }

    private void claimReadahead(ObjectKey key, long first, List<CompletableFuture<ByteBuffer>> claimed) {
        long chunks = chunkCount(key);
        for (long next = first + 1; next < chunks && claimed.size() < readaheadChunks; next++) {
            ChunkId id = new ChunkId(key, next);
            if (isCached(id)) {
                return;
            }
            CompletableFuture<ByteBuffer> future = new CompletableFuture<>();
            if (inFlight.putIfAbsent(id, future) != null) {
                return;
            }
            claimed.add(future);
        }
    }

    /** Fetches chunks {@code [first, first + claimed.size())} in one request and completes their futures. */
    /**
     * Fetches the claimed chunks under the host lock of their range, so that processes sharing the
     * directory fetch each chunk once: what another process stored while this one waited is read
     * from its file instead.
     */
    private void fetchClaimed(
            ObjectKey key, long first, List<CompletableFuture<ByteBuffer>> claimed, ChunkFetcher fetcher)
            throws IOException {
        if (directory.isEmpty()) {
            fetchRange(key, first, claimed, fetcher);
            return;
        }
        Optional<FileLock> lock;
        try {
            lock = hostLock(key, first, claimed.size());
        } catch (IOException | RuntimeException e) {
            failAll(key, first, claimed, e);
            throw e;
        }
        try {
            int done = 0;
            while (done < claimed.size()) {
                ChunkId id = new ChunkId(key, first + done);
                Optional<ByteBuffer> stored = fromDisk(id);
                if (stored.isEmpty()) {
                    break;
                }
                hits.incrementAndGet();
                inFlight.remove(id);
                claimed.get(done).complete(stored.get());
                done++;
            }
            if (done < claimed.size()) {
                fetchRange(key, first + done, claimed.subList(done, claimed.size()), fetcher);
            }
        } finally {
            if (lock.isPresent()) {
                lock.get().release();
            }
        }
    }

    /**
     * An exclusive lock on chunks {@code [first, first + count)} of {@code key} among the processes
     * sharing the directory (a POSIX record lock on {@code KEY/lock}, one byte per chunk), or empty
     * when this process already holds an overlapping one (a chunk evicted from memory and claimed
     * again meanwhile): then the fetch goes ahead unlocked, which costs at most a second fetch.
     */
    private Optional<FileLock> hostLock(ObjectKey key, long first, int count) throws IOException {
        FileChannel channel;
        try {
            channel = lockFiles.computeIfAbsent(key, k -> {
                try {
                    Path keyDir =
                            Files.createDirectories(directory.orElseThrow().resolve(k.directoryName()));
                    return FileChannel.open(
                            keyDir.resolve(LOCK_FILE),
                            StandardOpenOption.CREATE,
                            StandardOpenOption.READ,
                            StandardOpenOption.WRITE);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        try {
            return Optional.of(channel.lock(first, count, false));
        } catch (OverlappingFileLockException e) {
            return Optional.empty();
        }
    }

    private void failAll(ObjectKey key, long first, List<CompletableFuture<ByteBuffer>> claimed, Throwable e) {
        for (int i = 0; i < claimed.size(); i++) {
            inFlight.remove(new ChunkId(key, first + i));
            claimed.get(i).completeExceptionally(e);
        }
    }

    /** Fetches chunks {@code [first, first + claimed.size())} in one request and completes their futures. */
    private void fetchRange(
            ObjectKey key, long first, List<CompletableFuture<ByteBuffer>> claimed, ChunkFetcher fetcher)
            throws IOException {
        long start = first * chunkBytes;
        long end = Math.min(key.sizeBytes(), start + (long) claimed.size() * chunkBytes);
        ByteBuffer range = ByteBuffer.allocate(Math.toIntExact(end - start));
        try {
            fetches.incrementAndGet();
            fetcher.fetch(start, range);
            if (range.hasRemaining()) {
                throw new IOException(key.identity() + ": fetch at offset " + start + " returned " + range.position()
                        + " of " + range.capacity() + " bytes");
            }
            fetchedBytes.addAndGet(range.capacity());
        } catch (IOException | RuntimeException e) {
            failAll(key, first, claimed, e);
            throw e;
        }
        IOException storeFailure = null;
        for (int i = 0; i < claimed.size(); i++) {
            ChunkId id = new ChunkId(key, first + i);
            int from = i * chunkBytes;
            ByteBuffer chunk = range.slice(from, Math.min(chunkBytes, range.capacity() - from))
                    .asReadOnlyBuffer();
            remember(id, chunk);
            try {
                store(id, chunk);
            } catch (IOException e) {
                // the data is good and in memory; only sharing it through the directory failed
                storeFailure = storeFailure == null ? e : storeFailure;
            }
            inFlight.remove(id);
            claimed.get(i).complete(chunk);
        }
        if (storeFailure != null) {
            org.slf4j.LoggerFactory.getLogger(ChunkCache.class)
                    .warn("chunk cache: could not store a chunk of {}: {}", key.identity(), storeFailure.toString());
        }
    }

    private static ByteBuffer await(CompletableFuture<ByteBuffer> future) throws IOException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a chunk fetch");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("chunk fetch failed", e.getCause());
        }
    }

    private long chunkCount(ObjectKey key) {
        return (key.sizeBytes() + chunkBytes - 1) / chunkBytes;
    }

    private int chunkLength(ChunkId id) {
        return (int) Math.min(chunkBytes, id.key().sizeBytes() - id.index() * chunkBytes);
    }

    private boolean isCached(ChunkId id) {
        synchronized (memory) {
            if (memory.containsKey(id)) {
                return true;
            }
        }
        if (directory.isEmpty()) {
            return false;
        }
        Path path = chunkPath(id);
        synchronized (stored) {
            if (stored.containsKey(path)) {
                return true;
            }
        }
        return Files.exists(path); // stored by another process
    }

    private Optional<ByteBuffer> cached(ChunkId id) throws IOException {
        ByteBuffer inMemory;
        synchronized (memory) {
            inMemory = memory.get(id);
        }
        if (directory.isEmpty()) {
            return Optional.ofNullable(inMemory).map(ByteBuffer::duplicate);
        }
        Path path = chunkPath(id);
        if (inMemory != null) {
            synchronized (stored) {
                stored.get(path); // a use: the file's recency follows the chunk's
            }
            return Optional.of(inMemory.duplicate());
        }
        return fromDisk(id);
    }

    /** The chunk's file (this process's or another's), loaded into memory and the index, if it is whole. */
    private Optional<ByteBuffer> fromDisk(ChunkId id) throws IOException {
        Path path = chunkPath(id);
        Optional<ByteBuffer> loaded = ChunkFile.read(path, chunkLength(id), rejected::incrementAndGet);
        synchronized (stored) {
            if (loaded.isPresent()) {
                // another process may have stored it; it is ours to evict now too
                if (stored.putIfAbsent(path, (long) chunkLength(id) + ChunkFile.TRAILER_BYTES) == null) {
                    storedBytes += chunkLength(id) + ChunkFile.TRAILER_BYTES;
                }
            } else {
                Long size = stored.remove(path);
                storedBytes -= size == null ? 0 : size;
            }
        }
        if (loaded.isPresent()) {
            touch(path);
            ByteBuffer chunk = loaded.get().asReadOnlyBuffer();
            remember(id, chunk);
            return Optional.of(chunk.duplicate());
        }
        return Optional.empty();
    }

    private void remember(ChunkId id, ByteBuffer chunk) {
        synchronized (memory) {
            if (memory.put(id, chunk) == null) {
                memoryBytes += chunk.capacity();
            }
            Iterator<Map.Entry<ChunkId, ByteBuffer>> eldest = memory.entrySet().iterator();
            while (memoryBytes > memoryLimitBytes && eldest.hasNext()) {
                memoryBytes -= eldest.next().getValue().capacity();
                eldest.remove();
            }
        }
    }

    private void store(ChunkId id, ByteBuffer chunk) throws IOException {
        if (directory.isEmpty()) {
            return;
        }
        Path path = chunkPath(id);
        Files.createDirectories(path.getParent());
        ChunkFile.write(path, chunk);
        List<Path> evicted;
        synchronized (stored) {
            if (stored.put(path, (long) chunk.remaining() + ChunkFile.TRAILER_BYTES) == null) {
                storedBytes += chunk.remaining() + ChunkFile.TRAILER_BYTES;
            }
            evicted = overLimit();
        }
        deleteAll(evicted);
    }

    /** Drops the least recently used chunk files until the directory fits the limit; holds {@code stored}. */
    private List<Path> overLimit() {
        List<Path> evicted = new ArrayList<>();
        Iterator<Map.Entry<Path, Long>> eldest = stored.entrySet().iterator();
        while (storedBytes > limitBytes && eldest.hasNext()) {
            Map.Entry<Path, Long> entry = eldest.next();
            storedBytes -= entry.getValue();
            evicted.add(entry.getKey());
            eldest.remove();
        }
        return evicted;
    }

    private static void deleteAll(List<Path> files) throws IOException {
        for (Path file : files) {
            Files.deleteIfExists(file);
        }
    }

    /** Marks a chunk file used, so that a cache opened later evicts it after older ones. */
    private static void touch(Path path) {
        try {
            Files.setLastModifiedTime(path, FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException e) {
            // evicted by another process meanwhile: nothing to mark
        }
    }

    private Path chunkPath(ChunkId id) {
        return directory.orElseThrow().resolve(id.key().directoryName()).resolve(Long.toString(id.index()));
    }

    private void scan(Path root) throws IOException {
        Files.createDirectories(root);
        record Found(Path path, long size, FileTime modified) {}
        List<Found> found = new ArrayList<>();
        try (DirectoryStream<Path> keys = Files.newDirectoryStream(root)) {
            for (Path keyDir : keys) {
                if (!Files.isDirectory(keyDir)) {
                    continue;
                }
                try (DirectoryStream<Path> chunks = Files.newDirectoryStream(keyDir)) {
                    for (Path chunk : chunks) {
                        String name = chunk.getFileName().toString();
                        try {
                            if (name.endsWith(ChunkFile.TEMP_SUFFIX)) {
                                Files.deleteIfExists(chunk);
                            } else if (name.chars().allMatch(Character::isDigit)) {
                                found.add(new Found(chunk, Files.size(chunk), Files.getLastModifiedTime(chunk)));
                            }
                        } catch (NoSuchFileException e) {
                            // removed by another process while we looked
                        }
                    }
                }
            }
        }
        found.sort(Comparator.comparing(Found::modified));
        List<Path> evicted;
        synchronized (stored) {
            for (Found f : found) {
                stored.put(f.path(), f.size());
                storedBytes += f.size();
            }
            evicted = overLimit();
        }
        deleteAll(evicted);
    }
}
