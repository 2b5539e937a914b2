package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * JSON numbers out of range on a real daemon's sockets: a bandwidth of 1e400 is INVALID_ARG, an id
 * of 1e999 (even on the read-only socket) is a PROTOCOL_ERROR reply on a connection that goes on,
 * and the log gets no stack trace.
 */
class OutOfRangeNumbersTest {
    @TempDir
    Path dir;

    @Test
    void outOfRangeNumbersGetTypedErrorsAndTheConnectionGoesOn() throws Exception {
        try (DaemonProcess daemon = DaemonProcess.start(dir.resolve("state"))) {
            try (RawClient rw = new RawClient(daemon.socket())) {
                rw.next().orElseThrow(); // greeting
                rw.send("{\"execute\":\"block-pull\",\"arguments\":{\"domain\":\"d\",\"disk\":\"vda\","
                        + "\"bandwidth-bytes\":1e400},\"id\":1}\n");
                assertEquals("INVALID_ARG", rw.errorClass());
                rw.send("{\"execute\":\"domain-list\",\"id\":2}\n");
                assertEquals("none", rw.errorClass());
            }
            try (RawClient ro = new RawClient(daemon.readOnlySocket())) {
                ro.next().orElseThrow();
                ro.send("{\"execute\":\"domain-list\",\"id\":1e999}\n");
                assertEquals("PROTOCOL_ERROR", ro.errorClass());
                ro.send("{\"execute\":\"domain-list\",\"id\":3}\n");
                assertEquals("none", ro.errorClass());
            }
            String log = daemon.log();
            assertFalse(log.contains("\tat "), log);
            assertFalse(log.contains("Infinity"), log);
        }
    }
}
