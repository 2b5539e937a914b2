package io.siphon.block;

/** Per-request flags, as NBD and QEMU's block layer know them. */
public enum RequestFlag {
    /** Read: copy what the top node lacks into it in the same request. */
    COPY_ON_READ,
    /** Write: the data is durable when the request completes. */
    FUA,
    /** Write-zeroes: the node may deallocate the range instead of writing zeroes (NBD: not NO_HOLE). */
    MAY_UNMAP,
    /** Write-zeroes: fail with {@link FastZeroUnsupportedException} rather than write zeroes slowly. */
    NO_FALLBACK
}
