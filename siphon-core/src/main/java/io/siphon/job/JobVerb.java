package io.siphon.job;

/**
 * What a caller can ask of a job; which status allows which verb is the table in {@link #ALLOWED},
 * as QEMU's JobVerbTable, plus {@link #STEP} for single-increment jobs. Immutable.
 */
public enum JobVerb {
    CANCEL,
    PAUSE,
    RESUME,
    SET_SPEED,
    COMPLETE,
    FINALIZE,
    DISMISS,
    CHANGE,
    /** Run one increment synchronously (the original BlockPull). */
    STEP;

    /** Row = verb, column = status in declaration order U C R P Y S W D X E N; '1' allows it. */
    static final String[] ALLOWED = {
        /* CANCEL    */ "0 1 1 1 1 1 1 1 0 0 0",
        /* PAUSE     */ "0 1 1 1 1 1 0 0 0 0 0",
        /* RESUME    */ "0 1 1 1 1 1 0 0 0 0 0",
        /* SET_SPEED */ "0 1 1 1 1 1 0 0 0 0 0",
        /* COMPLETE  */ "0 0 0 0 1 0 0 0 0 0 0",
        /* FINALIZE  */ "0 0 0 0 0 0 0 1 0 0 0",
        /* DISMISS   */ "0 0 0 0 0 0 0 0 0 1 0",
        /* CHANGE    */ "0 1 1 1 1 1 1 1 0 0 0",
        /* STEP      */ "0 1 1 0 0 0 0 0 0 0 0",
    };

    /** Whether a job in {@code status} accepts this verb. */
    public boolean allowedIn(JobStatus status) {
        return ALLOWED[ordinal()].charAt(2 * status.ordinal()) == '1';
    }
}
