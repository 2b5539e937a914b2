package io.siphon.qemu;

import io.siphon.api.BlockInfo;
import io.siphon.api.BlockStats;
import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.qemu.qmp.QmpClient;
import io.siphon.qemu.qmp.QmpCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;

/**
 * What {@code domblkinfo} and {@code domblkstat} ask of a running domain's QEMU. {@code
 * query-named-block-nodes} gives the sizes, since a storage daemon has no named block backends and
 * answers {@code query-block} with nothing; {@code query-blockstats} gives a machine's virtio disks'
 * counters. Stateless.
 */
final class DiskQueries {
    private DiskQueries() {}

    /** The sizes of {@code disk}: QEMU's for its top's format node, and the top file's length. */
    static BlockInfo info(QmpClient qmp, QemuDisk disk) {
        ChainNode top = disk.top();
        QmpCommand.ImageReply image = Arrays.stream(qmp.execute(new QmpCommand.QueryNamedBlockNodes(true)))
                .filter(n -> n.nodeName().equals(top.formatNode()) && n.image() != null)
                .findFirst()
                .map(QmpCommand.NamedNodeReply::image)
                .orElseThrow(() -> new SiphonException(
                        ErrorCode.OPERATION_FAILED,
                        "disk " + disk.target() + ": QEMU has no node " + top.formatNode()));
        try {
            return new BlockInfo(image.virtualSize(), image.actualSize(), Files.size(top.path()));
        } catch (IOException e) {
            throw new SiphonException(
                    ErrorCode.OPERATION_FAILED, "disk " + disk.target() + ": " + top.path() + ": " + e, e);
        }
    }

    /** The summed counters of {@code disks}' virtio devices: the backends over their exported nodes with a device. */
    static BlockStats stats(QmpClient qmp, List<QemuDisk> disks) {
        QmpCommand.BlockStatsReply[] backends = qmp.execute(new QmpCommand.QueryBlockstats());
        BlockStats total = BlockStats.ZERO;
        for (QemuDisk disk : disks) {
            for (QmpCommand.BlockStatsReply backend : backends) {
                if (disk.exportedNode().equals(backend.nodeName()) && backend.qdev() != null) {
                    QmpCommand.BlockDeviceStats s = backend.stats();
                    total = total.plus(new BlockStats(
                            s.rdOperations(),
                            s.rdBytes(),
                            s.wrOperations(),
                            s.wrBytes(),
                            s.flushOperations(),
                            s.rdTotalTimeNs(),
                            s.wrTotalTimeNs(),
                            s.flushTotalTimeNs()));
                }
            }
        }
        return total;
    }
}
