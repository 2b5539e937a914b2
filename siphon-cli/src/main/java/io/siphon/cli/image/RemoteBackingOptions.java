package io.siphon.cli.image;

import io.siphon.cache.ChunkCache;
import io.siphon.cli.CliException;
import io.siphon.cli.Sizes;
import io.siphon.format.BackingNames;
import io.siphon.format.RemoteBackingPolicy;
import io.siphon.format.remote.RemoteImages;
import io.siphon.format.remote.RetryPolicy;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The options of the image commands for remote templates (NBD, HTTP(S), S3): whether a local image's
 * header may name one, where the chunk cache lives, how long a read waits out an outage. A remote
 * name typed on the command line is opened without {@code --allow-remote-backing}; the option is
 * for names found in image headers.
 */
final class RemoteBackingOptions {
    @Option(
            names = "--allow-remote-backing",
            description = "Follow backing names in image headers that are remote (nbd://, nbd+unix://, http(s)://,"
                    + " s3://, QEMU json: names). Off by default: a header cannot make siphon connect out.")
    boolean allowRemoteBacking;

    @Option(
            names = "--cache-dir",
            paramLabel = "DIR",
            description = "The chunk cache of remote templates (default: $SIPHON_CACHE_DIR, else"
                    + " $XDG_CACHE_HOME/siphon/chunks, else ~/.cache/siphon/chunks).")
    Optional<Path> cacheDir = Optional.empty();

    @Option(
            names = "--cache-size",
            paramLabel = "SIZE",
            description = "Bound of the chunk cache, with K, M, G suffixes (default: 4G).")
    String cacheSize = "4G";

    @Option(
            names = "--remote-timeout",
            paramLabel = "SECONDS",
            description = "How long a remote read retries through an outage before it fails (default: 30).")
    long remoteTimeoutSeconds = 30;

    /**
     * The policy for a command on {@code names}: remote access is set up only when one of them is
     * remote or remote backings are allowed, so that local commands touch no cache directory.
     */
    RemoteBackingPolicy policy(String... names) throws IOException, CliException {
        boolean anyRemote = Arrays.stream(names).anyMatch(BackingNames::isRemote);
        if (!anyRemote && !allowRemoteBacking) {
            return RemoteBackingPolicy.LOCAL_ONLY;
        }
        if (remoteTimeoutSeconds < 0) {
            throw new CliException("--remote-timeout must not be negative, got " + remoteTimeoutSeconds);
        }
        ChunkCache cache = ChunkCache.shared(cacheDirectory(), Sizes.parse(cacheSize));
        RetryPolicy retry = new RetryPolicy(
                RetryPolicy.DEFAULT.firstBackoff(),
                RetryPolicy.DEFAULT.maxBackoff(),
                Duration.ofSeconds(remoteTimeoutSeconds));
        return new RemoteBackingPolicy(allowRemoteBacking, false, Optional.of(new RemoteImages(cache, retry)));
    }

    /** Like {@link #policy}, with remote backings allowed: for a backing name typed by the user. */
    RemoteBackingPolicy policyAllowing(String backingName) throws IOException, CliException {
        allowRemoteBacking |= BackingNames.isRemote(backingName);
        return policy(backingName);
    }

    private Path cacheDirectory() {
        if (cacheDir.isPresent()) {
            return cacheDir.get();
        }
        String explicit = System.getenv("SIPHON_CACHE_DIR");
        if (explicit != null && !explicit.isEmpty()) {
            return Path.of(explicit);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("siphon").resolve("chunks");
    }
}
