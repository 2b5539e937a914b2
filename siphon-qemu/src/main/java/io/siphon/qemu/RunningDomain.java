package io.siphon.qemu;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A started domain: its QEMU process, its disks and their NBD socket. The disks are guarded by the
 * {@link QemuDomains} lock.
 */
final class RunningDomain {
    private final String name;
    private final QemuProcess process;
    private final List<QemuDisk> disks;
    private final Path nbdSocket;
    /** What QEMU said of damaged metadata, by node name, for the error of a pull that meets it. */
    private final Map<String, String> corruptions = new ConcurrentHashMap<>();

    private final CompletableFuture<Boolean> guestShutdown = new CompletableFuture<>();

    RunningDomain(String name, QemuProcess process, List<QemuDisk> disks, Path nbdSocket) {
        this.name = name;
        this.process = process;
        this.disks = List.copyOf(disks);
        this.nbdSocket = nbdSocket;
    }

    String name() {
        return name;
    }

    QemuProcess process() {
        return process;
    }

    List<QemuDisk> disks() {
        return disks;
    }

    Optional<QemuDisk> disk(String target) {
        return disks.stream().filter(d -> d.target().equals(target)).findFirst();
    }

    Optional<QemuDisk> diskWithJob(String jobId) {
        return disks.stream()
                .filter(d -> d.job().map(j -> j.jobId().equals(jobId)).orElse(false))
                .findFirst();
    }

    /** The disk's NBD URI, in the embedded driver's shape: export DOMAIN/TARGET on a Unix socket. */
    String nbdUri(String target) {
        return "nbd+unix:///" + exportName(name, target) + "?socket=" + nbdSocket;
    }

    static String exportName(String domain, String target) {
        return domain + "/" + target;
    }

    /** QMP {@code SHUTDOWN}: {@code byGuest} when the guest powered itself off. */
    void noteShutdown(boolean byGuest) {
        guestShutdown.complete(byGuest);
    }

    /** Whether the guest powered itself off, waiting up to {@code wait} for the event that precedes QEMU's exit. */
    boolean poweredOffByGuest(Duration wait) {
        return guestShutdown
                .completeOnTimeout(false, wait.toNanos(), TimeUnit.NANOSECONDS)
                .join();
    }

    void noteCorruption(String nodeName, String message) {
        corruptions.put(nodeName, message);
    }

    /**
     * The error of a failed pull on {@code disk}: QEMU's names no image, so this adds the images the
     * pull read and what QEMU said was corrupt in the chain.
     */
    String pullFailure(QemuDisk disk, QemuPull job, String qemuError) {
        StringBuilder out = new StringBuilder(qemuError)
                .append(" (pulling from ")
                .append(job.dropped(disk.chain()).stream()
                        .map(n -> n.path().toString())
                        .toList())
                .append(")");
        for (ChainNode node : disk.chain()) {
            String corruption = corruptions.get(node.formatNode());
            if (corruption != null) {
                out.append("; ").append(node.path()).append(": ").append(corruption);
            }
        }
        return out.toString();
    }
}
