package io.siphon.daemon;

import io.siphon.domain.StateDirectory;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pulls recorded in {@code STATEDIR/jobs/DOMAIN.TARGET.job} while they run, so that they resume
 * when their domain starts after a daemon restart. Not thread-safe: the domain manager serializes
 * calls per disk.
 */
final class JobRecords {
    private static final Logger LOG = LoggerFactory.getLogger(JobRecords.class);

    private final Path directory;

    JobRecords(StateDirectory state) throws IOException {
        this.directory = state.subdirectory("jobs");
    }

    void save(String domain, PersistedJob job) throws IOException {
        Properties p = new Properties();
        p.setProperty("disk", job.disk());
        job.base().ifPresent(b -> p.setProperty("base", b));
        p.setProperty("keep-relative", Boolean.toString(job.keepRelative()));
        p.setProperty("bandwidth-bytes", Long.toString(job.bytesPerSecond()));
        StringWriter text = new StringWriter();
        p.store(text, "block pull of " + domain + " " + job.disk());
        StateDirectory.writeAtomically(file(domain, job.disk()), text.toString());
    }

    void delete(String domain, String disk) throws IOException {
        Files.deleteIfExists(file(domain, disk));
    }

    /** The job recorded for {@code disk}, if any; a damaged record is logged and ignored. */
    Optional<PersistedJob> load(String domain, String disk) {
        Path file = file(domain, disk);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            Properties p = new Properties();
            p.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
            return Optional.of(new PersistedJob(
                    p.getProperty("disk", disk),
                    Optional.ofNullable(p.getProperty("base")),
                    Boolean.parseBoolean(p.getProperty("keep-relative", "false")),
                    Long.parseLong(p.getProperty("bandwidth-bytes", "0"))));
        } catch (IOException | IllegalArgumentException e) {
            LOG.warn("ignoring damaged job record {}: {}", file, e.toString());
            return Optional.empty();
        }
    }

    private Path file(String domain, String disk) {
        return directory.resolve(domain + "." + disk + ".job");
    }
}
