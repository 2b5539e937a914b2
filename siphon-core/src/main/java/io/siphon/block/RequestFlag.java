package io.siphon.block;

/** Per-request flags, as NBD and QEMU's block layer know them. */
public enum RequestFlag {
    /** Read: copy what the top node lacks into it in the same request. */
    COPY_ON_READ,
    /** Write: the data is durable when the request completes. */
    FUA,
    /** Write-zeroes: the node may deallocate the range instead of writing zeroes (NBD: not NO_HOLE). */
    MAY_UNMAP,
    /**
     * Any request: made by a block job, not by the guest, so it is left out of the guest's I/O
     * figures at the disk's front (QEMU marks its stream reads BDRV_REQ_PREFETCH for a like reason).
     */
    BACKGROUND,
    /** Write-zeroes: fail with {@link FastZeroUnsupportedException} rather than write zeroes slowly. */
    NO_FALLBACK
}
