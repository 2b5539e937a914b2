package io.siphon.blockjob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.job.Job;
import io.siphon.job.JobEvent;
import io.siphon.testing.QemuTools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Pulls of chains with QED images, built by qemu-img and qemu-io, checked with qemu-img. */
@Tag("interop")
class QedPullTest {
    private static final Duration LONG = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} over {1} over {2}, base: {3}")
    @CsvSource({
        "qed, qed, raw, false",
        "qed, qed, raw, true",
        "qcow2, qed, qed, false",
        "qcow2, qed, qed, true",
    })
    void pullMatchesTheChainQemuRead(String topFormat, String midFormat, String baseFormat, boolean withBase)
            throws Exception {
        long seed = System.nanoTime();
        System.out.println("chain seed " + seed);
        Chains chain = Chains.build(dir, seed, topFormat, midFormat, baseFormat);
        byte[] before = QemuTools.rawContent(chain.top, dir);
        List<JobEvent> events = new CopyOnWriteArrayList<>();
        StreamOptions options =
                withBase ? StreamOptions.defaults().withBase(chain.base, true) : StreamOptions.defaults();
        try (Disk disk = Disk.open("vda", chain.top, Optional.empty(), false)) {
            Job job = StreamJob.create(disk, options);
            job.addListener(events::add);
            job.start();
            assertTrue(job.awaitEnd(LONG), "pull did not end");
            assertTrue(job.progress().copiedBytes() > 0, "the layers above the base hold data the top lacks");
            assertEquals(withBase ? 2 : 1, disk.images().size());
        }
        JobEvent outcome = events.stream()
                .filter(e -> !(e instanceof JobEvent.StatusChanged))
                .reduce((a, b) -> b)
                .orElseThrow();
        assertInstanceOf(JobEvent.Completed.class, outcome, () -> "events " + events);
        if (withBase) {
            assertEquals(chain.base.getFileName().toString(), QemuTools.backingName(chain.top));
            assertEquals(baseFormat, QemuTools.backingFormat(chain.top));
        } else {
            assertNull(QemuTools.backingName(chain.top));
        }
        assertArrayEquals(before, QemuTools.rawContent(chain.top, dir), "seed " + seed);
        QemuTools.assertCheckClean(chain.top);
    }
}
