package io.siphon.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.util.FakeTimeSource;
import java.io.IOException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class JobTest {
    private static final Duration LONG = Duration.ofSeconds(30);

    private final FakeTimeSource clock = new FakeTimeSource();
    private final List<JobEvent> events = new CopyOnWriteArrayList<>();

    /** A job of {@code units} units of 100 bytes, with a pause point before each; records its callbacks. */
    private static class CountingDriver implements JobDriver {
        final List<String> calls = new CopyOnWriteArrayList<>();
        final int units;
        final AtomicInteger done = new AtomicInteger();
        final AtomicLong speed = new AtomicLong();
        volatile boolean failPrepare;
        volatile int failUnitOnce = -1;
        volatile CountDownLatch gate = new CountDownLatch(0);

        CountingDriver(int units) {
            this.units = units;
        }

        @Override
        public String type() {
            return "count";
        }

        @Override
        public void run(JobContext context) throws Exception {
            calls.add("run");
            context.setEnd(units * 100L);
            while (!doUnit(context)) {
                // next unit
            }
        }

        @Override
        public boolean step(JobContext context) throws Exception {
            calls.add("step");
            context.setEnd(units * 100L);
            return doUnit(context);
        }

        private boolean doUnit(JobContext context) throws Exception {
            context.pausePoint();
            gate.await();
            int unit = done.get();
            if (unit == failUnitOnce) {
                failUnitOnce = -1;
                context.reportError(new IOException("unit " + unit + " failed"), true);
                return false;
            }
            done.incrementAndGet();
            context.advance(100, 50);
            return done.get() == units;
        }

        @Override
        public void prepare() throws Exception {
            calls.add("prepare");
            if (failPrepare) {
                throw new IOException("prepare failed on purpose");
            }
        }

        @Override
        public void commit() {
            calls.add("commit");
        }

        @Override
        public void abort() {
            calls.add("abort");
        }

        @Override
        public void clean() {
            calls.add("clean");
        }

        @Override
        public void setSpeed(long bytesPerSecond) {
            speed.set(bytesPerSecond);
        }

        @Override
        public long speed() {
            return speed.get();
        }
    }

    private Job job(CountingDriver driver) {
        Job job = new Job("job0", "vda", driver, clock);
        job.addListener(events::add);
        return job;
    }

    private List<JobStatus> statuses() {
        return events.stream()
                .filter(e -> e instanceof JobEvent.StatusChanged)
                .map(JobEvent::status)
                .toList();
    }

    @Test
    void transitionTableIsQemus() {
        assertEquals(EnumSet.of(JobStatus.CREATED), JobStatus.UNDEFINED.successors());
        assertEquals(EnumSet.of(JobStatus.RUNNING, JobStatus.ABORTING, JobStatus.NULL), JobStatus.CREATED.successors());
        assertEquals(
                EnumSet.of(JobStatus.PAUSED, JobStatus.READY, JobStatus.WAITING, JobStatus.ABORTING),
                JobStatus.RUNNING.successors());
        assertEquals(EnumSet.of(JobStatus.RUNNING), JobStatus.PAUSED.successors(), "a paused job only resumes");
        assertEquals(EnumSet.of(JobStatus.ABORTING, JobStatus.CONCLUDED), JobStatus.PENDING.successors());
        assertEquals(EnumSet.of(JobStatus.NULL), JobStatus.CONCLUDED.successors());
        assertEquals(EnumSet.noneOf(JobStatus.class), JobStatus.NULL.successors());
        assertTrue(JobVerb.CANCEL.allowedIn(JobStatus.PAUSED));
        assertFalse(JobVerb.CANCEL.allowedIn(JobStatus.ABORTING));
        assertFalse(JobVerb.PAUSE.allowedIn(JobStatus.PENDING));
        assertFalse(JobVerb.STEP.allowedIn(JobStatus.PAUSED));
        assertTrue(JobVerb.DISMISS.allowedIn(JobStatus.CONCLUDED));
    }

    @Test
    void successRunsPrepareCommitCleanThenCompletes() throws Exception {
        CountingDriver driver = new CountingDriver(5);
        Job job = job(driver);
        job.start();
        assertTrue(job.awaitEnd(LONG));
        assertEquals(List.of("run", "prepare", "commit", "clean"), driver.calls);
        assertEquals(
                List.of(JobStatus.RUNNING, JobStatus.WAITING, JobStatus.PENDING, JobStatus.CONCLUDED, JobStatus.NULL),
                statuses());
        JobEvent outcome = events.get(events.size() - 2);
        assertInstanceOf(JobEvent.Completed.class, outcome);
        assertEquals(500, outcome.curBytes());
        assertEquals(500, outcome.endBytes());
        assertEquals("vda", outcome.device());
        assertEquals("count", outcome.jobType());
    }

    @Test
    void failedPrepareAbortsNeverCommits() throws Exception {
        CountingDriver driver = new CountingDriver(2);
        driver.failPrepare = true;
        Job job = job(driver);
        job.start();
        assertTrue(job.awaitEnd(LONG));
        assertEquals(List.of("run", "prepare", "abort", "clean"), driver.calls);
        JobEvent outcome = events.get(events.size() - 2);
        JobEvent.Failed failed = assertInstanceOf(JobEvent.Failed.class, outcome);
        assertEquals("prepare failed on purpose", failed.message());
        assertTrue(statuses().contains(JobStatus.ABORTING));
    }

    @Test
    void cancelWhilePausedResumesOnlyToAbort() throws Exception {
        CountingDriver driver = new CountingDriver(1000);
        Job job = job(driver);
        job.pause();
        job.start();
        assertTrue(job.awaitStatus(JobStatus.PAUSED, LONG));
        assertTrue(job.info().pausedByUser());
        job.cancel(true);
        assertEquals(JobStatus.NULL, job.status());
        assertEquals(List.of("run", "abort", "clean"), driver.calls);
        assertEquals(
                List.of(
                        JobStatus.RUNNING,
                        JobStatus.PAUSED,
                        JobStatus.RUNNING,
                        JobStatus.ABORTING,
                        JobStatus.CONCLUDED,
                        JobStatus.NULL),
                statuses());
        assertInstanceOf(JobEvent.Cancelled.class, events.get(events.size() - 2));
    }

    @Test
    void cancelBeforeStartAbortsFromCreated() throws Exception {
        CountingDriver driver = new CountingDriver(3);
        Job job = job(driver);
        job.cancel(false);
        assertEquals(JobStatus.NULL, job.status());
        assertEquals(List.of("abort", "clean"), driver.calls);
        assertThrows(JobStateException.class, job::start);
    }

    @Test
    void verbsTheStatusForbidsAreRefusedWithTheStatusNamed() throws Exception {
        CountingDriver driver = new CountingDriver(3);
        driver.gate = new CountDownLatch(1);
        Job job = job(driver);
        JobStateException notPaused = assertThrows(JobStateException.class, job::resume);
        assertTrue(notPaused.getMessage().contains("job0"), notPaused.getMessage());
        assertTrue(notPaused.getMessage().contains("created"), notPaused.getMessage());
        job.start();
        JobStateException both = assertThrows(JobStateException.class, job::step);
        assertTrue(both.getMessage().contains("background"), both.getMessage());
        assertThrows(JobStateException.class, job::start);
        driver.gate.countDown();
        assertTrue(job.awaitEnd(LONG));
        assertThrows(JobStateException.class, () -> job.setSpeed(5));
        assertThrows(JobStateException.class, job::pause);
        assertThrows(JobStateException.class, () -> job.cancel(false));
    }

    @Test
    void stepsRunOneUnitEachAndTheLastFinishes() throws Exception {
        CountingDriver driver = new CountingDriver(3);
        Job job = job(driver);
        assertEquals(100, job.step().curBytes());
        assertEquals(JobStatus.RUNNING, job.status());
        assertThrows(JobStateException.class, job::start);
        job.pause();
        assertEquals(JobStatus.PAUSED, job.status());
        assertThrows(JobStateException.class, job::step);
        job.resume();
        assertEquals(200, job.step().curBytes());
        Progress last = job.step();
        assertEquals(300, last.curBytes());
        assertTrue(last.isDone());
        assertEquals(JobStatus.NULL, job.status());
        assertEquals(List.of("step", "step", "step", "prepare", "commit", "clean"), driver.calls);
        assertInstanceOf(JobEvent.Completed.class, events.get(events.size() - 2));
    }

    @Test
    void aSteppedJobContinuesInTheBackgroundFromWhereTheStepsStopped() throws Exception {
        CountingDriver driver = new CountingDriver(4);
        Job job = job(driver);
        assertThrows(JobStateException.class, job::continueInBackground); // never stepped
        job.step();
        assertEquals(200, job.step().curBytes());
        job.continueInBackground();
        assertThrows(JobStateException.class, job::continueInBackground);
        assertThrows(JobStateException.class, job::step);
        assertTrue(job.awaitEnd(LONG));
        assertEquals(List.of("step", "step", "run", "prepare", "commit", "clean"), driver.calls);
        assertEquals(4, driver.done.get());
        JobEvent.Completed completed = assertInstanceOf(JobEvent.Completed.class, events.get(events.size() - 2));
        assertEquals(400, completed.curBytes());
    }

    @Test
    void errorWithStopPausesUntilResumedThenRetries() throws Exception {
        CountingDriver driver = new CountingDriver(4);
        driver.failUnitOnce = 2;
        Job job = job(driver);
        job.start();
        assertTrue(job.awaitStatus(JobStatus.PAUSED, LONG));
        JobInfo stopped = job.info();
        assertEquals("unit 2 failed", stopped.error().orElseThrow());
        assertEquals(200, stopped.progress().curBytes());
        JobEvent.ErrorReported reported = events.stream()
                .filter(e -> e instanceof JobEvent.ErrorReported)
                .map(e -> (JobEvent.ErrorReported) e)
                .findFirst()
                .orElseThrow();
        assertTrue(reported.stopped());
        job.resume();
        assertTrue(job.awaitEnd(LONG));
        assertEquals(4, driver.done.get());
        assertInstanceOf(JobEvent.Completed.class, events.get(events.size() - 2));
    }

    @Test
    void sleepWakesOnSpeedChangeAndRateCountsRunningTimeOnly() throws Exception {
        CountDownLatch slept = new CountDownLatch(1);
        JobDriver sleeper = new CountingDriver(1) {
            @Override
            public void run(JobContext context) throws Exception {
                context.setEnd(1000);
                clock.advance(1_000_000_000L);
                context.advance(500, 500);
                context.sleep(Long.MAX_VALUE / 4);
                slept.countDown();
                context.advance(500, 0);
            }
        };
        Job job = new Job("j", "vda", sleeper, clock);
        job.start();
        // the sleeper waits on the clock only after its first 500 bytes; three waits mean it woke
        // twice, saw the fake clock short of its deadline and went back to sleep
        assertTrue(clock.awaitWaits(3, LONG), "the job sleeps on the clock");
        assertEquals(500, job.progress().copiedBytes());
        assertEquals(1, slept.getCount(), "still asleep: the fake clock has not moved far enough");
        Progress halfway = job.progress();
        assertEquals(500, halfway.bytesPerSecond(), "500 bytes in one fake second");
        assertEquals(Duration.ofSeconds(1), halfway.remaining().orElseThrow());
        job.setSpeed(1);
        assertTrue(job.awaitEnd(LONG));
        assertEquals(0, slept.getCount());
    }
}
