package io.siphon.protocol;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.api.spi.DriverSession;
import java.util.Optional;

/**
 * The server side of the protocol: carries out a {@link Request} on a {@link DriverSession} and
 * makes its reply. Arguments were checked completely when the request was decoded, so a rejected
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
            return MessageCodec.reply(execute(request.command()), request.id());
        } catch (SiphonException e) {
            return new ErrorReply(e.code().name(), e.getMessage(), request.id());
        }
    }

    private Result execute(Command<?> command) {
        if (!command.isQuery() && session.isReadOnly()) {
            throw new SiphonException(
                    ErrorCode.READ_ONLY, "command '" + command.wireName() + "' is refused on a read-only connection");
        }
        Result none = Result.None.INSTANCE;
        return switch (command) {
            case Command.QmpCapabilities c -> none;
            case Command.Version c -> Result.Version.of(session.version());
            case Command.DomainDefine c -> Result.Domain.of(session.define(c.xml()));
            case Command.DomainUndefine c -> {
                session.undefine(c.domain());
                yield none;
            }
            case Command.DomainList c -> Result.Domains.of(session.list());
            case Command.DomainInfo c -> Result.Domain.of(session.info(c.domain()));
            case Command.DomainStart c -> {
                session.start(c.domain());
                yield none;
            }
            case Command.DomainShutdown c -> {
                session.shutdown(c.domain());
                yield none;
            }
            case Command.DomainDestroy c -> {
                session.destroy(c.domain());
                yield none;
            }
            case Command.DomainDisks c -> Result.Disks.of(session.disks(c.domain()));
            case Command.DomainXmlDesc c -> new Result.Xml(session.xmlDesc(c.domain()));
            case Command.DomainSetAutostart c -> {
                session.setAutostart(c.domain(), c.autostart());
                yield none;
            }
            case Command.BlockInfo c -> Result.BlockInfo.of(session.blockInfo(c.domain(), c.disk()));
            case Command.BlockStats c ->
                Result.BlockStats.of(session.blockStats(c.domain(), Optional.ofNullable(c.disk())));
            case Command.BlockPull c -> {
                session.blockPull(
                        c.domain(),
                        c.disk(),
                        Optional.ofNullable(c.base()),
                        c.bandwidthBytes(),
                        c.keepRelative(),
                        c.strategy());
                yield none;
            }
            case Command.BlockPullStep c -> Result.Progress.of(session.blockPullStep(c.domain(), c.disk()));
            case Command.BlockJobInfo c -> Result.JobStatus.of(session.blockJobInfo(c.domain(), c.disk()));
            case Command.BlockJobAbort c -> {
                session.blockJobAbort(c.domain(), c.disk(), c.async());
                yield none;
            }
            case Command.BlockJobSetSpeed c -> {
                session.blockJobSetSpeed(c.domain(), c.disk(), c.bandwidthBytes());
                yield none;
            }
            case Command.BlockJobPause c -> {
                session.blockJobPause(c.domain(), c.disk());
                yield none;
            }
            case Command.BlockJobResume c -> {
                session.blockJobResume(c.domain(), c.disk());
                yield none;
            }
        };
    }
}
