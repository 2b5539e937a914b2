package io.siphon.api;

/** Whether a domain's disks are open and exported. */
public enum DomainState {
    /** Defined, disks closed. */
    SHUTOFF,
    /** Started: chains open, locked and exported over NBD. */
    RUNNING
}
