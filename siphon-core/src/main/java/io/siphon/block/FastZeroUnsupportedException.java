package io.siphon.block;

import java.io.IOException;

/** A write-zeroes with {@link RequestFlag#NO_FALLBACK} that the node could only do slowly. */
public final class FastZeroUnsupportedException extends IOException {
    public FastZeroUnsupportedException(String message) {
        super(message);
    }
}
