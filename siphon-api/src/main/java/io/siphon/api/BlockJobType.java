package io.siphon.api;

/** The kind of a block job; libvirt's {@code VIR_DOMAIN_BLOCK_JOB_TYPE_*}. */
public enum BlockJobType {
    /** A block pull or rebase onto a base: data moves from the backing chain into the top. */
    PULL
}
