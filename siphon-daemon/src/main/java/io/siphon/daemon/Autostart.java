package io.siphon.daemon;

import io.siphon.api.DomainInfo;
import io.siphon.api.DomainState;
import io.siphon.api.SiphonException;
import io.siphon.api.spi.DriverSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the domains marked autostart when a daemon starts, as libvirtd does: through a session
 * of the hosted driver, so both drivers behave alike; one that fails to start is logged and the
 * daemon serves the others.
 */
final class Autostart {
    private static final Logger LOG = LoggerFactory.getLogger(Autostart.class);

    private Autostart() {}

    /** Starts every shut-off domain marked autostart; returns how many started. */
    static int run(SessionFactory sessions) {
        int started = 0;
        try (DriverSession session = sessions.open(false, () -> {})) {
            session.setEventSink(event -> {});
            for (DomainInfo domain : session.list()) {
                if (!domain.autostart() || domain.state() != DomainState.SHUTOFF) {
                    continue;
                }
                try {
                    session.start(domain.name());
                    LOG.info("domain {} autostarted", domain.name());
                    started++;
                } catch (SiphonException e) {
                    LOG.error("domain {}: autostart failed: {}", domain.name(), e.getMessage());
                }
            }
        }
        return started;
    }
}
