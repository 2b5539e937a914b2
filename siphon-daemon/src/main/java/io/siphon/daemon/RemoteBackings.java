package io.siphon.daemon;

import io.siphon.cache.ChunkCache;
import io.siphon.domain.StateDirectory;
import io.siphon.format.RemoteBackingPolicy;
import io.siphon.format.remote.RemoteImages;
import io.siphon.format.remote.RetryPolicy;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What the operator lets the daemon's disks do with remote templates (NBD, HTTP(S), S3 backing
 * names in their images' headers): refused unless {@code allowed}; when allowed, every remote
 * template is read through one chunk cache under the state directory ({@code STATEDIR/cache}),
 * shared by every domain and job of the daemon and bounded by {@code cacheLimitBytes}.
 *
 * @param allowed whether a local image of a domain's disk may name a remote backing
 * @param cacheLimitBytes the chunk cache's size limit (least recently used chunks are evicted)
 * @param timeout how long a remote read retries through an outage before it fails (a guest read
 *     then gets EIO; a pull pauses, as its outage policy says)
 */
record RemoteBackings(boolean allowed, long cacheLimitBytes, Duration timeout) {
    /** The default cache limit, as the image commands' {@code --cache-size}. */
    static final long DEFAULT_CACHE_LIMIT_BYTES = 4L << 30;

    /** Remote backings refused: a header cannot make the daemon connect out. */
    static final RemoteBackings REFUSED =
            new RemoteBackings(false, DEFAULT_CACHE_LIMIT_BYTES, RetryPolicy.DEFAULT.timeout());

    RemoteBackings {
        Objects.requireNonNull(timeout, "timeout");
        if (cacheLimitBytes < ChunkCache.DEFAULT_CHUNK_BYTES) {
            throw new IllegalArgumentException("remote cache size " + cacheLimitBytes + " bytes is below one chunk ("
                    + ChunkCache.DEFAULT_CHUNK_BYTES + ")");
        }
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("remote timeout must not be negative, got " + timeout);
        }
    }

    /**
     * The policy the daemon's disks open with: local files only, or remote backings through the
     * cache in {@code state}'s {@code cache} directory (opened here, once per process and directory).
     */
    RemoteBackingPolicy policy(StateDirectory state) throws IOException {
        if (!allowed) {
            return RemoteBackingPolicy.LOCAL_ONLY;
        }
        ChunkCache cache = ChunkCache.shared(state.subdirectory("cache"), cacheLimitBytes);
        RetryPolicy retry =
                new RetryPolicy(RetryPolicy.DEFAULT.firstBackoff(), RetryPolicy.DEFAULT.maxBackoff(), timeout);
        return new RemoteBackingPolicy(true, false, Optional.of(new RemoteImages(cache, retry)));
    }
}
