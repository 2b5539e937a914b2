package io.siphon.protocol;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonTypeName;
import io.siphon.api.ErrorCode;
import io.siphon.api.PullOrder;
import io.siphon.api.PullOutage;
import io.siphon.api.PullPace;
import io.siphon.api.PullStrategy;
import io.siphon.api.SiphonException;
import java.util.Optional;

/**
 * The control protocol's commands, one record each: its components are the command's {@code
 * arguments} (kebab-case on the wire), {@code R} the result its reply carries, and its {@link
 * JsonTypeName} the name in {@code "execute"}. docs/protocol.md describes each.
 *
 * @param <R> the result of the command
 */
public sealed interface Command<R extends Result> {
    /** A command that only queries, and so is allowed on a read-only connection. */
    sealed interface Query<R extends Result> extends Command<R> {}

    /** The name in {@code "execute"}. */
    default String wireName() {
        return wireName(getClass());
    }

    /** Whether the command only queries (and so is allowed on a read-only connection). */
    @JsonIgnore
    default boolean isQuery() {
        return this instanceof Query;
    }

    /** The name in {@code "execute"} of the command record {@code type}. */
    static String wireName(Class<?> type) {
        return type.getAnnotation(JsonTypeName.class).value();
    }

    /** Refuses a negative byte count or rate, naming the argument. */
    private static long nonNegative(long value, String argument) {
        if (value < 0) {
            throw new SiphonException(
                    ErrorCode.INVALID_ARG, "argument '" + argument + "' must not be negative, is " + value);
        }
        return value;
    }

    @JsonTypeName("qmp_capabilities")
    record QmpCapabilities() implements Query<Result.None> {}

    @JsonTypeName("domain-define")
    record DomainDefine(@JsonProperty(required = true) String xml) implements Command<Result.Domain> {}

    @JsonTypeName("domain-undefine")
    record DomainUndefine(@JsonProperty(required = true) String domain) implements Command<Result.None> {}

    @JsonTypeName("version")
    record Version() implements Query<Result.Version> {}

    @JsonTypeName("domain-list")
    record DomainList() implements Query<Result.Domains> {}

    @JsonTypeName("domain-info")
    record DomainInfo(@JsonProperty(required = true) String domain) implements Query<Result.Domain> {}

    @JsonTypeName("domain-start")
    record DomainStart(@JsonProperty(required = true) String domain) implements Command<Result.None> {}

    @JsonTypeName("domain-shutdown")
    record DomainShutdown(@JsonProperty(required = true) String domain) implements Command<Result.None> {}

    @JsonTypeName("domain-destroy")
    record DomainDestroy(@JsonProperty(required = true) String domain) implements Command<Result.None> {}

    @JsonTypeName("domain-disks")
    record DomainDisks(@JsonProperty(required = true) String domain) implements Query<Result.Disks> {}

    @JsonTypeName("domain-xml-desc")
    record DomainXmlDesc(@JsonProperty(required = true) String domain) implements Query<Result.Xml> {}

    @JsonTypeName("domain-set-autostart")
    record DomainSetAutostart(
            @JsonProperty(required = true) String domain,
            @JsonProperty(required = true) boolean autostart) implements Command<Result.None> {}

    @JsonTypeName("block-info")
    record BlockInfo(
            @JsonProperty(required = true) String domain,
            @JsonProperty(required = true) String disk) implements Query<Result.BlockInfo> {}

    /** {@code disk} null (left out): the totals over every disk of the domain. */
    @JsonTypeName("block-stats")
    record BlockStats(@JsonProperty(required = true) String domain, String disk) implements Query<Result.BlockStats> {}

    /**
     * {@code base} is null for a full pull; {@code bandwidthBytes} in bytes per second, 0 unlimited;
     * {@code pace}, {@code order} and {@code onOutage} are optional (null: limit, offset, pause), so
     * older clients still work.
     */
    @JsonTypeName("block-pull")
    record BlockPull(
            @JsonProperty(required = true) String domain,
            @JsonProperty(required = true) String disk,
            String base,
            long bandwidthBytes,
            boolean keepRelative,
            PullPace pace,
            Double paceLatencyFactor,
            PullOrder order,
            PullOutage onOutage)
            implements Command<Result.None> {
        public BlockPull {
            nonNegative(bandwidthBytes, "bandwidth-bytes");
        }

        public BlockPull(
                String domain,
                String disk,
                Optional<String> base,
                long bandwidthBytes,
                boolean keepRelative,
                PullStrategy strategy) {
            this(
                    domain,
                    disk,
                    base.orElse(null),
                    bandwidthBytes,
                    keepRelative,
                    strategy.pace(),
                    strategy.pace() == PullPace.GUEST ? strategy.guestLatencyFactor() : null,
                    strategy.order(),
                    strategy.outage());
        }

        public PullPace paceOrDefault() {
            return pace == null ? PullPace.LIMIT : pace;
        }

        public PullOrder orderOrDefault() {
            return order == null ? PullOrder.OFFSET : order;
        }

        public PullOutage onOutageOrDefault() {
            return onOutage == null ? PullOutage.PAUSE : onOutage;
        }

        /** The pull's strategy, the defaults in place of what the client left out. */
        public PullStrategy strategy() {
            return new PullStrategy(
                    paceOrDefault(),
                    paceLatencyFactor == null ? PullStrategy.DEFAULT_GUEST_LATENCY_FACTOR : paceLatencyFactor,
                    orderOrDefault(),
                    onOutageOrDefault());
        }
    }

    @JsonTypeName("block-pull-step")
    record BlockPullStep(
            @JsonProperty(required = true) String domain,
            @JsonProperty(required = true) String disk) implements Command<Result.Progress> {}

    @JsonTypeName("block-job-info")
    record BlockJobInfo(
            @JsonProperty(required = true) String domain,
            @JsonProperty(required = true) String disk) implements Query<Result.JobStatus> {}

    @JsonTypeName("block-job-abort")
    record BlockJobAbort(
            @JsonProperty(required = true) String domain,
            @JsonProperty(required = true) String disk,
            boolean async) implements Command<Result.None> {}

    /** {@code bandwidthBytes} in bytes per second, 0 unlimited. */
    @JsonTypeName("block-job-set-speed")
    record BlockJobSetSpeed(
            @JsonProperty(required = true) String domain,
            @JsonProperty(required = true) String disk,
            long bandwidthBytes)
            implements Command<Result.None> {
        public BlockJobSetSpeed {
            nonNegative(bandwidthBytes, "bandwidth-bytes");
        }
    }

    @JsonTypeName("block-job-pause")
    record BlockJobPause(
            @JsonProperty(required = true) String domain,
            @JsonProperty(required = true) String disk) implements Command<Result.None> {}

    @JsonTypeName("block-job-resume")
    record BlockJobResume(
            @JsonProperty(required = true) String domain,
            @JsonProperty(required = true) String disk) implements Command<Result.None> {}
}
