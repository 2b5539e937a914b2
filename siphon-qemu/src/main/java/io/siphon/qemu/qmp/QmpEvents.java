package io.siphon.qemu.qmp;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The data of the QMP events the qemu driver handles, as in QEMU's {@code qapi/block-core.json} and {@code qapi/job.json}. */
public final class QmpEvents {
    public static final String BLOCK_JOB_COMPLETED = "BLOCK_JOB_COMPLETED";
    public static final String BLOCK_JOB_CANCELLED = "BLOCK_JOB_CANCELLED";
    public static final String BLOCK_JOB_ERROR = "BLOCK_JOB_ERROR";
    public static final String BLOCK_IMAGE_CORRUPTED = "BLOCK_IMAGE_CORRUPTED";
    public static final String JOB_STATUS_CHANGE = "JOB_STATUS_CHANGE";
    public static final String SHUTDOWN = "SHUTDOWN";

    private QmpEvents() {}

    /**
     * {@code BLOCK_JOB_COMPLETED} or {@code BLOCK_JOB_CANCELLED}: {@code device} is the job id;
     * {@code error} is present only when the job failed (null otherwise).
     */
    public record BlockJobEnded(String type, String device, long len, long offset, long speed, String error) {}

    /** {@code BLOCK_JOB_ERROR}: an I/O error met by the job, and what it did about it. */
    public record BlockJobError(String device, String operation, String action) {}

    /** {@code BLOCK_IMAGE_CORRUPTED}: a format driver found damaged metadata in a node. */
    public record BlockImageCorrupted(
            String device, @JsonProperty("node-name") String nodeName, String msg, boolean fatal) {}

    /**
     * {@code SHUTDOWN} (qapi/run-state.json): the machine is stopping; {@code guest} when the guest
     * itself powered off, as opposed to a signal or QMP {@code quit}.
     */
    public record Shutdown(boolean guest, String reason) {}

    /** {@code JOB_STATUS_CHANGE}. */
    public record JobStatusChange(String id, String status) {}
}
