package io.siphon.api;

/** The order in which a pull copies a disk. */
public enum PullOrder {
    /** From the start of the disk to its end. */
    OFFSET,
    /**
     * The clusters guests of the disk's template read first after a start (its access profile),
     * hottest first, then the rest in offset order; offset order alone when there is no usable
     * profile.
     */
    PROFILE
}
