package io.siphon.job;

/**
 * What a kind of job does, as callbacks the engine calls with QEMU's rules: {@link #run} does the
 * work (in the background, or one increment per {@link #step}); after a successful run, {@link
 * #prepare} makes the result durable and may fail; then exactly one of {@link #commit} (prepare
 * succeeded) or {@link #abort} (run or prepare failed, or the job was cancelled) runs, never both;
 * {@link #clean} always runs last. Callbacks are called by one thread at a time.
 */
public interface JobDriver {
    /** The job type as events and infos name it, e.g. "stream". */
    String type();

    /**
     * Does all the work, calling {@link JobContext#pausePoint()} between units of work. Throws
     * {@link JobCancelledException} from a pause point when cancelled; any other exception fails the
     * job.
     */
    void run(JobContext context) throws Exception;

    /**
     * Does the next increment synchronously and says whether the work is now complete. Jobs without
     * single-increment mode refuse it.
     */
    default boolean step(JobContext context) throws Exception {
        throw new UnsupportedOperationException(type() + " jobs have no single-increment mode");
    }

    /** Makes the result of a successful run durable; a failure here aborts the job. */
    default void prepare() throws Exception {}

    /** Publishes the result, after prepare succeeded. Must not fail (failures are logged). */
    default void commit() {}

    /** Undoes or forgets what run did, after a failure or cancel. Must not fail. */
    default void abort() {}

    /** Releases what the job held, whatever the outcome. Must not fail. */
    default void clean() {}

    /** Changes the job's speed limit in bytes per second (0 = unlimited). */
    default void setSpeed(long bytesPerSecond) {
        throw new UnsupportedOperationException(type() + " jobs have no speed limit");
    }

    /** The current speed limit in bytes per second, 0 when unlimited. */
    default long speed() {
        return 0;
    }
}
