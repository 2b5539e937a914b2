package io.siphon.util;

import java.io.IOException;
import java.util.Optional;

/**
 * Collects the failures of cleanup steps that must all run even when some fail: the first {@link
 * IOException} is kept and later ones are attached to it as suppressed. Not thread-safe; one per
 * cleanup.
 */
public final class FirstFailure {
    /** One cleanup step, such as closing a file. */
    @FunctionalInterface
    public interface Step {
        /** Runs the step. */
        void run() throws IOException;
    }

    private IOException failure;

    /** Runs {@code step}, recording its failure instead of throwing it. */
    public void run(Step step) {
        try {
            step.run();
        } catch (IOException e) {
            if (failure == null) {
                failure = e;
            } else {
                failure.addSuppressed(e);
            }
        }
    }

    /** The first failure recorded, carrying the later ones as suppressed; empty when every step succeeded. */
    public Optional<IOException> failure() {
        return Optional.ofNullable(failure);
    }

    /** Throws the first failure recorded, if any. */
    public void throwIfAny() throws IOException {
        if (failure != null) {
            throw failure;
        }
    }
}
