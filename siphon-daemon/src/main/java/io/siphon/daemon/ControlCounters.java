package io.siphon.daemon;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the control servers of one daemon answered: requests by command (its wire name), and error
 * replies by command and error code. Thread-safe; the counts only grow.
 */
public final class ControlCounters {
    /** The command name counted for a line that is not a valid command. */
    public static final String INVALID = "(invalid)";

    /** A command and an error code, the key of an error count. */
    public record Failure(String command, String code) {}

    private final ConcurrentMap<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final ConcurrentMap<Failure, LongAdder> errors = new ConcurrentHashMap<>();

    /** Counts one request of {@code command}, and its error when the reply was one. */
    void count(String command, Optional<String> errorCode) {
        requests.computeIfAbsent(command, c -> new LongAdder()).increment();
        errorCode.ifPresent(code -> errors.computeIfAbsent(new Failure(command, code), f -> new LongAdder())
                .increment());
    }

    /** Requests so far by command, sorted by name. */
    public Map<String, Long> requests() {
        Map<String, Long> out = new TreeMap<>();
        requests.forEach((command, count) -> out.put(command, count.sum()));
        return out;
    }

    /** Error replies so far by command and code. */
    public Map<Failure, Long> errors() {
        Map<Failure, Long> out = new java.util.HashMap<>();
        errors.forEach((failure, count) -> out.put(failure, count.sum()));
        return out;
    }
}
