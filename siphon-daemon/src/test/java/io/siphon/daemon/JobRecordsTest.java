package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.siphon.blockjob.OnErrorPolicy;
import io.siphon.blockjob.OutagePolicy;
import io.siphon.blockjob.StreamOptions;
import io.siphon.domain.StateDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobRecordsTest {
    @TempDir
    Path dir;

    /** Records as Siphon 0.1.0 wrote them (disk, base, keep-relative, bandwidth only). */
    @Test
    void theRecordsOfSiphon010LoadWithTheEnginesDefaultsForTheRest() throws Exception {
        Path root = dir.resolve("state");
        Files.createDirectories(root.resolve("jobs"));
        for (String name : new String[] {"web-01.vda.job", "no-uuid.sda.job"}) {
            Files.copy(
                    Path.of(getClass().getResource("/state-0.1.0/jobs/" + name).toURI()), root.resolve("jobs/" + name));
        }
        try (StateDirectory state = StateDirectory.open(root)) {
            JobRecords records = new JobRecords(state);
            assertEquals(
                    Optional.of(StreamOptions.defaults()
                            .withSpeed(1 << 20)
                            .withBase(Path.of("/var/lib/siphon/base.qcow2"), true)),
                    records.load("web-01", "vda"));
            assertEquals(Optional.of(StreamOptions.defaults()), records.load("no-uuid", "sda"));
            assertEquals(Optional.empty(), records.load("web-01", "vdb"));
        }
    }

    @Test
    void everyOptionSurvivesARoundTrip() throws Exception {
        try (StateDirectory state = StateDirectory.open(dir.resolve("state"))) {
            JobRecords records = new JobRecords(state);
            StreamOptions options = StreamOptions.defaults()
                    .withSpeed(12345)
                    .withBase(Path.of("/images/base image.qcow2"), false)
                    .withOnError(OnErrorPolicy.STOP)
                    .withChunkBytes(65536)
                    .withStepBytes(4096)
                    .withPace(StreamOptions.Pace.guest(2.5))
                    .withOrder(StreamOptions.Order.PROFILE)
                    .withOnOutage(new OutagePolicy(false, Duration.ofMillis(250)));
            records.save("d", "vda", options);
            assertEquals(Optional.of(options), records.load("d", "vda"));
            records.delete("d", "vda");
            assertEquals(Optional.empty(), records.load("d", "vda"));
            assertFalse(Files.exists(dir.resolve("state/jobs/d.vda.job")));
        }
    }

    @Test
    void aDamagedRecordIsIgnored() throws Exception {
        try (StateDirectory state = StateDirectory.open(dir.resolve("state"))) {
            JobRecords records = new JobRecords(state);
            Files.writeString(dir.resolve("state/jobs/d.vda.job"), "disk=vda\nbandwidth-bytes=-1\n");
            Files.writeString(dir.resolve("state/jobs/d.vdb.job"), "disk=vdb\non-error=sometimes\n");
            Files.writeString(dir.resolve("state/jobs/d.vdc.job"), "disk=vdc\non-outage=retry\n");
            assertEquals(Optional.empty(), records.load("d", "vda"));
            assertEquals(Optional.empty(), records.load("d", "vdb"));
            assertEquals(Optional.empty(), records.load("d", "vdc"));
        }
    }
}
