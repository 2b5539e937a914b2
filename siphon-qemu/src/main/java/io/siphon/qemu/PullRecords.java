package io.siphon.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.siphon.domain.StateDirectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pulls in flight, one {@code run/NAME.TARGET.pull} each ({@code {"jobId": .., "baseDepth": ..}},
 * -1 for no base): what a restarted driver needs, beside QEMU's own {@code query-block-jobs}, to
 * finish a pull it did not start. Written before {@code block-stream}, deleted when its end is
 * handled. Thread-safe (each file is replaced atomically).
 */
final class PullRecords {
    private static final Logger LOG = LoggerFactory.getLogger(PullRecords.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path run;

    PullRecords(Path run) {
        this.run = run;
    }

    private record PullRecord(String jobId, int baseDepth) {}

    private Path file(String domain, String target) {
        return RunFiles.of(run, domain).pullRecord(target);
    }

    void save(String domain, String target, QemuPull job) throws IOException {
        StateDirectory.writeAtomically(
                file(domain, target),
                JSON.writeValueAsString(
                        new PullRecord(job.jobId(), job.baseDepth().orElse(-1))));
    }

    /** The recorded pull of the disk, as a job found again; empty when none (or unreadable, logged). */
    Optional<QemuPull> load(String domain, String target) {
        Path file = file(domain, target);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            JsonNode record = JSON.readTree(file.toFile());
            int baseDepth = record.path("baseDepth").asInt(-1);
            return Optional.of(QemuPull.foundAgain(
                    record.path("jobId").asText(), baseDepth < 0 ? Optional.empty() : Optional.of(baseDepth)));
        } catch (IOException e) {
            LOG.warn("domain {} disk {}: unreadable pull record {}: {}", domain, target, file, e.toString());
            return Optional.empty();
        }
    }

    void delete(String domain, String target) {
        try {
            Files.deleteIfExists(file(domain, target));
        } catch (IOException e) {
            LOG.warn("domain {} disk {}: cannot delete the pull record: {}", domain, target, e.toString());
        }
    }
}
