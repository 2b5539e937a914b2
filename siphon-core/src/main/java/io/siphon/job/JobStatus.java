package io.siphon.job;

import java.util.EnumSet;
import java.util.Set;

/**
 * Where a job is in its life, as QEMU's JobStatus; which status may follow which is the table in
 * {@link #TRANSITIONS}, read row by row. Immutable.
 */
public enum JobStatus {
    /** Not yet set up (only before creation completes). */
    UNDEFINED,
    /** Created, not started: the caller may still add listeners, start it or step it. */
    CREATED,
    /** Working (in the background or between single steps). */
    RUNNING,
    /** Stopped at a pause point, by the user or by an error with the stop policy. */
    PAUSED,
    /** Work done, waiting for a completion command (for jobs that have one; a pull has none). */
    READY,
    /** Paused while ready. */
    STANDBY,
    /** Work done, waiting for the other jobs of its transaction. */
    WAITING,
    /** About to finalize: prepare, then commit or abort. */
    PENDING,
    /** Failed or cancelled; undoing and cleaning up. */
    ABORTING,
    /** Finished, with the outcome recorded; the terminal event has been sent. */
    CONCLUDED,
    /** Dismissed: gone from every list. */
    NULL;

    /**
     * The transition table (QEMU's JobSTT): row = from, column = to, in declaration order
     * U C R P Y S W D X E N; '1' allows the change.
     */
    static final String[] TRANSITIONS = {
        /* U */ "0 1 0 0 0 0 0 0 0 0 0",
        /* C */ "0 0 1 0 0 0 0 0 1 0 1",
        /* R */ "0 0 0 1 1 0 1 0 1 0 0",
        /* P */ "0 0 1 0 0 0 0 0 0 0 0",
        /* Y */ "0 0 0 0 0 1 1 0 1 0 0",
        /* S */ "0 0 0 0 1 0 0 0 0 0 0",
        /* W */ "0 0 0 0 0 0 0 1 1 0 0",
        /* D */ "0 0 0 0 0 0 0 0 1 1 0",
        /* X */ "0 0 0 0 0 0 0 0 1 1 0",
        /* E */ "0 0 0 0 0 0 0 0 0 0 1",
        /* N */ "0 0 0 0 0 0 0 0 0 0 0",
    };

    /** Whether a job in this status may move to {@code next}. */
    public boolean canMoveTo(JobStatus next) {
        return TRANSITIONS[ordinal()].charAt(2 * next.ordinal()) == '1';
    }

    /** Every status this one may move to. */
    public Set<JobStatus> successors() {
        Set<JobStatus> next = EnumSet.noneOf(JobStatus.class);
        for (JobStatus candidate : values()) {
            if (canMoveTo(candidate)) {
                next.add(candidate);
            }
        }
        return next;
    }

    /** Whether the job has finished (its outcome is known). */
    public boolean isTerminal() {
        return this == CONCLUDED || this == NULL;
    }
}
