package io.siphon.api.contract;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.Connection;
import io.siphon.api.Domain;
import io.siphon.api.DomainState;
import io.siphon.api.ErrorCode;
import io.siphon.api.LifecycleEvent;
import io.siphon.api.ListenerHandle;
import io.siphon.api.SiphonException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real VM on a driver: {@link GuestPullScenario}'s guest boots from a thin clone while the clone
 * is pulled at a set bandwidth; then every checksum it printed is right, the backing link is gone,
 * the template can be deleted and the disk boots again, and {@code qemu-img check} is clean. A
 * driver's test extends this and says how to connect.
 */
@Tag("interop")
public abstract class GuestPullContract {
    /** Slow enough that the guest reads its whole disk while Siphon's pull runs (32 s). */
    private static final long PULL_MIB_PER_SECOND = 1;
    /** The speed once those reads are seen, to finish sooner. */
    private static final long FINISH_MIB_PER_SECOND = 16;

    @TempDir
    protected Path dir;

    private Connection connection;
    private Domain domain;

    /**
     * Raises the pull's speed once a whole-disk read has raced it; QEMU's stream may have ended by
     * then, since its copy-on-read filter copies what the guest reads.
     */
    private static void finishSooner(Domain domain) {
        try {
            domain.blockJobSetSpeed("vda", FINISH_MIB_PER_SECOND, Set.of());
        } catch (SiphonException e) {
            if (e.code() != ErrorCode.NO_JOB) {
                throw e;
            }
        }
    }

    /** A read-write connection to the driver under test, managing {@code stateDir}. */
    protected abstract Connection connect(Path stateDir);

    @AfterEach
    void destroyWhatRuns() {
        if (domain != null && domain.info().state() == DomainState.RUNNING) {
            domain.destroy();
        }
        if (connection != null) {
            connection.close();
        }
    }

    @Test
    void aGuestReadsAndWritesItsDiskWhileItIsPulledAndBootsWithoutTheTemplate() throws Exception {
        GuestPullScenario scenario = GuestPullScenario.create(dir);
        connection = connect(dir.resolve("state"));
        BlockingQueue<BlockJobEvent> jobs = new LinkedBlockingQueue<>();
        BlockingQueue<LifecycleEvent> lifecycle = new LinkedBlockingQueue<>();
        try (ListenerHandle j = connection.addBlockJobListener(jobs::add);
                ListenerHandle l = connection.addLifecycleListener(lifecycle::add)) {
            domain = connection.define(scenario.xml("guest"));
            domain.start();
            scenario.awaitConsole(
                    line -> line.equals("guest: wrote pattern"), "after the writes", GuestPullScenario.BOOT);
            // the guest now re-reads its disk in a loop until told to stop, which is after the pull
            long sumsBefore = scenario.sums();
            domain.blockPull("vda", PULL_MIB_PER_SECOND, Set.of());
            scenario.awaitSums(sumsBefore + 1, GuestPullScenario.BOOT);
            finishSooner(domain);
            GuestPullScenario.awaitPullCompleted(jobs);
            scenario.stopGuestLoop(domain);
            GuestPullScenario.awaitPowerOff(lifecycle, domain);
            byte[] content = scenario.assertGuestSawItsWrites();
            scenario.assertCloneHolds(content);

            Files.delete(scenario.template());
            scenario.resetConsole("first");
            lifecycle.clear();
            domain.start();
            GuestPullScenario.awaitPowerOff(lifecycle, domain);
            scenario.assertSecondBootRead(content);
            scenario.assertCloneHolds(content);
        }
    }
}
