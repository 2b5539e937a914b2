package io.siphon.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.BlockJobType;
import io.siphon.api.LifecycleEvent;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MessagesTest {
    @Test
    void everyMessageRoundTrips() throws Exception {
        List<Message> messages = List.of(
                new Greeting("0.1.0", List.of("events", "read-only")),
                new Request("domain-info", Map.of("domain", "web"), Optional.of(7L)),
                new Request("domain-list", Map.of(), Optional.empty()),
                new Reply(Map.of("name", "web"), Optional.of("abc")),
                new ErrorReply("NO_DOMAIN", "no domain 'x'", Optional.of(7L)),
                new EventMessage("BLOCK_JOB", Map.of("domain", "web"), 1_700_000_000_123_456L));
        for (Message message : messages) {
            assertEquals(message, Messages.decode(Messages.encode(message)));
        }
    }

    @Test
    void theWireFormIsQmpShaped() {
        assertEquals(
                "{\"execute\":\"domain-info\",\"arguments\":{\"domain\":\"web\"},\"id\":1}",
                Messages.encode(new Request("domain-info", Map.of("domain", "web"), Optional.of(1L))));
        assertEquals(
                "{\"error\":{\"class\":\"NO_JOB\",\"desc\":\"none\"},\"id\":1}",
                Messages.encode(new ErrorReply("NO_JOB", "none", Optional.of(1L))));
        assertEquals(
                "{\"event\":\"X\",\"data\":{},\"timestamp\":{\"seconds\":1,\"microseconds\":5}}",
                Messages.encode(new EventMessage("X", Map.of(), 1_000_005L)));
    }

    @Test
    void eventsRoundTripThroughTheirWireForm() {
        var events = List.of(
                new BlockJobEvent("web", "vda", BlockJobType.PULL, BlockJobStatus.FAILED, Optional.of("EIO at 4096")),
                new BlockJobEvent("web", "vda", BlockJobType.PULL, BlockJobStatus.COMPLETED, Optional.empty()),
                new LifecycleEvent("web", LifecycleEvent.Kind.STARTED));
        for (var event : events) {
            assertEquals(Optional.of(event), Values.event(Values.event(event, 0)));
        }
    }

    @Test
    void aMessageOfNoKnownShapeIsRefused() {
        assertThrows(ProtocolException.class, () -> Messages.decode("{\"hello\":1}"));
        assertThrows(ProtocolException.class, () -> Messages.decode("{\"execute\":1}"));
        assertThrows(ProtocolException.class, () -> Messages.decode("{\"execute\":\"x\",\"arguments\":[]}"));
        assertThrows(ProtocolException.class, () -> Messages.decode("{\"execute\":\"x\",\"extra\":1}"));
    }
}
