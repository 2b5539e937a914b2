package io.siphon.protocol;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.BlockJobType;
import io.siphon.api.LifecycleEvent;
import io.siphon.api.SiphonEvent;
import java.util.Optional;

/**
 * An event's {@code "data"}, one record per event, named by {@link #name()} in {@code "event"}. {@link Unknown} stands for an event a newer server sends that this version does not know.
 */
public sealed interface Event {
    /** The name in {@code "event"}. */
    String name();

    /** The API event, or empty for an {@link Unknown} one. */
    Optional<SiphonEvent> toApi();

    static Event of(SiphonEvent event) {
        return switch (event) {
            case BlockJobEvent e ->
                new BlockJob(
                        e.domain(), e.disk(), e.type(), e.status(), e.error().orElse(null));
            case LifecycleEvent e -> new Lifecycle(e.domain(), e.kind());
        };
    }

    /** {@code error} is null unless the job failed. */
    record BlockJob(String domain, String disk, BlockJobType type, BlockJobStatus status, String error)
            implements Event {
        @Override
        public String name() {
            return "BLOCK_JOB";
        }

        @Override
        public Optional<SiphonEvent> toApi() {
            return Optional.of(new BlockJobEvent(domain, disk, type, status, Optional.ofNullable(error)));
        }
    }

    record Lifecycle(String domain, LifecycleEvent.Kind kind) implements Event {
        @Override
        public String name() {
            return "DOMAIN_LIFECYCLE";
        }

        @Override
        public Optional<SiphonEvent> toApi() {
            return Optional.of(new LifecycleEvent(domain, kind));
        }
    }

    /** An event this version has no record for. */
    record Unknown(String name) implements Event {
        @Override
        public Optional<SiphonEvent> toApi() {
            return Optional.empty();
        }
    }
}
