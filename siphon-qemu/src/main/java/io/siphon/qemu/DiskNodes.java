package io.siphon.qemu;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.qemu.qmp.QmpClient;
import io.siphon.qemu.qmp.QmpCommand;
import io.siphon.qemu.qmp.QmpErrorException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A disk's chain as QEMU block nodes, the way libvirt's qemu driver lays it out: per image a file
 * node and a format node, each format node backed by the one below; opened bottom-up, found again
 * by name after a restart, and the dropped images' nodes deleted after a pull.
 */
final class DiskNodes {
    private static final Logger LOG = LoggerFactory.getLogger(DiskNodes.class);
    /** QEMU's own limit on a backing chain's length is far lower; this bounds the search of nodes. */
    private static final int MAX_CHAIN_DEPTH = 1000;

    private DiskNodes() {}

    /** The nodes for {@code images} (top first) of disk {@code diskIndex}. */
    static List<ChainNode> of(int diskIndex, List<BackingChains.Image> images) {
        List<ChainNode> nodes = new ArrayList<>();
        for (int depth = 0; depth < images.size(); depth++) {
            nodes.add(ChainNode.of(
                    diskIndex,
                    depth,
                    images.get(depth).path(),
                    images.get(depth).format()));
        }
        return nodes;
    }

    /**
     * Adds the disk's nodes bottom-up (each image read-only below the top, or everywhere for a
     * read-only disk; {@code "backing": null} at the bottom), then its copy-on-read filter if it has
     * one. QEMU's refusal is the error, with QEMU's description after the disk's name.
     */
    static void open(QmpClient qmp, QemuDisk disk) {
        List<ChainNode> chain = disk.chain();
        try {
            for (int depth = chain.size() - 1; depth >= 0; depth--) {
                ChainNode node = chain.get(depth);
                boolean readOnly = depth > 0 || disk.definition().readOnly();
                Optional<String> backing = depth + 1 < chain.size()
                        ? Optional.of(chain.get(depth + 1).formatNode())
                        : Optional.empty();
                qmp.execute(QmpCommand.BlockdevAdd.file(node.storageNode(), node.path(), readOnly));
                qmp.execute(QmpCommand.BlockdevAdd.format(
                        node.formatNode(), node.format(), node.storageNode(), backing, readOnly));
            }
            if (disk.definition().copyOnRead()) {
                qmp.execute(QmpCommand.BlockdevAdd.copyOnRead(
                        disk.copyOnReadNode(), disk.top().formatNode()));
            }
        } catch (SiphonException e) {
            String why = QmpErrorException.of(e).map(QmpErrorException::desc).orElse(e.getMessage());
            throw new SiphonException(e.code(), "disk " + disk.target() + ": " + why, e);
        }
    }

    /**
     * The chain of disk {@code diskIndex} among the nodes QEMU holds ({@code query-named-block-nodes}
     * by name), top first; the depths are those at start, so a completed pull leaves gaps.
     */
    static List<ChainNode> find(int diskIndex, String target, Map<String, QmpCommand.NamedNodeReply> nodes) {
        List<ChainNode> chain = new ArrayList<>();
        for (int depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
            QmpCommand.NamedNodeReply format = nodes.get("d" + diskIndex + "-f" + depth);
            QmpCommand.NamedNodeReply file = nodes.get("d" + diskIndex + "-s" + depth);
            if (format != null && file != null) {
                chain.add(ChainNode.of(diskIndex, depth, Path.of(file.file()), format.drv()));
            }
        }
        if (chain.isEmpty()) {
            throw new SiphonException(ErrorCode.OPERATION_FAILED, "QEMU holds no node of disk " + target);
        }
        return chain;
    }

    /**
     * Deletes the nodes of {@code dropped} (format node, then file node), closing QEMU's descriptors
     * of those images; a failure is logged, since the pull itself has completed.
     */
    static void drop(QmpClient qmp, String domain, List<ChainNode> dropped) {
        for (ChainNode node : dropped) {
            for (String nodeName : List.of(node.formatNode(), node.storageNode())) {
                try {
                    qmp.execute(new QmpCommand.BlockdevDel(nodeName));
                } catch (SiphonException e) {
                    LOG.warn("domain {}: blockdev-del {} ({}): {}", domain, nodeName, node.path(), e.getMessage());
                }
            }
        }
    }
}
