package io.siphon.format.remote;

import io.siphon.cache.ChunkCache;
import io.siphon.cache.ObjectKey;
import io.siphon.format.ByteSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * A remote object read through the chunk cache, each fetch retried as the policy says. Its
 * allocation (where the store reports one) is asked once per range and remembered, since the
 * object's version is fixed while it is open. Thread-safe.
 */
final class CachedRemoteSource implements ByteSource {
    /** How much one allocation query covers at most (NBD's lengths are 32-bit). */
    private static final long STATUS_WINDOW_BYTES = 1L << 30;

    private static final int MAX_RUNS = 1 << 16;

    private final RemoteObject object;
    private final ObjectKey key;
    private final ChunkCache cache;
    private final RetryPolicy retry;
    /** The runs learned so far, by offset; guarded by itself. */
    private final TreeMap<Long, RemoteObject.Run> runs = new TreeMap<>();

    CachedRemoteSource(RemoteObject object, ChunkCache cache, RetryPolicy retry) {
        this.object = object;
        this.key = new ObjectKey(object.location().uri().toString(), object.version(), object.sizeBytes());
        this.cache = cache;
        this.retry = retry;
    }

    @Override
    public String name() {
        return object.location().name();
    }

    @Override
    public long sizeBytes() {
        return object.sizeBytes();
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst) throws IOException {
        cache.read(key, offsetBytes, dst, (fetchOffset, range) -> {
            retry.run(() -> {
                object.read(fetchOffset, range.duplicate());
                return null;
            });
            range.position(range.limit());
        });
    }

    @Override
    public OptionalLong nextData(long offsetBytes) throws IOException {
        return next(offsetBytes, false);
    }

    @Override
    public OptionalLong nextHole(long offsetBytes) throws IOException {
        OptionalLong hole = next(offsetBytes, true);
        return hole.isPresent() || offsetBytes >= sizeBytes() ? hole : OptionalLong.of(sizeBytes());
    }

    /** The first offset at or after {@code offsetBytes} whose run is zero ({@code zero}) or data. */
    private OptionalLong next(long offsetBytes, boolean zero) throws IOException {
        long position = offsetBytes;
        while (position < sizeBytes()) {
            Map.Entry<Long, RemoteObject.Run> run = runAt(position);
            if (run.getValue().zero() == zero) {
                return OptionalLong.of(position);
            }
            position = run.getKey() + run.getValue().lengthBytes();
        }
        return OptionalLong.empty();
    }

    /** The run that holds {@code offsetBytes} (below the size), asked of the store when not yet known. */
    private Map.Entry<Long, RemoteObject.Run> runAt(long offsetBytes) throws IOException {
        synchronized (runs) {
            Map.Entry<Long, RemoteObject.Run> known = runs.floorEntry(offsetBytes);
            if (known != null && offsetBytes < known.getKey() + known.getValue().lengthBytes()) {
                return known;
            }
        }
        long length = Math.min(STATUS_WINDOW_BYTES, sizeBytes() - offsetBytes);
        List<RemoteObject.Run> answer = retry.run(() -> object.allocation(offsetBytes, length));
        synchronized (runs) {
            if (runs.size() > MAX_RUNS) {
                runs.clear(); // a template fragmented past this is asked again, window by window
            }
            long position = offsetBytes;
            for (RemoteObject.Run run : answer) {
                long n = Math.min(run.lengthBytes(), offsetBytes + length - position);
                if (n <= 0) {
                    break;
                }
                runs.put(position, n == run.lengthBytes() ? run : new RemoteObject.Run(n, run.zero()));
                position += n;
            }
            if (position == offsetBytes) {
                throw new RemoteObjectException(
                        RemoteObjectException.Reason.PROTOCOL,
                        name(),
                        "the store reported no allocation at offset " + offsetBytes);
            }
            return runs.floorEntry(offsetBytes);
        }
    }

    @Override
    public void close() throws IOException {
        object.close();
    }
}
