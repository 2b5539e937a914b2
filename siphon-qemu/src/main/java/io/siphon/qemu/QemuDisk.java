package io.siphon.qemu;

import io.siphon.domain.DiskDefinition;
import java.util.List;
import java.util.Optional;

/**
 * A disk of a running domain: its definition, the chain QEMU holds open (top first) and its pull.
 * Guarded by the {@link QemuDomains} lock.
 */
final class QemuDisk {
    private final DiskDefinition definition;
    private final int index;
    private List<ChainNode> chain;
    private Optional<QemuPull> job = Optional.empty();

    QemuDisk(DiskDefinition definition, int index, List<ChainNode> chain) {
        this.definition = definition;
        this.index = index;
        this.chain = List.copyOf(chain);
    }

    DiskDefinition definition() {
        return definition;
    }

    String target() {
        return definition.target();
    }

    int index() {
        return index;
    }

    List<ChainNode> chain() {
        return chain;
    }

    void setChain(List<ChainNode> chain) {
        this.chain = List.copyOf(chain);
    }

    ChainNode top() {
        return chain.getFirst();
    }

    /** The node the NBD export serves: the copy-on-read filter when the disk has one, else the top. */
    String exportedNode() {
        return definition.copyOnRead() ? copyOnReadNode() : top().formatNode();
    }

    String copyOnReadNode() {
        return "d" + index + "-cor";
    }

    /** The export's id in QEMU (its name, DOMAIN/TARGET, is the embedded driver's). */
    String exportId() {
        return "export-" + definition.target();
    }

    /** libvirt's job id, {@code pull-TARGET-NODE}. */
    String jobId() {
        return "pull-" + definition.target() + "-" + top().formatNode();
    }

    Optional<QemuPull> job() {
        return job;
    }

    void setJob(Optional<QemuPull> job) {
        this.job = job;
    }
}
