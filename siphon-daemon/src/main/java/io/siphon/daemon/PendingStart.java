package io.siphon.daemon;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.domain.DomainDefinition;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A start whose disks are being opened on a thread of their own, so that an open that blocks (a
 * hung file system) holds up only its caller. It can be given up on: the caller is answered at once,
 * and disks that open later are closed by whichever side sees them last, never used. Thread-safe.
 */
final class PendingStart {
    private static final Logger LOG = LoggerFactory.getLogger(PendingStart.class);

    private final String domain;
    private final CompletableFuture<List<RunningDisk>> opened = new CompletableFuture<>();

    private PendingStart(String domain) {
        this.domain = domain;
    }

    /** Starts opening {@code definition}'s disks with {@code opener}. */
    static PendingStart begin(DomainDefinition definition, DiskOpener opener) {
        PendingStart start = new PendingStart(definition.name());
        Thread.ofVirtual().name("start " + definition.name()).start(() -> {
            List<RunningDisk> disks;
            try {
                disks = StartedDomains.openDisks(definition, opener);
            } catch (RuntimeException e) {
                start.opened.completeExceptionally(e);
                return;
            }
            if (!start.opened.complete(disks)) {
                SiphonException late = start.givenUp();
                StartedDomains.closeAll(disks, late);
                LOG.info("domain {}: disks opened after the start was given up; closed them", start.domain);
            }
        });
        return start;
    }

    /** The opened disks, once all are open; a failure or a give-up is its {@link SiphonException}. */
    List<RunningDisk> await() {
        try {
            return opened.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw e;
        }
    }

    /** Answers the caller of the start with an error; returns false when the disks had already opened. */
    boolean giveUp() {
        return opened.completeExceptionally(givenUp());
    }

    SiphonException givenUp() {
        return new SiphonException(
                ErrorCode.OPERATION_FAILED,
                "start of domain '" + domain + "' was given up while its disks were opening");
    }
}
