package io.siphon.api;

/** How a block job ended (or that it is ready); libvirt's {@code VIR_DOMAIN_BLOCK_JOB_*} event status. */
public enum BlockJobStatus {
    /** All data was copied and the chain changed. */
    COMPLETED,
    /** The job stopped on an error; the chain is unchanged. */
    FAILED,
    /** The job was aborted; the chain is unchanged (copied data stays, it is valid). */
    CANCELED,
    /** The job is ready to be pivoted (not used by pull jobs, which complete by themselves). */
    READY
}
