package io.siphon.api;

/**
 * Where a stepped pull stands after one increment.
 *
 * @param curBytes bytes processed so far
 * @param endBytes bytes to process in all
 * @param completed whether this step finished the job (the chain has changed)
 */
public record BlockJobProgress(long curBytes, long endBytes, boolean completed) {
    public BlockJobProgress {
        if (curBytes < 0 || endBytes < 0) {
            throw new IllegalArgumentException("negative progress " + curBytes + "/" + endBytes);
        }
    }
}
