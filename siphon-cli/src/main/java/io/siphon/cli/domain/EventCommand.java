package io.siphon.cli.domain;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.Connection;
import io.siphon.api.LifecycleEvent;
import io.siphon.api.ListenerHandle;
import io.siphon.api.SiphonEvent;
import io.siphon.cli.CliException;
import io.siphon.cli.view.JobProgress;
import io.siphon.protocol.Event;
import io.siphon.protocol.EventMessage;
import io.siphon.protocol.MessageCodec;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code siphon event}: waits for domain events and prints them in virsh's words, e.g. {@code event
 * 'block-job' for domain 'demo': Block Pull for vda completed}.
 */
@Command(
        name = "event",
        description =
                "Wait for domain events (lifecycle, block-job, block-job-2) and print them; with --list, name them.",
        exitCodeOnInvalidInput = 1)
public final class EventCommand implements java.util.concurrent.Callable<Integer> {
    /** The event types Siphon delivers, by virsh's names. */
    static final List<String> EVENT_NAMES = List.of("lifecycle", "block-job", "block-job-2");

    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSxx", Locale.ROOT);

    @Spec
    CommandSpec spec;

    @Option(names = "--domain", paramLabel = "DOMAIN", description = "Only events of this domain (name or UUID).")
    Optional<String> domain = Optional.empty();

    @Option(
            names = "--event",
            paramLabel = "TYPE",
            description = "Wait for this event type: lifecycle, block-job or block-job-2.")
    Optional<String> event = Optional.empty();

    @Parameters(index = "0", arity = "0..1", paramLabel = "DOMAIN", description = "As --domain.")
    Optional<String> domainArgument = Optional.empty();

    @Parameters(index = "1", arity = "0..1", paramLabel = "EVENT", description = "As --event.")
    Optional<String> eventArgument = Optional.empty();

    @Option(names = "--all", description = "Wait for every event type.")
    boolean all;

    @Option(names = "--list", description = "List the event types and exit.")
    boolean list;

    @Option(names = "--loop", description = "Keep printing events until --timeout or Ctrl-C, rather than one.")
    boolean loop;

    @Option(names = "--timeout", paramLabel = "S", description = "Stop waiting after S seconds.")
    Optional<Integer> timeoutSeconds = Optional.empty();

    @Option(names = "--timestamp", description = "Print the time before each event.")
    boolean timestamp;

    @Mixin
    OutputOption output;

    @Override
    public Integer call() throws CliException, InterruptedException {
        domain = PositionalOrOption.of("domain", domainArgument, domain);
        event = PositionalOrOption.of("event", eventArgument, event);
        BlockpullCommand.exclusive("all", "event", all && event.isPresent());
        BlockpullCommand.exclusive("list", "all", list && all);
        BlockpullCommand.exclusive("list", "event", list && event.isPresent());
        boolean json = output.json();
        PrintWriter out = spec.commandLine().getOut();
        if (list) {
            EVENT_NAMES.forEach(out::println);
            out.println();
            return 0;
        }
        if (event.isEmpty() && !all) {
            throw new CliException("one of --list, --all, or --event <type> is required");
        }
        if (event.isPresent() && !EVENT_NAMES.contains(event.get())) {
            throw new CliException(
                    "unknown event type " + event.get() + " (known: " + String.join(", ", EVENT_NAMES) + ")");
        }
        if (timeoutSeconds.isPresent() && timeoutSeconds.get() <= 0) {
            throw new CliException("invalid timeout " + timeoutSeconds.get() + ": must be at least 1 second");
        }
        try (Connection connection = Connections.open(spec)) {
            Optional<String> only = domain.map(d -> connection.lookup(d).name());
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            List<ListenerHandle> handles = new ArrayList<>();
            Consumer<SiphonEvent> collect = e -> {
                if (only.isEmpty() || only.get().equals(e.domain())) {
                    (json ? describeJson(e) : describe(e)).forEach(lines::add);
                }
            };
            try (Interrupts interrupts = Interrupts.catchInterrupt()) {
                handles.add(connection.addLifecycleListener(collect::accept));
                handles.add(connection.addBlockJobListener(collect::accept));
                return print(out, lines, interrupts, json);
            } finally {
                handles.forEach(ListenerHandle::close);
            }
        }
    }

    /**
     * Prints the lines until one came (all, with --loop) or the wait ends; with {@code --output=json}
     * only the events' lines, so that the output is JSON lines. The exit status says whether an
     * event came.
     */
    private int print(PrintWriter out, BlockingQueue<String> lines, Interrupts interrupts, boolean json)
            throws InterruptedException {
        long deadline =
                timeoutSeconds.map(s -> System.nanoTime() + s * 1_000_000_000L).orElse(Long.MAX_VALUE);
        int count = 0;
        Optional<String> end = Optional.empty();
        while (true) {
            if (interrupts.caught()) {
                end = Optional.of("event loop interrupted");
                break;
            }
            if (System.nanoTime() >= deadline) {
                end = Optional.of("event loop timed out");
                break;
            }
            String line = lines.poll(100, TimeUnit.MILLISECONDS);
            if (line == null) {
                continue;
            }
            boolean stamped = timestamp && !json;
            out.println(stamped ? ZonedDateTime.now(ZoneOffset.UTC).format(TIMESTAMP) + ": " + line : line);
            out.flush();
            count++;
            if (!loop) {
                break;
            }
        }
        if (!json) {
            end.ifPresent(out::println);
            out.println("events received: " + count);
            out.println();
        }
        return count > 0 ? 0 : 1;
    }

    /** The protocol's event message for {@code e}, if a type it matches was asked for. */
    private List<String> describeJson(SiphonEvent e) {
        boolean wanted = switch (e) {
            case LifecycleEvent lifecycle -> wants("lifecycle");
            case BlockJobEvent job -> wants("block-job") || wants("block-job-2");
        };
        if (!wanted) {
            return List.of();
        }
        Instant now = Instant.now();
        long micros = Math.addExact(Math.multiplyExact(now.getEpochSecond(), 1_000_000L), now.getNano() / 1000);
        return List.of(MessageCodec.encode(new EventMessage(Event.of(e), micros)));
    }

    /** The lines virsh prints for {@code e}, one per registered event type it matches. */
    private List<String> describe(SiphonEvent e) {
        List<String> lines = new ArrayList<>();
        switch (e) {
            case LifecycleEvent lifecycle -> {
                if (wants("lifecycle")) {
                    lines.add("event 'lifecycle' for domain '" + lifecycle.domain() + "': "
                            + lifecycleWords(lifecycle.kind()));
                }
            }
            case BlockJobEvent job -> {
                for (String name : List.of("block-job", "block-job-2")) {
                    if (wants(name)) {
                        lines.add("event '" + name + "' for domain '" + job.domain() + "': "
                                + JobProgress.label(job.type())
                                + " for " + job.disk() + " "
                                + job.status().name().toLowerCase(Locale.ROOT)
                                + job.error().map(error -> " (" + error + ")").orElse(""));
                    }
                }
            }
        }
        return lines;
    }

    private boolean wants(String name) {
        return all || event.get().equals(name);
    }

    /** virsh's event and detail words. */
    static String lifecycleWords(LifecycleEvent.Kind kind) {
        return switch (kind) {
            case DEFINED -> "Defined Added";
            case UNDEFINED -> "Undefined Removed";
            case STARTED -> "Started Booted";
            case SHUTDOWN -> "Stopped Shutdown";
            case DESTROYED -> "Stopped Destroyed";
            case CRASHED -> "Stopped Crashed";
        };
    }
}
