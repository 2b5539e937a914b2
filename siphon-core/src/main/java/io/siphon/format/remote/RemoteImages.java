package io.siphon.format.remote;

import io.siphon.cache.ChunkCache;
import io.siphon.format.BackingReference;
import io.siphon.format.ByteSource;
import io.siphon.format.Formats;
import io.siphon.format.Image;
import io.siphon.format.ImageFile;
import io.siphon.format.ImageFormat;
import io.siphon.format.ImageFormatException;
import io.siphon.format.OpenOptions;
import io.siphon.format.RemoteOpener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * Opens remote objects as read-only images (raw, qcow2 or QED, probed by magic or named) read through
 * one chunk cache. The providers of URL schemes are found by {@link ServiceLoader}.
 */
public final class RemoteImages implements RemoteOpener {
    private static final int PROBE_BYTES = 4096;
    private static final Map<String, RemoteObjectProvider> PROVIDERS = load();

    private final ChunkCache cache;
    private final RetryPolicy retry;

    public RemoteImages(ChunkCache cache, RetryPolicy retry) {
        this.cache = cache;
        this.retry = retry;
    }

    private static Map<String, RemoteObjectProvider> load() {
        Map<String, RemoteObjectProvider> byScheme = new TreeMap<>();
        for (RemoteObjectProvider provider :
                ServiceLoader.load(RemoteObjectProvider.class, RemoteImages.class.getClassLoader())) {
            provider.schemes().forEach(scheme -> byScheme.putIfAbsent(scheme, provider));
        }
        return Map.copyOf(byScheme);
    }

    /** Opens the object {@code location} names, without the cache: its size and version, no data. */
    public RemoteObject openObject(RemoteLocation location) throws IOException {
        RemoteObjectProvider provider = PROVIDERS.get(location.scheme());
        if (provider == null) {
            throw new RemoteObjectException(
                    RemoteObjectException.Reason.BAD_NAME,
                    location.name(),
                    "unknown scheme '" + location.scheme() + "' (known: "
                            + String.join(", ", new TreeMap<>(PROVIDERS).keySet()) + ")");
        }
        return retry.run(() -> provider.open(location));
    }

    @Override
    public Image open(BackingReference reference, OpenOptions options) throws IOException {
        if (options.writable()) {
            throw new ImageFormatException(
                    ImageFormatException.Reason.REFUSED, Path.of(reference.name()), "", "remote images are read-only");
        }
        RemoteLocation location = RemoteNames.parse(reference.name());
        ByteSource source = new CachedRemoteSource(openObject(location), cache, retry);
        try {
            Optional<String> formatName = reference.format().or(location::format);
            ImageFormat format = formatName.isPresent()
                    ? Formats.byName(formatName.get())
                    : Formats.probe(Path.of(reference.name()), head(source));
            return format.open(ImageFile.ofSource(source), options);
        } catch (IOException | RuntimeException e) {
            try {
                source.close();
            } catch (IOException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            throw e;
        }
    }

    private static ByteBuffer head(ByteSource source) throws IOException {
        ByteBuffer head = ByteBuffer.allocate((int) Math.min(PROBE_BYTES, source.sizeBytes()));
        source.read(0, head);
        return head.flip();
    }
}
