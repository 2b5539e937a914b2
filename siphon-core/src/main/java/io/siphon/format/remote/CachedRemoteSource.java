package io.siphon.format.remote;

import io.siphon.cache.ChunkCache;
import io.siphon.cache.ObjectKey;
import io.siphon.format.ByteSource;
import java.io.IOException;
import java.nio.ByteBuffer;

/** A remote object read through the chunk cache, each fetch retried as the policy says. Thread-safe. */
final class CachedRemoteSource implements ByteSource {
    private final RemoteObject object;
    private final ObjectKey key;
    private final ChunkCache cache;
    private final RetryPolicy retry;

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
    public void close() throws IOException {
        object.close();
    }
}
