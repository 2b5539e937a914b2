package io.siphon.protocol;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.api.spi.DriverSession;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The server side of the protocol: carries out a {@link Request} on a {@link DriverSession} and
 * makes its reply. Arguments are checked completely before the session is called, so a rejected
 * command changes nothing. Thread-safe if the session is.
 */
public final class CommandDispatcher {
    private final DriverSession session;

    public CommandDispatcher(DriverSession session) {
        this.session = session;
    }

    /** The reply to {@code request}: a {@link Reply}, or an {@link ErrorReply} naming what failed. */
    public Message dispatch(Request request) {
        try {
            return new Reply(execute(request), request.id());
        } catch (SiphonException e) {
            return new ErrorReply(e.code().name(), e.getMessage(), request.id());
        }
    }

    private Object execute(Request request) {
        Command command = Command.byWireName(request.command())
                .orElseThrow(() -> new SiphonException(
                        ErrorCode.UNKNOWN_COMMAND, "the control protocol has no command '" + request.command() + "'"));
        if (!command.isQuery() && session.isReadOnly()) {
            throw new SiphonException(
                    ErrorCode.READ_ONLY, "command '" + command.wireName() + "' is refused on a read-only connection");
        }
        Arguments args = new Arguments(command.wireName(), request.arguments());
        Map<String, Object> none = Map.of();
        switch (command) {
            case QMP_CAPABILITIES -> {
                args.done();
                return none;
            }
            case DOMAIN_DEFINE -> {
                String xml = args.string("xml");
                args.done();
                return Values.domainInfo(session.define(xml));
            }
            case DOMAIN_LIST -> {
                args.done();
                return session.list().stream().map(Values::domainInfo).toList();
            }
            default -> {}
        }
        String domain = args.string("domain");
        switch (command) {
            case DOMAIN_UNDEFINE, DOMAIN_START, DOMAIN_SHUTDOWN, DOMAIN_DESTROY -> {
                args.done();
                switch (command) {
                    case DOMAIN_UNDEFINE -> session.undefine(domain);
                    case DOMAIN_START -> session.start(domain);
                    case DOMAIN_SHUTDOWN -> session.shutdown(domain);
                    default -> session.destroy(domain);
                }
                return none;
            }
            case DOMAIN_INFO -> {
                args.done();
                return Values.domainInfo(session.info(domain));
            }
            case DOMAIN_DISKS -> {
                args.done();
                return session.disks(domain).stream().map(Values::diskInfo).toList();
            }
            default -> {}
        }
        String disk = args.string("disk");
        switch (command) {
            case BLOCK_PULL -> {
                var base = args.optionalString("base");
                long bytesPerSecond = args.nonNegativeLong("bandwidth-bytes", 0);
                boolean keepRelative = args.bool("keep-relative", false);
                args.done();
                session.blockPull(domain, disk, base, bytesPerSecond, keepRelative);
                return none;
            }
            case BLOCK_PULL_STEP -> {
                args.done();
                return Values.progress(session.blockPullStep(domain, disk));
            }
            case BLOCK_JOB_INFO -> {
                args.done();
                Map<String, Object> out = new LinkedHashMap<>();
                session.blockJobInfo(domain, disk).ifPresent(info -> out.put("job", Values.blockJobInfo(info)));
                return out;
            }
            case BLOCK_JOB_ABORT -> {
                boolean async = args.bool("async", false);
                args.done();
                session.blockJobAbort(domain, disk, async);
                return none;
            }
            case BLOCK_JOB_SET_SPEED -> {
                long bytesPerSecond = args.nonNegativeLong("bandwidth-bytes", 0);
                args.done();
                session.blockJobSetSpeed(domain, disk, bytesPerSecond);
                return none;
            }
            case BLOCK_JOB_PAUSE -> {
                args.done();
                session.blockJobPause(domain, disk);
                return none;
            }
            case BLOCK_JOB_RESUME -> {
                args.done();
                session.blockJobResume(domain, disk);
                return none;
            }
            default -> throw new IllegalStateException("command " + command + " not dispatched");
        }
    }
}
