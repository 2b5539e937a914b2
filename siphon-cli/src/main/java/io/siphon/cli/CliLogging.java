package io.siphon.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.LoggerFactory;

/**
 * The command line's logging: library warnings on stderr as one {@code siphon: warning: ...} line
 * each, without stack traces; with {@code --debug} every level, with them. Found by logback through
 * the {@link Configurator} service, so that no configuration file is looked for at start-up; {@code
 * siphon daemon} replaces it with the daemon's log.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_TOP_PRIORITY)
public final class CliLogging extends ContextAwareBase implements Configurator {
    // logback has no lower-case level: name the two levels a quiet run shows
    private static final String QUIET =
            "siphon: %replace(%replace(%level){'WARN','warning'}){'ERROR','error'}: %msg%n%nopex";
    private static final String DEBUG = "siphon: %d{HH:mm:ss.SSS} %-5level [%thread] %logger{36}: %msg%n";

    /** Logback's start-up: the quiet setting. */
    @Override
    public ExecutionStatus configure(LoggerContext context) {
        install(context, false);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** Sets this process's logging for one command, quiet or {@code --debug}. */
    public static void configure(boolean debug) {
        install((LoggerContext) LoggerFactory.getILoggerFactory(), debug);
    }

    private static void install(LoggerContext context, boolean debug) {
        context.reset();
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(debug ? DEBUG : QUIET);
        encoder.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("stderr");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(debug ? Level.DEBUG : Level.WARN);
        root.addAppender(stderr);
    }
}
