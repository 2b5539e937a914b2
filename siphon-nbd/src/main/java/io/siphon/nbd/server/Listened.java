package io.siphon.nbd.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Calls a {@link NbdServerListener}: a listener that throws must not break the connection. */
final class Listened {
    private static final Logger LOG = LoggerFactory.getLogger(Listened.class);

    private Listened() {}

    static void run(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            LOG.warn("an NBD server listener failed", e);
        }
    }
}
