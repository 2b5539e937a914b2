package io.siphon.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.BlockJobType;
import io.siphon.api.ErrorCode;
import io.siphon.api.LifecycleEvent;
import io.siphon.api.PullOrder;
import io.siphon.api.PullOutage;
import io.siphon.api.PullPace;
import io.siphon.api.PullPhase;
import io.siphon.api.PullStrategy;
import io.siphon.api.SiphonException;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MessageCodecTest {
    @Test
    void everyMessageRoundTrips() throws Exception {
        List<Message> messages = List.of(
                new Greeting("0.1.0", List.of("events", "read-only")),
                new Request(new Command.DomainInfo("web"), Optional.of(IntNode.valueOf(7))),
                new Request(new Command.DomainList(), Optional.empty()),
                new Request(
                        new Command.BlockPull(
                                "web",
                                "vda",
                                Optional.of("/b.qcow2"),
                                5,
                                true,
                                new PullStrategy(PullPace.GUEST, 2.5, PullOrder.PROFILE, PullOutage.FAIL)),
                        Optional.empty()),
                new Reply(
                        JsonNodeFactory.instance.objectNode().put("name", "web"), Optional.of(TextNode.valueOf("abc"))),
                new ErrorReply("NO_DOMAIN", "no domain 'x'", Optional.of(IntNode.valueOf(7))),
                new EventMessage(new Event.Lifecycle("web", LifecycleEvent.Kind.STARTED), 1_700_000_000_123_456L));
        for (Message message : messages) {
            assertEquals(message, MessageCodec.decode(MessageCodec.encode(message)));
        }
    }

    @Test
    void theWireFormIsQmpShaped() {
        assertEquals(
                "{\"execute\":\"domain-info\",\"arguments\":{\"domain\":\"web\"},\"id\":1}",
                MessageCodec.encode(new Request(new Command.DomainInfo("web"), Optional.of(IntNode.valueOf(1)))));
        assertEquals(
                "{\"error\":{\"class\":\"NO_JOB\",\"desc\":\"none\"},\"id\":1}",
                MessageCodec.encode(new ErrorReply("NO_JOB", "none", Optional.of(IntNode.valueOf(1)))));
        assertEquals(
                "{\"event\":\"DOMAIN_LIFECYCLE\",\"data\":{\"domain\":\"web\",\"kind\":\"defined\"},"
                        + "\"timestamp\":{\"seconds\":1,\"microseconds\":5}}",
                MessageCodec.encode(
                        new EventMessage(new Event.Lifecycle("web", LifecycleEvent.Kind.DEFINED), 1_000_005L)));
        assertEquals(
                "{\"QMP\":{\"version\":{\"siphon\":{\"major\":0,\"minor\":1,\"micro\":0},\"package\":\"siphon\"},"
                        + "\"capabilities\":[\"events\"]}}",
                MessageCodec.encode(new Greeting(MessageCodec.VERSION, List.of("events"))));
        assertEquals(
                "{\"return\":{\"job\":{\"type\":\"pull\",\"bandwidth-bytes\":1048576,\"cur\":0,\"end\":1048576,"
                        + "\"state\":\"running\",\"rate-bytes\":0}},\"id\":5}",
                MessageCodec.encode(MessageCodec.reply(
                        new Result.JobStatus(new Result.Job(
                                BlockJobType.PULL,
                                1048576,
                                0,
                                1048576,
                                io.siphon.api.BlockJobState.RUNNING,
                                0,
                                null,
                                null,
                                null)),
                        Optional.of(IntNode.valueOf(5)))));
        assertEquals(
                "{\"return\":{},\"id\":2}",
                MessageCodec.encode(MessageCodec.reply(Result.None.INSTANCE, Optional.of(IntNode.valueOf(2)))));
    }

    @Test
    void aBlockPullWithoutPaceOrderOrOnOutageFromAnOlderClientTakesTheDefaults() throws Exception {
        Request old = (Request)
                MessageCodec.decode("{\"execute\":\"block-pull\",\"arguments\":{\"domain\":\"web\",\"disk\":\"vda\","
                        + "\"bandwidth-bytes\":0,\"keep-relative\":false},\"id\":1}");
        Command.BlockPull pull = (Command.BlockPull) old.command();
        assertEquals(PullPace.LIMIT, pull.paceOrDefault());
        assertEquals(PullOrder.OFFSET, pull.orderOrDefault());
        assertEquals(PullOutage.PAUSE, pull.onOutageOrDefault());
        Request paced = (Request)
                MessageCodec.decode("{\"execute\":\"block-pull\",\"arguments\":{\"domain\":\"web\",\"disk\":\"vda\","
                        + "\"pace\":\"guest\",\"order\":\"profile\",\"on-outage\":\"fail\"},\"id\":2}");
        Command.BlockPull asked = (Command.BlockPull) paced.command();
        assertEquals(PullPace.GUEST, asked.paceOrDefault());
        assertEquals(PullOrder.PROFILE, asked.orderOrDefault());
        assertEquals(PullOutage.FAIL, asked.onOutageOrDefault());
        assertEquals(
                "{\"execute\":\"block-pull\",\"arguments\":{\"domain\":\"web\",\"disk\":\"vda\","
                        + "\"bandwidth-bytes\":0,\"keep-relative\":false,\"pace\":\"guest\",\"order\":\"profile\","
                        + "\"on-outage\":\"fail\"},\"id\":2}",
                MessageCodec.encode(paced));
    }

    @Test
    void aGuestLatencyFactorIsTakenWithPaceGuestAndRefusedOutOfRangeOrWithoutIt() throws Exception {
        assertEquals(
                2.0,
                pull("\"pace\":\"guest\",\"pace-latency-factor\":2").strategy().guestLatencyFactor());
        assertEquals(
                PullStrategy.DEFAULT_GUEST_LATENCY_FACTOR,
                pull("\"pace\":\"guest\"").strategy().guestLatencyFactor());
        for (String arguments : List.of(
                "\"pace\":\"guest\",\"pace-latency-factor\":1",
                "\"pace\":\"guest\",\"pace-latency-factor\":11",
                "\"pace\":\"guest\",\"pace-latency-factor\":-2")) {
            SiphonException refused =
                    assertThrows(SiphonException.class, () -> pull(arguments).strategy());
            assertEquals(ErrorCode.INVALID_ARG, refused.code(), arguments);
            assertTrue(
                    refused.getMessage().contains("guest latency factor must be above 1 and at most 10"),
                    refused.getMessage());
        }
        SiphonException unpaced = assertThrows(
                SiphonException.class, () -> pull("\"pace-latency-factor\":2").strategy());
        assertEquals(ErrorCode.INVALID_ARG, unpaced.code());
        assertTrue(unpaced.getMessage().contains("paced by the guest only"), unpaced.getMessage());
    }

    private static Command.BlockPull pull(String arguments) throws Exception {
        Request request = (Request) MessageCodec.decode(
                "{\"execute\":\"block-pull\",\"arguments\":{\"domain\":\"web\",\"disk\":\"vda\"," + arguments + "}}");
        return (Command.BlockPull) request.command();
    }

    @Test
    void theDiskQueriesAndAutostartHaveTheirWireForms() throws Exception {
        Request totals =
                (Request) MessageCodec.decode("{\"execute\":\"block-stats\",\"arguments\":{\"domain\":\"web\"}}");
        assertEquals(new Command.BlockStats("web", null), totals.command());
        assertTrue(totals.command().isQuery(), "statistics are a query, allowed read-only");
        assertEquals(
                "{\"execute\":\"domain-set-autostart\",\"arguments\":{\"domain\":\"web\",\"autostart\":true}}",
                MessageCodec.encode(new Request(new Command.DomainSetAutostart("web", true), Optional.empty())));
        ProtocolException notBool = assertThrows(
                ProtocolException.class,
                () -> MessageCodec.decode("{\"execute\":\"domain-set-autostart\",\"arguments\":{\"domain\":\"web\","
                        + "\"autostart\":\"yes\"}}"));
        assertTrue(notBool.getMessage().contains("'autostart' must be true or false"), notBool.getMessage());
        Reply stats =
                (Reply) MessageCodec.decode("{\"return\":{\"rd-operations\":1,\"rd-bytes\":512,\"wr-operations\":2,"
                        + "\"wr-bytes\":1024,\"flush-operations\":3,\"rd-total-times\":4,\"wr-total-times\":5,"
                        + "\"flush-total-times\":6}}");
        assertEquals(
                new io.siphon.api.BlockStats(1, 512, 2, 1024, 3, 4, 5, 6),
                MessageCodec.result(new Command.BlockStats("web", "vda"), stats).toApi());
        Reply older = (Reply) MessageCodec.decode("{\"return\":{\"name\":\"web\",\"uuid\":\""
                + java.util.UUID.randomUUID() + "\",\"state\":\"running\",\"disks\":1}}");
        assertFalse(
                MessageCodec.result(new Command.DomainInfo("web"), older)
                        .toApi()
                        .autostart(),
                "a daemon that predates autostart marks none");
    }

    @Test
    void aJobInfoCarriesThePullsPhase() {
        var info = new io.siphon.api.BlockJobInfo(
                BlockJobType.PULL,
                0,
                5,
                10,
                io.siphon.api.BlockJobState.RUNNING,
                0,
                Optional.empty(),
                Optional.of(PullPhase.PROFILE),
                Optional.empty());
        String wire = MessageCodec.encode(
                MessageCodec.reply(Result.JobStatus.of(Optional.of(info)), Optional.of(IntNode.valueOf(3))));
        assertTrue(wire.contains("\"phase\":\"profile\""), wire);
        assertEquals(info, Result.JobStatus.of(Optional.of(info)).toApi().orElseThrow());
    }

    @Test
    void aPausedJobsReasonRidesAlongAndAnOlderReplyWithoutOneReads() throws Exception {
        Command.BlockJobInfo query = new Command.BlockJobInfo("w", "vda");
        String paused = "{\"return\":{\"job\":{\"type\":\"pull\",\"bandwidth-bytes\":0,\"cur\":0,\"end\":8,"
                + "\"state\":\"paused\",\"rate-bytes\":0,\"pause-reason\":\"http://h/t: unreachable\"}},\"id\":1}";
        Reply reply = (Reply) MessageCodec.decode(paused);
        Result.JobStatus status = MessageCodec.result(query, reply);
        assertEquals(
                Optional.of("http://h/t: unreachable"),
                status.toApi().orElseThrow().pauseReason());
        assertEquals(paused, MessageCodec.encode(MessageCodec.reply(status, reply.id())));
        String older = paused.replace(",\"pause-reason\":\"http://h/t: unreachable\"", "");
        Result.JobStatus old = MessageCodec.result(query, (Reply) MessageCodec.decode(older));
        assertEquals(Optional.empty(), old.toApi().orElseThrow().pauseReason());
    }

    @Test
    void aReplyReadsAsItsCommandsResult() throws Exception {
        String line = "{\"return\":[{\"target\":\"vda\",\"source\":\"/w.qcow2\",\"format\":\"qcow2\","
                + "\"read-only\":false,\"copy-on-read\":true,\"nbd-uri\":\"nbd+unix:///w%2Fvda\"}],\"id\":3}";
        Reply reply = (Reply) MessageCodec.decode(line);
        Result.Disks disks = MessageCodec.result(new Command.DomainDisks("w"), reply);
        assertEquals(
                List.of(new Result.Disk("vda", "/w.qcow2", "qcow2", false, true, "nbd+unix:///w%2Fvda")),
                disks.disks());
        assertEquals(line, MessageCodec.encode(MessageCodec.reply(disks, reply.id())));
        var e = assertThrows(
                io.siphon.api.SiphonException.class, () -> MessageCodec.result(new Command.DomainInfo("w"), reply));
        assertEquals(ErrorCode.PROTOCOL_ERROR, e.code());
    }

    @Test
    void eventsRoundTripThroughTheirWireForm() throws Exception {
        var events = List.of(
                new BlockJobEvent("web", "vda", BlockJobType.PULL, BlockJobStatus.FAILED, Optional.of("EIO at 4096")),
                new BlockJobEvent("web", "vda", BlockJobType.PULL, BlockJobStatus.COMPLETED, Optional.empty()),
                new LifecycleEvent("web", LifecycleEvent.Kind.STARTED));
        for (var event : events) {
            EventMessage message =
                    (EventMessage) MessageCodec.decode(MessageCodec.encode(new EventMessage(Event.of(event), 0)));
            assertEquals(Optional.of(event), message.event().toApi());
        }
        EventMessage unknown = (EventMessage) MessageCodec.decode("{\"event\":\"NEWER\",\"data\":{}}");
        assertEquals(new Event.Unknown("NEWER"), unknown.event());
    }

    @Test
    void aMessageOfNoKnownShapeIsRefused() {
        assertThrows(ProtocolException.class, () -> MessageCodec.decode("{\"hello\":1}"));
        assertThrows(ProtocolException.class, () -> MessageCodec.decode("{\"execute\":1}"));
        assertThrows(ProtocolException.class, () -> MessageCodec.decode("{\"execute\":\"x\",\"arguments\":[]}"));
        assertThrows(ProtocolException.class, () -> MessageCodec.decode("{\"execute\":\"x\",\"extra\":1}"));
    }

    private static void malformed(String text, String expected) {
        ProtocolException e = assertThrows(ProtocolException.class, () -> MessageCodec.decode(text));
        assertEquals("PROTOCOL_ERROR", e.toReply().errorClass());
        assertTrue(e.getMessage().contains(expected), () -> "'" + e.getMessage() + "' lacks '" + expected + "'");
    }

    @Test
    void malformedInputNamesTheOffset() {
        malformed("{\"a\":1,}", "offset 7");
        malformed("{\"a\" 1}", "expecting a colon");
        malformed("[1 2]", "expecting comma");
        malformed("{\"a\":1} x", "offset 8");
        malformed("\"abc", "end-of-input");
        malformed("\"a\\q\"", "Unrecognized character escape");
        malformed("{\"a\":1,\"a\":2}", "Duplicate field 'a'");
        malformed("nul", "Unrecognized token 'nul'");
        malformed("", "must be a JSON object");
        malformed("{\"a\":" + "9".repeat(MessageCodec.MAX_NUMBER_DIGITS + 1) + "}", "Number value length");
    }

    @Test
    void deepNestingIsRefusedBeforeTheStackRunsOut() {
        malformed("[".repeat(100_000), "exceeds the maximum allowed (" + MessageCodec.MAX_DEPTH);
        String deepest = "{\"execute\":\"domain-list\",\"id\":" + "[".repeat(MessageCodec.MAX_DEPTH - 1)
                + "]".repeat(MessageCodec.MAX_DEPTH - 1) + "}";
        assertTrue(assertDoesNotThrow(deepest) instanceof Request);
    }

    private static Message assertDoesNotThrow(String line) {
        return org.junit.jupiter.api.Assertions.assertDoesNotThrow(() -> MessageCodec.decode(line));
    }

    private static ErrorReply refused(String line) {
        return assertThrows(ProtocolException.class, () -> MessageCodec.decode(line))
                .toReply();
    }

    @Test
    void badArgumentsAreInvalidAndKeepTheId() {
        String pull = "{\"execute\":\"block-pull\",\"id\":4,\"arguments\":{\"domain\":\"x\",\"disk\":\"vda\",";
        for (String bad : List.of(
                "\"bandwidth-bytes\":1e400}}",
                "\"bandwidth-bytes\":99999999999999999999}}",
                "\"bandwidth-bytes\":1.5}}",
                "\"bandwidth-bytes\":\"5\"}}",
                "\"bandwidth-bytes\":-1}}",
                "\"bandwidth-bytes\":null}}",
                "\"keep-relative\":1}}",
                "\"base\":3}}",
                "\"force\":true}}")) {
            ErrorReply reply = refused(pull + bad);
            assertEquals("INVALID_ARG", reply.errorClass(), reply::toString);
            assertEquals(Optional.of(IntNode.valueOf(4)), reply.id());
            assertTrue(reply.description().startsWith("command 'block-pull' "), reply::toString);
        }
        assertEquals(
                "command 'block-pull' argument 'bandwidth-bytes' must be an integer, not a number out of range",
                refused(pull + "\"bandwidth-bytes\":1e400}}").description());
        assertEquals(
                "command 'domain-define' argument 'xml' must be a string, not 42",
                refused("{\"execute\":\"domain-define\",\"arguments\":{\"xml\":42}}")
                        .description());
        assertEquals(
                "command 'domain-info' needs argument 'domain'",
                refused("{\"execute\":\"domain-info\"}").description());
        assertEquals(
                "command 'block-pull' has no argument 'force'",
                refused(pull + "\"force\":true}}").description());
        ErrorReply unknown = refused("{\"execute\":\"domain-explode\",\"id\":\"u\"}");
        assertEquals("UNKNOWN_COMMAND", unknown.errorClass());
        assertEquals(Optional.of(TextNode.valueOf("u")), unknown.id());
    }

    @Test
    void anIdOutOfRangeIsAProtocolErrorNotAnUnwritableReply() {
        ErrorReply reply = refused("{\"execute\":\"domain-list\",\"id\":1e999}");
        assertEquals("PROTOCOL_ERROR", reply.errorClass());
        assertEquals(Optional.empty(), reply.id());
        MessageCodec.encode(reply);
    }
}
