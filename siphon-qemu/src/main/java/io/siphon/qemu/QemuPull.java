package io.siphon.qemu;

import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobState;
import io.siphon.api.BlockJobType;
import io.siphon.qemu.qmp.QmpCommand;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * A {@code block-stream} job on a disk, as the driver tracks it between {@code block-stream} and the
 * end event it has handled (dismissed, nodes dropped, event emitted): QEMU's job id and the depth
 * of the base in the chain when it started (empty for the whole chain). Thread-safe.
 */
final class QemuPull {
    private final String jobId;
    private final Optional<Integer> baseDepth;
    /** The sample the rate is measured from: QEMU reports no rate, only offsets. */
    private long sampleNanos = System.nanoTime();

    private long sampleOffset;
    private long rateBytesPerSecond;
    private final CountDownLatch ended = new CountDownLatch(1);
    private volatile boolean cancelRequested;
    private volatile boolean dismissed;

    private QemuPull(String jobId, Optional<Integer> baseDepth, long sampleOffset) {
        this.jobId = jobId;
        this.baseDepth = baseDepth;
        this.sampleOffset = sampleOffset;
    }

    /** A job this driver starts now, at offset 0. */
    static QemuPull started(String jobId, Optional<Integer> baseDepth) {
        return new QemuPull(jobId, baseDepth, 0);
    }

    /** A job found running in QEMU after a restart, whose progress so far is unknown. */
    static QemuPull foundAgain(String jobId, Optional<Integer> baseDepth) {
        return new QemuPull(jobId, baseDepth, -1);
    }

    String jobId() {
        return jobId;
    }

    Optional<Integer> baseDepth() {
        return baseDepth;
    }

    /** The images a completed pull drops from {@code chain}: those between the top and the base. */
    List<ChainNode> dropped(List<ChainNode> chain) {
        return chain.subList(1, baseDepth.orElse(chain.size()));
    }

    /** The chain after a completed pull: the top, then the base and what is below it. */
    List<ChainNode> remaining(List<ChainNode> chain) {
        if (baseDepth.isEmpty()) {
            return List.of(chain.getFirst());
        }
        List<ChainNode> out = new java.util.ArrayList<>();
        out.add(chain.getFirst());
        out.addAll(chain.subList(baseDepth.get(), chain.size()));
        return out;
    }

    /** QEMU no longer lists the job: it was dismissed when the driver found it concluded. */
    void markDismissed() {
        dismissed = true;
    }

    boolean dismissed() {
        return dismissed;
    }

    void requestCancel() {
        cancelRequested = true;
    }

    boolean cancelRequested() {
        return cancelRequested;
    }

    CountDownLatch ended() {
        return ended;
    }

    /**
     * libvirt's mapping of a {@code query-block-jobs} entry: offset → cur, len → end, speed →
     * bandwidth; 0/0 reads as 0/1, and a job whose end the driver has not handled yet never reads as
     * done (cur = end - 1), so that pollers wait for the event.
     */
    BlockJobInfo info(QmpCommand.BlockJobReply reply) {
        long end = reply.len();
        long cur = Math.min(reply.offset(), end);
        if (cur == 0 && end == 0) {
            end = 1;
        } else if (cur == end) {
            cur = end - 1;
        }
        long rate = rate(reply.offset());
        Optional<Duration> eta =
                rate > 0 ? Optional.of(Duration.ofMillis((end - cur) * 1000 / rate)) : Optional.empty();
        BlockJobState state = cancelRequested
                ? BlockJobState.ABORTING
                : reply.paused() ? BlockJobState.PAUSED : BlockJobState.RUNNING;
        return new BlockJobInfo(BlockJobType.PULL, reply.speed(), cur, end, state, rate, eta);
    }

    /**
     * The copy rate between the last sample and {@code offset}, re-sampled at most once a second so
     * that frequent polls do not measure noise; 0 until there are two samples (a job found again after
     * a restart has no history).
     */
    private synchronized long rate(long offset) {
        long now = System.nanoTime();
        if (sampleOffset < 0) {
            sampleOffset = offset;
            sampleNanos = now;
        } else if (now - sampleNanos >= 1_000_000_000L) {
            rateBytesPerSecond = Math.max(0, (offset - sampleOffset) * 1_000_000_000L / (now - sampleNanos));
            sampleOffset = offset;
            sampleNanos = now;
        }
        return rateBytesPerSecond;
    }
}
