package io.siphon.qemu.qmp;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * The QMP commands the qemu driver sends, one record each, named and shaped as in QEMU's
 * {@code qapi/block-core.json}, {@code qapi/block-export.json} and {@code qapi/job.json}; a record's
 * components are the command's arguments. {@code R} is the reply's type.
 */
public sealed interface QmpCommand<R> {
    /** The command's QMP name. */
    String name();

    /** What the command returns. */
    Class<R> replyType();

    /** The {@code arguments} object (the record itself unless it carries a JSON tree). */
    default Object arguments() {
        return this;
    }

    /** The reply of a command that returns nothing ({@code {"return": {}}}). */
    enum Done {
        DONE
    }

    /** {@code qmp_capabilities}: leaves capabilities negotiation mode. */
    record Capabilities() implements QmpCommand<Done> {
        public String name() {
            return "qmp_capabilities";
        }

        public Class<Done> replyType() {
            return Done.class;
        }
    }

    /** {@code query-version}. */
    record QueryVersion() implements QmpCommand<VersionReply> {
        public String name() {
            return "query-version";
        }

        public Class<VersionReply> replyType() {
            return VersionReply.class;
        }
    }

    /** {@code blockdev-add} of one node; build with {@link #file}, {@link #format} or {@link #copyOnRead}. */
    record BlockdevAdd(ObjectNode options) implements QmpCommand<Done> {
        public BlockdevAdd {
            Objects.requireNonNull(options, "options");
        }

        /** A protocol node on a local file; {@code readOnly} for an image below the top. */
        public static BlockdevAdd file(String nodeName, Path filename, boolean readOnly) {
            ObjectNode o = node("file", nodeName, readOnly);
            o.put("filename", filename.toString());
            return new BlockdevAdd(o);
        }

        /**
         * A format node over {@code fileNode}. {@code backing} is the backing node's name, or empty
         * for none ({@code "backing": null}, so that QEMU opens nothing by itself); raw has no backing.
         */
        public static BlockdevAdd format(
                String nodeName, String driver, String fileNode, Optional<String> backing, boolean readOnly) {
            ObjectNode o = node(driver, nodeName, readOnly);
            o.put("file", fileNode);
            if (!driver.equals("raw")) {
                if (backing.isPresent()) {
                    o.put("backing", backing.get());
                } else {
                    o.putNull("backing");
                }
            }
            return new BlockdevAdd(o);
        }

        /** A copy-on-read filter over {@code fileNode}: reads of backing data are written into it. */
        public static BlockdevAdd copyOnRead(String nodeName, String fileNode) {
            ObjectNode o = node("copy-on-read", nodeName, false);
            o.put("file", fileNode);
            return new BlockdevAdd(o);
        }

        private static ObjectNode node(String driver, String nodeName, boolean readOnly) {
            ObjectNode o = QmpJson.MAPPER.createObjectNode();
            o.put("driver", driver);
            o.put("node-name", nodeName);
            if (readOnly) {
                o.put("read-only", true);
            }
            return o;
        }

        @Override
        public Object arguments() {
            return options;
        }

        public String name() {
            return "blockdev-add";
        }

        public Class<Done> replyType() {
            return Done.class;
        }
    }

    /** {@code blockdev-del}: closes a node no one uses (and its file descriptor). */
    record BlockdevDel(@JsonProperty("node-name") String nodeName) implements QmpCommand<Done> {
        public String name() {
            return "blockdev-del";
        }

        public Class<Done> replyType() {
            return Done.class;
        }
    }

    /** {@code nbd-server-start} on a Unix socket ({@code SocketAddressLegacy}: type and data). */
    record NbdServerStart(JsonNode addr) implements QmpCommand<Done> {
        public static NbdServerStart unix(Path socket) {
            ObjectNode addr = QmpJson.MAPPER.createObjectNode();
            addr.put("type", "unix");
            addr.putObject("data").put("path", socket.toString());
            return new NbdServerStart(addr);
        }

        public String name() {
            return "nbd-server-start";
        }

        public Class<Done> replyType() {
            return Done.class;
        }
    }

    /** {@code block-export-add} of an NBD export of {@code nodeName} under {@code exportName}. */
    record BlockExportAdd(
            String type,
            String id,
            @JsonProperty("node-name") String nodeName,
            @JsonProperty("name") String exportName,
            boolean writable,
            @JsonProperty("allocation-depth") boolean allocationDepth)
            implements QmpCommand<Done> {
        public static BlockExportAdd nbd(String id, String nodeName, String exportName, boolean writable) {
            return new BlockExportAdd("nbd", id, nodeName, exportName, writable, true);
        }

        public String name() {
            return "block-export-add";
        }

        public Class<Done> replyType() {
            return Done.class;
        }
    }

    /** {@code block-export-del}; {@code BLOCK_EXPORT_DELETED} follows once its clients are gone. */
    record BlockExportDel(String id) implements QmpCommand<Done> {
        public String name() {
            return "block-export-del";
        }

        public Class<Done> replyType() {
            return Done.class;
        }
    }

    /**
     * {@code block-stream}: copies the data of the images above {@code baseNode} (the whole chain when
     * null) into {@code device}. {@code backingFile} is the name written into the top (null: the
     * base's filename); {@code speed} in bytes/s, 0 for none.
     */
    record BlockStream(
            @JsonProperty("job-id") String jobId,
            String device,
            @JsonProperty("base-node") String baseNode,
            @JsonProperty("backing-file") String backingFile,
            long speed,
            @JsonProperty("on-error") String onError,
            @JsonProperty("auto-finalize") boolean autoFinalize,
            @JsonProperty("auto-dismiss") boolean autoDismiss)
            implements QmpCommand<Done> {
        public String name() {
            return "block-stream";
        }

        public Class<Done> replyType() {
            return Done.class;
        }
    }

    /** {@code query-block-jobs}. */
    record QueryBlockJobs() implements QmpCommand<BlockJobReply[]> {
        public String name() {
            return "query-block-jobs";
        }

        public Class<BlockJobReply[]> replyType() {
            return BlockJobReply[].class;
        }
    }

    /** {@code block-job-set-speed}, bytes/s, 0 for none. */
    record BlockJobSetSpeed(String device, long speed) implements QmpCommand<Done> {
        public String name() {
            return "block-job-set-speed";
        }

        public Class<Done> replyType() {
            return Done.class;
        }
    }

    /** {@code block-job-pause}. */
    record BlockJobPause(String device) implements QmpCommand<Done> {
        public String name() {
            return "block-job-pause";
        }

        public Class<Done> replyType() {
            return Done.class;
        }
    }

    /** {@code block-job-resume}. */
    record BlockJobResume(String device) implements QmpCommand<Done> {
        public String name() {
            return "block-job-resume";
        }

        public Class<Done> replyType() {
            return Done.class;
        }
    }

    /** {@code block-job-cancel}; a cancelled stream keeps the backing link. */
    record BlockJobCancel(String device) implements QmpCommand<Done> {
        public String name() {
            return "block-job-cancel";
        }

        public Class<Done> replyType() {
            return Done.class;
        }
    }

    /** {@code job-dismiss}: removes a concluded job (started with auto-dismiss off). */
    record JobDismiss(String id) implements QmpCommand<Done> {
        public String name() {
            return "job-dismiss";
        }

        public Class<Done> replyType() {
            return Done.class;
        }
    }

    /** {@code query-named-block-nodes} with {@code flat}: every node, once. */
    record QueryNamedBlockNodes(boolean flat) implements QmpCommand<NamedNodeReply[]> {
        public String name() {
            return "query-named-block-nodes";
        }

        public Class<NamedNodeReply[]> replyType() {
            return NamedNodeReply[].class;
        }
    }

    /** {@code quit}: QEMU exits after replying. */
    record Quit() implements QmpCommand<Done> {
        public String name() {
            return "quit";
        }

        public Class<Done> replyType() {
            return Done.class;
        }
    }

    /** {@code system_powerdown}: presses the machine's ACPI power button (qapi/machine.json). */
    record SystemPowerdown() implements QmpCommand<Done> {
        public String name() {
            return "system_powerdown";
        }

        public Class<Done> replyType() {
            return Done.class;
        }
    }

    /** {@code cont}: runs a machine started paused ({@code -S}). */
    record Cont() implements QmpCommand<Done> {
        public String name() {
            return "cont";
        }

        public Class<Done> replyType() {
            return Done.class;
        }
    }

    /**
     * {@code device_add} of a virtio-blk-pci device over block node {@code drive} (qapi/qdev.json),
     * sharing writes with the node's other user, its NBD export ({@code share-rw}).
     */
    record VirtioBlkAdd(String id, String drive, Optional<Integer> bootindex) implements QmpCommand<Done> {
        public VirtioBlkAdd {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(drive, "drive");
            Objects.requireNonNull(bootindex, "bootindex");
        }

        @Override
        public Object arguments() {
            ObjectNode o = QmpJson.MAPPER.createObjectNode();
            o.put("driver", "virtio-blk-pci");
            o.put("id", id);
            o.put("drive", drive);
            o.put("share-rw", true);
            bootindex.ifPresent(i -> o.put("bootindex", i));
            return o;
        }

        public String name() {
            return "device_add";
        }

        public Class<Done> replyType() {
            return Done.class;
        }
    }

    /** The reply of {@code query-version}. */
    record VersionReply(
            QemuVersion qemu, @JsonProperty("package") String packageName) {
        /** QEMU's version triple. */
        public record QemuVersion(int major, int minor, int micro) {}
    }

    /** One job of {@code query-block-jobs}; offset/len are meaningful only as a ratio. */
    record BlockJobReply(
            String type,
            String device,
            long len,
            long offset,
            boolean busy,
            boolean paused,
            long speed,
            boolean ready,
            String status,
            String error) {
        /** Whether the job has ended and waits to be dismissed. */
        public boolean concluded() {
            return "concluded".equals(status);
        }
    }

    /** One node of {@code query-named-block-nodes}, with its image's sizes. */
    record NamedNodeReply(
            @JsonProperty("node-name") String nodeName, String drv, String file, boolean ro, ImageReply image) {}

    /** A node's {@code ImageInfo}: the guest's size and the host storage the file holds. */
    record ImageReply(
            @JsonProperty("virtual-size") long virtualSize,
            @JsonProperty("actual-size") long actualSize) {}

    /** {@code query-blockstats}: the I/O counters of the block backends a device uses. */
    record QueryBlockstats() implements QmpCommand<BlockStatsReply[]> {
        public String name() {
            return "query-blockstats";
        }

        public Class<BlockStatsReply[]> replyType() {
            return BlockStatsReply[].class;
        }
    }

    /** One backend of {@code query-blockstats}: its root node, its device and its counters. */
    record BlockStatsReply(@JsonProperty("node-name") String nodeName, String qdev, BlockDeviceStats stats) {}

    /** QEMU's {@code BlockDeviceStats}, the fields libvirt reads; times in nanoseconds. */
    record BlockDeviceStats(
            @JsonProperty("rd_operations") long rdOperations,
            @JsonProperty("rd_bytes") long rdBytes,
            @JsonProperty("wr_operations") long wrOperations,
            @JsonProperty("wr_bytes") long wrBytes,
            @JsonProperty("flush_operations") long flushOperations,
            @JsonProperty("rd_total_time_ns") long rdTotalTimeNs,
            @JsonProperty("wr_total_time_ns") long wrTotalTimeNs,
            @JsonProperty("flush_total_time_ns") long flushTotalTimeNs) {}
}
