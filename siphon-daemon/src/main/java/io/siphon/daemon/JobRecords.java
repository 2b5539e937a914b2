package io.siphon.daemon;

import io.siphon.blockjob.OnErrorPolicy;
import io.siphon.blockjob.OutagePolicy;
import io.siphon.blockjob.StreamOptions;
import io.siphon.domain.IoMessages;
import io.siphon.domain.StateDirectory;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pulls recorded in {@code STATEDIR/jobs/DOMAIN.TARGET.job} while they run, each the engine's
 * {@link StreamOptions} as properties, so that they resume when their domain starts after a
 * daemon restart. A key missing from a record (older records have only {@code disk}, {@code base},
 * {@code keep-relative} and {@code bandwidth-bytes}; {@code pace} and {@code order} came later, then {@code on-outage} and {@code outage-probe-ms})
 * takes the engine's default. Thread-safe for
 * different disks (one file each); {@link DiskPulls} orders the calls for one disk.
 */
final class JobRecords {
    private static final Logger LOG = LoggerFactory.getLogger(JobRecords.class);

    private final Path directory;

    JobRecords(StateDirectory state) throws IOException {
        this.directory = state.subdirectory("jobs");
    }

    void save(String domain, String disk, StreamOptions options) throws IOException {
        Properties p = new Properties();
        p.setProperty("disk", disk);
        options.base().ifPresent(b -> p.setProperty("base", b.toString()));
        p.setProperty("keep-relative", Boolean.toString(options.keepRelative()));
        p.setProperty("bandwidth-bytes", Long.toString(options.bytesPerSecond()));
        p.setProperty("on-error", options.onError().toString());
        p.setProperty("chunk-bytes", Long.toString(options.chunkBytes()));
        p.setProperty("step-bytes", Long.toString(options.stepBytes()));
        p.setProperty("pace", options.pace().word());
        p.setProperty("guest-latency-factor", Double.toString(options.pace().guestLatencyFactor()));
        p.setProperty("order", options.order().toString());
        p.setProperty("on-outage", options.onOutage().word());
        p.setProperty(
                "outage-probe-ms",
                Long.toString(options.onOutage().probeInterval().toMillis()));
        StringWriter text = new StringWriter();
        p.store(text, "block pull of " + domain + " " + disk);
        StateDirectory.writeAtomically(file(domain, disk), text.toString());
    }

    void delete(String domain, String disk) throws IOException {
        // durably: a record that came back after a crash would resume a pull that had ended
        StateDirectory.deleteDurably(file(domain, disk));
    }

    /** The pull recorded for {@code disk}, if any; a damaged record is logged and ignored. */
    Optional<StreamOptions> load(String domain, String disk) {
        Path file = file(domain, disk);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            Properties p = new Properties();
            p.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
            StreamOptions defaults = StreamOptions.defaults();
            return Optional.of(new StreamOptions(
                    Long.parseLong(p.getProperty("bandwidth-bytes", "0")),
                    Optional.ofNullable(p.getProperty("base")).map(Path::of),
                    Boolean.parseBoolean(p.getProperty("keep-relative", "false")),
                    OnErrorPolicy.parse(
                            p.getProperty("on-error", defaults.onError().toString())),
                    Long.parseLong(p.getProperty("chunk-bytes", Long.toString(defaults.chunkBytes()))),
                    Long.parseLong(p.getProperty("step-bytes", Long.toString(defaults.stepBytes()))),
                    StreamOptions.Pace.parse(
                            p.getProperty("pace", defaults.pace().word()),
                            Double.parseDouble(p.getProperty(
                                    "guest-latency-factor",
                                    Double.toString(defaults.pace().guestLatencyFactor())))),
                    StreamOptions.Order.parse(
                            p.getProperty("order", defaults.order().toString())),
                    OutagePolicy.parse(
                            p.getProperty("on-outage", defaults.onOutage().word()),
                            Duration.ofMillis(Long.parseLong(p.getProperty(
                                    "outage-probe-ms",
                                    Long.toString(
                                            defaults.onOutage().probeInterval().toMillis())))))));
        } catch (IOException | RuntimeException e) {
            // one line naming the file and what is wrong, never a trace: a record is the daemon's own file
            LOG.warn("ignoring damaged job record {}: {}", file, IoMessages.describe(e));
            return Optional.empty();
        }
    }

    private Path file(String domain, String disk) {
        return directory.resolve(domain + "." + disk + ".job");
    }
}
