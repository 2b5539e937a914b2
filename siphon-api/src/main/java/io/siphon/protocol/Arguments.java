package io.siphon.protocol;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A command's arguments, read with their types checked; {@link #done()} refuses members the command
 * does not know. Every check runs before the command acts, so a rejected command changes nothing.
 * Not thread-safe.
 */
final class Arguments {
    private final String command;
    private final Map<String, Object> values;
    private final Set<String> read = new HashSet<>();

    Arguments(String command, Map<String, Object> values) {
        this.command = command;
        this.values = values;
    }

    String string(String name) {
        return optionalString(name).orElseThrow(() -> invalid("needs argument '" + name + "'"));
    }

    Optional<String> optionalString(String name) {
        read.add(name);
        Object value = values.get(name);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof String s)) {
            throw invalid("argument '" + name + "' must be a string, not " + Json.write(value));
        }
        return Optional.of(s);
    }

    long nonNegativeLong(String name, long defaultValue) {
        read.add(name);
        Object value = values.get(name);
        if (value == null) {
            return defaultValue;
        }
        if (!(value instanceof Long l)) {
            throw invalid("argument '" + name + "' must be an integer, not " + Json.write(value));
        }
        if (l < 0) {
            throw invalid("argument '" + name + "' must not be negative, is " + l);
        }
        return l;
    }

    boolean bool(String name, boolean defaultValue) {
        read.add(name);
        Object value = values.get(name);
        if (value == null) {
            return defaultValue;
        }
        if (!(value instanceof Boolean b)) {
            throw invalid("argument '" + name + "' must be true or false, not " + Json.write(value));
        }
        return b;
    }

    /** Refuses any argument the command did not read. */
    void done() {
        for (String name : values.keySet()) {
            if (!read.contains(name)) {
                throw invalid("has no argument '" + name + "'");
            }
        }
    }

    private SiphonException invalid(String what) {
        return new SiphonException(ErrorCode.INVALID_ARG, "command '" + command + "' " + what);
    }
}
