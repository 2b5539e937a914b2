package io.siphon.daemon.web;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.siphon.api.BlockJobState;
import io.siphon.api.DomainInfo;
import io.siphon.api.DomainState;
import io.siphon.daemon.ControlCounters;
import io.siphon.job.JobInfo;
import io.siphon.nbd.protocol.CommandType;
import io.siphon.nbd.server.NbdServerListener;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The daemon's Prometheus metrics (names in docs/console.md): per disk and job, read from the
 * engine when scraped; NBD traffic, counted as the server reports it (this is its listener);
 * control-protocol requests and errors; the JVM's own. One registry per console. Thread-safe.
 */
final class ConsoleMetrics implements NbdServerListener {
    private static final double[] LATENCY_SECONDS = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
    };

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final ConsoleModel model;
    private final Counter nbdConnections;
    private final Gauge nbdOpenConnections;
    private final Counter nbdRequests;
    private final Counter nbdRequestErrors;
    private final Counter nbdReadBytes;
    private final Counter nbdWrittenBytes;
    private final Histogram nbdLatency;

    ConsoleMetrics(ConsoleModel model, ControlCounters control) {
        this.model = model;
        JvmMetrics.builder().register(registry);
        for (Figure<RunningDiskRef> disk : List.<Figure<RunningDiskRef>>of(
                gauge(
                        "siphon_disk_size_bytes",
                        "Virtual size of a running disk.",
                        ref -> ref.disk().device().sizeBytes()),
                counter(
                        "siphon_disk_copied_bytes",
                        "Bytes copied into a disk's top from its template (pull and copy-on-read) since it opened.",
                        ref -> ref.disk().copiedBytes()),
                counter(
                        "siphon_disk_template_read_bytes",
                        "Bytes a disk's top read from its template (the images below it) since it opened.",
                        ref -> ref.disk().templateReadBytes()),
                gauge(
                        "siphon_disk_chain_images",
                        "Images in a running disk's chain, the top included.",
                        ref -> ref.disk().images().size()))) {
            register(disk, (ref, each) -> each.accept(ref, ref), model::runningDisks);
        }
        for (Figure<JobInfo> job : List.<Figure<JobInfo>>of(
                counter(
                        "siphon_job_copied_bytes",
                        "Bytes the disk's current job copied (skipped ranges excluded).",
                        info -> info.progress().copiedBytes()),
                gauge(
                        "siphon_job_progress_bytes",
                        "Bytes of the disk the current job has processed.",
                        info -> info.progress().curBytes()),
                gauge(
                        "siphon_job_end_bytes",
                        "Bytes of the disk the current job processes in all.",
                        info -> info.progress().endBytes()),
                gauge(
                        "siphon_job_speed_limit_bytes_per_second",
                        "The current job's speed limit (0: none).",
                        JobInfo::speedBytesPerSecond),
                gauge(
                        "siphon_job_rate_bytes_per_second",
                        "The current job's average copy rate.",
                        info -> info.progress().bytesPerSecond()))) {
            register(
                    job,
                    (ref, each) -> ConsoleModel.engineJob(ref.disk()).ifPresent(info -> each.accept(ref, info)),
                    model::runningDisks);
        }
        GaugeWithCallback.builder()
                .name("siphon_job_state")
                .help("1 for the state the disk's current job is in (the API's block job states).")
                .labelNames("domain", "disk", "state")
                .callback(callback -> jobs((ref, job) -> {
                    String now = model.jobState(ref).orElse("");
                    for (BlockJobState state : BlockJobState.values()) {
                        callback.call(
                                state.name().equals(now) ? 1 : 0, ref.domain(), ref.target(), lower(state.name()));
                    }
                }))
                .register(registry);
        GaugeWithCallback.builder()
                .name("siphon_domains")
                .help("Domains defined, by state.")
                .labelNames("state")
                .callback(callback -> {
                    List<DomainInfo> domains = model.reader().list();
                    for (DomainState state : DomainState.values()) {
                        callback.call(
                                domains.stream().filter(d -> d.state() == state).count(), lower(state.name()));
                    }
                })
                .register(registry);
        CounterWithCallback.builder()
                .name("siphon_control_requests")
                .help("Control-protocol requests answered, by command.")
                .labelNames("command")
                .callback(callback -> control.requests().forEach((command, count) -> callback.call(count, command)))
                .register(registry);
        CounterWithCallback.builder()
                .name("siphon_control_errors")
                .help("Control-protocol error replies, by command and error code.")
                .labelNames("command", "code")
                .callback(callback -> control.errors()
                        .forEach((failure, count) -> callback.call(count, failure.command(), failure.code())))
                .register(registry);
        nbdConnections = Counter.builder()
                .name("siphon_nbd_connections")
                .help("NBD connections that finished their handshake, by export.")
                .labelNames("export")
                .register(registry);
        nbdOpenConnections = Gauge.builder()
                .name("siphon_nbd_open_connections")
                .help("NBD connections open now, by export.")
                .labelNames("export")
                .register(registry);
        nbdRequests = Counter.builder()
                .name("siphon_nbd_requests")
                .help("NBD requests answered, by export and command.")
                .labelNames("export", "command")
                .register(registry);
        nbdRequestErrors = Counter.builder()
                .name("siphon_nbd_request_errors")
                .help("NBD requests answered with an error, by export and command.")
                .labelNames("export", "command")
                .register(registry);
        nbdReadBytes = Counter.builder()
                .name("siphon_nbd_read_bytes")
                .help("Bytes NBD clients read, by export.")
                .labelNames("export")
                .register(registry);
        nbdWrittenBytes = Counter.builder()
                .name("siphon_nbd_written_bytes")
                .help("Bytes NBD clients wrote, by export.")
                .labelNames("export")
                .register(registry);
        nbdLatency = Histogram.builder()
                .name("siphon_nbd_request_duration_seconds")
                .help("Time from an NBD request's arrival to its reply, by command.")
                .labelNames("command")
                .classicOnly()
                .classicUpperBounds(LATENCY_SECONDS)
                .register(registry);
    }

    /** A per-disk figure: a counter or a gauge, and how to read it from {@code T}. */
    private record Figure<T>(String name, String help, boolean counter, ToDoubleFunction<T> value) {}

    private static <T> Figure<T> counter(String name, String help, ToDoubleFunction<T> value) {
        return new Figure<>(name, help, true, value);
    }

    private static <T> Figure<T> gauge(String name, String help, ToDoubleFunction<T> value) {
        return new Figure<>(name, help, false, value);
    }

    /** Gives {@code each} the thing a figure reads for a running disk, if the disk has one. */
    @FunctionalInterface
    private interface Source<T> {
        void of(RunningDiskRef ref, BiConsumer<RunningDiskRef, T> each);
    }

    /** Where a callback metric's samples go: the counter's or the gauge's callback. */
    @FunctionalInterface
    private interface Samples {
        void add(double value, String... labelValues);
    }

    /** Registers {@code figure}, labelled by domain and disk, read for every running disk at scrape time. */
    private <T> void register(Figure<T> figure, Source<T> source, Supplier<List<RunningDiskRef>> disks) {
        java.util.function.Consumer<Samples> read = samples -> disks.get()
                .forEach(ref ->
                        source.of(ref, (r, t) -> samples.add(figure.value().applyAsDouble(t), r.domain(), r.target())));
        if (figure.counter()) {
            CounterWithCallback.builder()
                    .name(figure.name())
                    .help(figure.help())
                    .labelNames("domain", "disk")
                    .callback(callback -> read.accept(callback::call))
                    .register(registry);
        } else {
            GaugeWithCallback.builder()
                    .name(figure.name())
                    .help(figure.help())
                    .labelNames("domain", "disk")
                    .callback(callback -> read.accept(callback::call))
                    .register(registry);
        }
    }

    private void jobs(BiConsumer<RunningDiskRef, JobInfo> each) {
        for (RunningDiskRef ref : model.runningDisks()) {
            Optional<JobInfo> job = ConsoleModel.engineJob(ref.disk());
            job.ifPresent(j -> each.accept(ref, j));
        }
    }

    private static String lower(String name) {
        return name.toLowerCase(Locale.ROOT);
    }

    /** Writes every metric in the Prometheus text format (0.0.4). */
    void write(OutputStream out) throws IOException {
        PrometheusTextFormatWriter.create().write(out, registry.scrape());
    }

    static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }

    @Override
    public void connectionOpened(String exportName) {
        nbdConnections.labelValues(exportName).inc();
        nbdOpenConnections.labelValues(exportName).inc();
    }

    @Override
    public void connectionClosed(String exportName) {
        nbdOpenConnections.labelValues(exportName).dec();
    }

    @Override
    public void requestDone(String exportName, CommandType type, long lengthBytes, long nanos, boolean failed) {
        String command = lower(type.name());
        nbdRequests.labelValues(exportName, command).inc();
        if (failed) {
            nbdRequestErrors.labelValues(exportName, command).inc();
        } else if (type == CommandType.READ) {
            nbdReadBytes.labelValues(exportName).inc(lengthBytes);
        } else if (type == CommandType.WRITE) {
            nbdWrittenBytes.labelValues(exportName).inc(lengthBytes);
        }
        nbdLatency.labelValues(command).observe(nanos / 1e9);
    }
}
