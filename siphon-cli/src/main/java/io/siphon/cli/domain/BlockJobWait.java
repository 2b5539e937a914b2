package io.siphon.cli.domain;

import io.siphon.api.AbortFlag;
import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobState;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.BlockJobType;
import io.siphon.api.Connection;
import io.siphon.api.DiskInfo;
import io.siphon.api.Domain;
import io.siphon.api.ErrorCode;
import io.siphon.api.ListenerHandle;
import io.siphon.api.SiphonException;
import io.siphon.cli.view.ProgressDisplay;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Waits for one disk's block job to end, as {@code virsh blockpull --wait} does: registered for the
 * disk's job events before the job starts, it polls the job's progress for the display, aborts the
 * job on Ctrl-C or timeout, and returns how the job ended. Not thread-safe; close it to unregister.
 */
final class BlockJobWait implements AutoCloseable {
    /** How long a vanished job may go without its event before it counts as completed (virsh's fallback). */
    private static final Duration EVENT_GRACE = Duration.ofSeconds(5);

    /** How a job ended: its status and, when it failed, why. */
    record Outcome(BlockJobStatus status, Optional<String> error) {}

    private final Domain domain;
    private final String disk;
    private final BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
    private final ListenerHandle listener;

    private BlockJobWait(Connection connection, Domain domain, String disk, String target) {
        this.domain = domain;
        this.disk = disk;
        this.listener = connection.addBlockJobListener(event -> {
            if (event.domain().equals(domain.name()) && event.disk().equals(target)) {
                events.add(event);
            }
        });
    }

    /** Starts listening for the job events of {@code disk} (a target or a source path) of {@code domain}. */
    static BlockJobWait register(Connection connection, Domain domain, String disk) {
        return new BlockJobWait(connection, domain, disk, targetOf(domain, disk));
    }

    /** The target (vda) of the disk named by target or source path; events name disks by target. */
    static String targetOf(Domain domain, String disk) {
        for (DiskInfo info : domain.disks()) {
            if (info.target().equals(disk) || samePath(info.source(), disk)) {
                return info.target();
            }
        }
        throw new SiphonException(
                ErrorCode.NO_DISK,
                "domain '" + domain.name() + "' has no disk '" + disk + "' (name it by target or source path)");
    }

    private static boolean samePath(String source, String disk) {
        try {
            return Path.of(source)
                    .toAbsolutePath()
                    .normalize()
                    .equals(Path.of(disk).toAbsolutePath().normalize());
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * Waits until the job ends, showing its progress on {@code display}; aborts it when {@code stop}
     * turns true or after {@code timeout}, waiting for the abort to finish unless {@code asyncAbort}.
     */
    Outcome await(
            Optional<ProgressDisplay> display,
            Duration pollInterval,
            Optional<Duration> timeout,
            boolean asyncAbort,
            BooleanSupplier stop)
            throws InterruptedException {
        long start = System.nanoTime();
        Optional<BlockJobInfo> last = Optional.empty();
        long vanishedAt = -1;
        try {
            while (true) {
                BlockJobEvent event = events.poll();
                if (event != null) {
                    return ended(event, display, last);
                }
                Optional<BlockJobInfo> info = domain.blockJobInfo(disk);
                if (info.isPresent()) {
                    last = info;
                    vanishedAt = -1;
                    display.ifPresent(d -> d.show(info.get()));
                } else if (vanishedAt < 0) {
                    vanishedAt = System.nanoTime();
                } else if (System.nanoTime() - vanishedAt > EVENT_GRACE.toNanos()) {
                    return ended(
                            new BlockJobEvent(
                                    domain.name(), disk, BlockJobType.PULL, BlockJobStatus.COMPLETED, Optional.empty()),
                            display,
                            last);
                }
                boolean timedOut = timeout.isPresent()
                        && System.nanoTime() - start > timeout.get().toNanos();
                if (stop.getAsBoolean() || timedOut) {
                    return abort(asyncAbort, display, last);
                }
                event = events.poll(pollInterval.toMillis(), TimeUnit.MILLISECONDS);
                if (event != null) {
                    return ended(event, display, last);
                }
            }
        } finally {
            display.ifPresent(ProgressDisplay::close);
        }
    }

    private Outcome abort(boolean async, Optional<ProgressDisplay> display, Optional<BlockJobInfo> last)
            throws InterruptedException {
        try {
            domain.blockJobAbort(disk, async ? EnumSet.of(AbortFlag.ASYNC) : EnumSet.noneOf(AbortFlag.class));
        } catch (SiphonException e) {
            if (e.code() != ErrorCode.NO_JOB) {
                throw e;
            }
            // the job ended by itself meanwhile: its event tells how
        }
        if (async) {
            return new Outcome(BlockJobStatus.CANCELED, Optional.empty());
        }
        BlockJobEvent event = events.poll(EVENT_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        return event == null ? new Outcome(BlockJobStatus.CANCELED, Optional.empty()) : ended(event, display, last);
    }

    private static Outcome ended(BlockJobEvent event, Optional<ProgressDisplay> display, Optional<BlockJobInfo> last) {
        if (event.status() == BlockJobStatus.COMPLETED || event.status() == BlockJobStatus.READY) {
            // a job that ended before the first poll shows as an empty job: 100 %
            BlockJobInfo done = last.orElse(
                    new BlockJobInfo(BlockJobType.PULL, 0, 0, 0, BlockJobState.RUNNING, 0, Optional.empty()));
            display.ifPresent(d -> d.complete(done));
        }
        return new Outcome(event.status(), event.error());
    }

    @Override
    public void close() {
        listener.close();
    }
}
