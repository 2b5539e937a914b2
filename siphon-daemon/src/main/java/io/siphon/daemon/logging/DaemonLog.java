package io.siphon.daemon.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.filter.ThresholdFilter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedFileNamingAndTriggeringPolicy;
import ch.qos.logback.core.rolling.TimeBasedRollingPolicy;
import ch.qos.logback.core.util.Duration;
import ch.qos.logback.core.util.FileSize;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.LoggerFactory;

/**
 * The daemon's log: every event at {@code level} and above into a rolling file (rotated daily and
 * when it reaches {@code maxFileBytes}, archives kept for {@code maxHistoryDays}, mode 0600), and
 * warnings and errors also on stderr (for the journal under systemd, or the session daemon's
 * {@code daemon.log}). Replaces whatever logging the process had.
 *
 * @param file the active log file; archives beside it are named {@code NAME.DATE.N.log}
 * @param level the least severe level written to the file
 * @param maxFileBytes the size at which the file is rotated before its day ends
 * @param maxHistoryDays how many days of archives are kept
 */
public record DaemonLog(Path file, Level level, long maxFileBytes, int maxHistoryDays) {
    /** Timestamp with offset, level, thread, logger, message; a throwable's stack trace follows it. */
    static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger: %msg%n";

    /** The file name of the active log in the state directory's {@code log/} directory. */
    public static final String FILE_NAME = "siphon-daemon.log";

    public DaemonLog {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(level, "level");
        if (maxFileBytes <= 0 || maxHistoryDays <= 0) {
            throw new IllegalArgumentException("log rotation: size " + maxFileBytes + " bytes and history "
                    + maxHistoryDays + " days must be positive");
        }
    }

    /** {@code error}, {@code warn}, {@code info}, {@code debug} or {@code trace}, as {@code --log-level} takes it. */
    public static Level parseLevel(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "error" -> Level.ERROR;
            case "warn" -> Level.WARN;
            case "info" -> Level.INFO;
            case "debug" -> Level.DEBUG;
            case "trace" -> Level.TRACE;
            default ->
                throw new IllegalArgumentException(
                        "'" + name + "' is not a log level (error, warn, info, debug, trace)");
        };
    }

    /** Points the process's logging at this file and stderr. */
    public void install() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();

        PrivateRollingFileAppender fileAppender = new PrivateRollingFileAppender();
        fileAppender.setContext(context);
        fileAppender.setName("file");
        fileAppender.setFile(file.toString());
        String name = file.getFileName().toString();
        String stem = name.endsWith(".log") ? name.substring(0, name.length() - 4) : name;
        TimeBasedRollingPolicy<ILoggingEvent> rolling = new TimeBasedRollingPolicy<>();
        rolling.setContext(context);
        rolling.setParent(fileAppender);
        // no compression: a renamed archive keeps the 0600 of the file it was
        rolling.setFileNamePattern(
                file.resolveSibling(stem + ".%d{yyyy-MM-dd}.%i.log").toString());
        rolling.setMaxHistory(maxHistoryDays);
        SizeAndTimeBasedFileNamingAndTriggeringPolicy<ILoggingEvent> trigger =
                new SizeAndTimeBasedFileNamingAndTriggeringPolicy<>();
        trigger.setContext(context);
        trigger.setMaxFileSize(new FileSize(maxFileBytes));
        // logback looks at the size once a minute by default; a stat per event is cheap at the daemon's rate
        trigger.setCheckIncrement(Duration.buildByMilliseconds(0));
        rolling.setTimeBasedFileNamingAndTriggeringPolicy(trigger);
        rolling.start();
        fileAppender.setRollingPolicy(rolling);
        fileAppender.setEncoder(encoder(context));
        fileAppender.start();
        if (!fileAppender.isStarted()) {
            throw new IllegalStateException("cannot open the log file " + file + " (see the messages above)");
        }

        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("stderr");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder(context));
        ThresholdFilter warnings = new ThresholdFilter();
        warnings.setLevel(Level.WARN.levelStr);
        warnings.setContext(context);
        warnings.start();
        stderr.addFilter(warnings);
        stderr.start();

        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(level);
        root.addAppender(fileAppender);
        root.addAppender(stderr);
    }

    private static PatternLayoutEncoder encoder(LoggerContext context) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        return encoder;
    }
}
