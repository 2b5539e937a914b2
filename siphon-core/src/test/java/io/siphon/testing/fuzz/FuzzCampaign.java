package io.siphon.testing.fuzz;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * One seeded fuzzing run of a target: it prints its base seed (case {@code i} uses seed {@code base
 * + i}, so {@code siphon.reliability.fuzz.seed} replays a run), runs each case in a worker with a
 * time limit, and counts it as passed, refused with a typed error, or a finding. A finding is a
 * case that threw anything but what the target calls typed, did not end in time, or let an
 * exception escape any thread (the default uncaught-exception handler is watched while a case
 * runs); its input is written to {@code target/fuzz-findings} under its seed. {@link #finish}
 * prints the figures {@code scripts/reliability} collects ({@code fuzz NAME: N executions, ...})
 * and fails the test when there were findings. Not thread-safe: one test drives it.
 */
public final class FuzzCampaign {
    /** One case: true when it ended in a typed refusal, false when it passed; anything thrown is a finding. */
    public interface Case {
        boolean run() throws Exception;
    }

    private final String name;
    private final String extension;
    private final Duration timeout;
    private final long baseSeed;
    private final int cases;
    private final List<String> findings = new ArrayList<>();
    private final List<Throwable> escaped = new CopyOnWriteArrayList<>();
    private int executions;
    private int typed;

    private FuzzCampaign(String name, String extension, Duration timeout, long baseSeed, int cases) {
        this.name = name;
        this.extension = extension;
        this.timeout = timeout;
        this.baseSeed = baseSeed;
        this.cases = cases;
    }

    /**
     * A run named {@code name} (as its figures line says) whose inputs are kept as {@code
     * *.extension}, of {@code siphon.reliability.fuzz.NAME.cases} cases, else {@code
     * siphon.reliability.fuzz.cases}, else {@code defaultCases}, each limited to {@code timeout}.
     */
    public static FuzzCampaign start(String name, String extension, int defaultCases, Duration timeout) {
        int cases = Integer.getInteger(
                "siphon.reliability.fuzz." + name + ".cases",
                Integer.getInteger("siphon.reliability.fuzz.cases", defaultCases));
        long baseSeed = Long.getLong("siphon.reliability.fuzz.seed", System.nanoTime());
        System.out.println("fuzz " + name + ": base seed " + baseSeed + ", " + cases + " cases");
        return new FuzzCampaign(name, extension, timeout, baseSeed, cases);
    }

    /** How many generated cases to run. */
    public int cases() {
        return cases;
    }

    /** The seed of generated case {@code i}. */
    public long seed(int i) {
        return baseSeed + i;
    }

    /** The kept cases of {@code *.extension} in {@code dir} (a test's resources), sorted; none if it is missing. */
    public List<Path> corpus(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith("." + extension))
                    .sorted()
                    .toList();
        }
    }

    /** Runs {@code target} on {@code input} (kept if it is a finding) under {@code label}. */
    public void run(String label, byte[] input, Case target) {
        executions++;
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        escaped.clear();
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> escaped.add(e));
        ExecutorService worker = Executors.newSingleThreadExecutor();
        try {
            Future<Boolean> outcome = worker.submit(target::run);
            if (outcome.get(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                typed++;
            }
            if (!escaped.isEmpty()) {
                keep(label, input, "escaped a thread: " + escaped.getFirst());
            }
        } catch (TimeoutException e) {
            keep(label, input, "no answer in " + timeout.toSeconds() + " s");
        } catch (ExecutionException e) {
            keep(label, input, String.valueOf(e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            keep(label, input, "interrupted");
        } finally {
            worker.shutdownNow();
            Thread.setDefaultUncaughtExceptionHandler(previous);
        }
    }

    /** Records a finding an oracle outside a case made (a bystander failed, data was lost). */
    public void keep(String label, byte[] input, String what) {
        try {
            Path kept = Path.of("target", "fuzz-findings");
            Files.createDirectories(kept);
            Path file = kept.resolve(name + "-" + label.replace(' ', '-') + "." + extension);
            Files.write(file, input);
            findings.add(label + ": " + what + " (" + file + ")");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Prints the figures and fails when there were findings. */
    public void finish() {
        System.out.printf(
                "fuzz %s: %d executions, %d refused with a typed error, %d findings%n",
                name, executions, typed, findings.size());
        if (!findings.isEmpty()) {
            fail(findings.size() + " findings (kept in target/fuzz-findings):\n" + String.join("\n", findings));
        }
    }
}
