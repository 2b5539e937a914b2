package io.siphon.testing.fuzz;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Copies what this process writes to stderr (where slf4j-simple logs) aside while a fuzz run goes
 * on, so that an oracle can require that the log tells of no unexpected failure: no ERROR line, no
 * stack trace, and no exception named that is not an {@link IOException} (a connection ended by an
 * {@code IndexOutOfBoundsException} is a parser fault, even when the server survives it).
 * Thread-safe.
 */
public final class LogWatch implements AutoCloseable {
    private static final Pattern EXCEPTION =
            Pattern.compile("\\b((?:java|javax|io|com)\\.[\\w.$]+(?:Exception|Error))\\b");

    private final PrintStream original = System.err;
    private final ByteArrayOutputStream copy = new ByteArrayOutputStream();

    private LogWatch() {}

    /** Starts copying stderr aside. */
    public static LogWatch start() {
        LogWatch watch = new LogWatch();
        OutputStream tee = new OutputStream() {
            @Override
            public void write(int b) {
                synchronized (watch.copy) {
                    watch.copy.write(b);
                }
                watch.original.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                synchronized (watch.copy) {
                    watch.copy.write(b, off, len);
                }
                watch.original.write(b, off, len);
            }
        };
        System.setErr(new PrintStream(tee, true, StandardCharsets.UTF_8));
        return watch;
    }

    /** The lines logged since the last call that tell of an unexpected failure (empty: none). */
    public List<String> unexpected() {
        String text;
        synchronized (copy) {
            text = copy.toString(StandardCharsets.UTF_8);
            copy.reset();
        }
        return text.lines().filter(LogWatch::unexpected).toList();
    }

    private static boolean unexpected(String line) {
        if (line.contains(" ERROR ") || line.startsWith("\tat ")) {
            return true;
        }
        Matcher m = EXCEPTION.matcher(line);
        while (m.find()) {
            if (!isIoException(m.group(1))) {
                return true;
            }
        }
        return false;
    }

    private static boolean isIoException(String className) {
        try {
            return IOException.class.isAssignableFrom(Class.forName(className, false, LogWatch.class.getClassLoader()));
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    @Override
    public void close() {
        System.setErr(original);
    }
}
