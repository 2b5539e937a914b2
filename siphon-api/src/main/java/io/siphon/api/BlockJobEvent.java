package io.siphon.api;

import java.util.Objects;
import java.util.Optional;

/**
 * A block job ended or became ready; libvirt's {@code VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2}.
 *
 * @param domain the domain's name
 * @param disk the disk's target (vda)
 * @param type the job's kind
 * @param status how the job ended
 * @param error what failed, for {@link BlockJobStatus#FAILED}; else empty
 */
public record BlockJobEvent(
        String domain, String disk, BlockJobType type, BlockJobStatus status, Optional<String> error)
        implements SiphonEvent {
    public BlockJobEvent {
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(disk, "disk");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(error, "error");
    }
}
