package io.siphon.daemon;

import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code siphon daemon}'s options for remote templates, a mixin of {@link DaemonMain} kept apart from
 * its other options: whether the disks' images may name remote backings, the size of the daemon's
 * chunk cache and the outage timeout (see {@link RemoteBackings}).
 */
final class RemoteBackingOptions {
    @Option(
            names = "--allow-remote-backing",
            description = "Let domains' disks follow backing names that are remote (nbd://, nbd+unix://, http(s)://,"
                    + " s3://, QEMU json: names), read through one chunk cache in DIR/cache. Off by default: a"
                    + " disk whose chain names one is refused, so that an image header cannot make the daemon"
                    + " connect out. Embedded driver only.")
    boolean allowed;

    @Option(
            names = "--remote-cache-size",
            paramLabel = "MIB",
            description = "Bound of the chunk cache of remote templates, in MiB (default 4096), shared by every"
                    + " domain and job of the daemon; least recently used chunks are evicted.")
    long cacheMib = RemoteBackings.DEFAULT_CACHE_LIMIT_BYTES >> 20;

    @Option(
            names = "--remote-timeout",
            paramLabel = "SECONDS",
            description = "How long a remote read retries through an outage before it fails (default 30): a"
                    + " guest read then gets EIO, a pull pauses until the store answers.")
    long timeoutSeconds = RemoteBackings.REFUSED.timeout().toSeconds();

    /** The settings these options name; a bad value is a usage error of {@code spec}'s command. */
    RemoteBackings settings(CommandSpec spec) {
        try {
            return new RemoteBackings(
                    allowed, Math.multiplyExact(cacheMib, 1L << 20), Duration.ofSeconds(timeoutSeconds));
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--remote-cache-size " + cacheMib + " / --remote-timeout " + timeoutSeconds + ": "
                            + e.getMessage());
        }
    }
}
