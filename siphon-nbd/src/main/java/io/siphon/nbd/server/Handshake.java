package io.siphon.nbd.server;

import io.siphon.nbd.protocol.ExportRequest;
import io.siphon.nbd.protocol.HandshakeFlags;
import io.siphon.nbd.protocol.InfoType;
import io.siphon.nbd.protocol.MetaContextRequest;
import io.siphon.nbd.protocol.MetaContexts;
import io.siphon.nbd.protocol.NbdChannel;
import io.siphon.nbd.protocol.NbdMagic;
import io.siphon.nbd.protocol.NbdProtocolException;
import io.siphon.nbd.protocol.OptionHeader;
import io.siphon.nbd.protocol.OptionReplyHeader;
import io.siphon.nbd.protocol.OptionReplyType;
import io.siphon.nbd.protocol.OptionType;
import io.siphon.nbd.protocol.TransmissionFlags;
import io.siphon.nbd.protocol.WireStrings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of the fixed newstyle handshake (doc/proto.md, "Handshake phase"): greeting, then
 * one option at a time until the client picks an export (GO or EXPORT_NAME) or leaves. Not
 * thread-safe: one per connection, on the connection's thread.
 */
final class Handshake {
    private static final Logger LOG = LoggerFactory.getLogger(Handshake.class);
    /** The id the server gives base:allocation; any u32 will do. */
    static final int ALLOCATION_CONTEXT_ID = 1;

    /** What the handshake agreed: the channel (maybe now TLS) and the export's settings. */
    record Agreement(NbdChannel channel, Export export, boolean structuredReplies, boolean allocationContext) {}

    private final ExportTable exports;
    private final Optional<SSLContext> tls;
    private NbdChannel channel;
    private boolean noZeroes;
    private boolean structuredReplies;
    private Optional<String> allocationContextExport = Optional.empty();

    Handshake(NbdChannel channel, ExportTable exports, Optional<SSLContext> tls) {
        this.channel = channel;
        this.exports = exports;
        this.tls = tls;
    }

    /** Runs the handshake; empty if the client aborted or left without picking an export. */
    Optional<Agreement> run() throws IOException {
        ByteBuffer greeting = ByteBuffer.allocate(18);
        greeting.putLong(NbdMagic.INIT)
                .putLong(NbdMagic.OPTION)
                .putShort((short) (HandshakeFlags.FIXED_NEWSTYLE | HandshakeFlags.NO_ZEROES))
                .flip();
        channel.writeFully(greeting);
        ByteBuffer clientFlags = ByteBuffer.allocate(4);
        channel.readFully(clientFlags);
        int flags = clientFlags.flip().getInt();
        int known = HandshakeFlags.CLIENT_FIXED_NEWSTYLE | HandshakeFlags.CLIENT_NO_ZEROES;
        if ((flags & ~known) != 0) {
            throw new NbdProtocolException("unknown client flags 0x" + Integer.toHexString(flags));
        }
        if ((flags & HandshakeFlags.CLIENT_FIXED_NEWSTYLE) == 0) {
            throw new NbdProtocolException("client does not speak fixed newstyle");
        }
        noZeroes = (flags & HandshakeFlags.CLIENT_NO_ZEROES) != 0;
        while (true) {
            ByteBuffer headerBytes = ByteBuffer.allocate(OptionHeader.BYTES);
            channel.readFully(headerBytes);
            OptionHeader header = OptionHeader.decode(headerBytes.flip());
            if (header.lengthBytes() > WireLimits.MAX_OPTION_BYTES) {
                reply(header.option(), OptionReplyType.ERR_TOO_BIG, message("option data too long"));
                throw new NbdProtocolException(OptionType.name(header.option()) + " carries " + header.lengthBytes()
                        + " bytes, more than " + WireLimits.MAX_OPTION_BYTES);
            }
            ByteBuffer data = ByteBuffer.allocate((int) header.lengthBytes());
            channel.readFully(data);
            data.flip();
            Optional<Agreement> agreed = option(header.option(), data);
            if (agreed == null) {
                return Optional.empty();
            }
            if (agreed.isPresent()) {
                return agreed;
            }
        }
    }

    /** Handles one option: an agreement ends the handshake, null ends the connection, empty continues. */
    private Optional<Agreement> option(int option, ByteBuffer data) throws IOException {
        if (tls.isPresent() && !channel.isTls() && option != OptionType.STARTTLS && option != OptionType.ABORT) {
            if (option == OptionType.EXPORT_NAME) {
                throw new NbdProtocolException("EXPORT_NAME before STARTTLS on a TLS-only listener");
            }
            reply(option, OptionReplyType.ERR_TLS_REQD, message("TLS is required: send STARTTLS first"));
            return Optional.empty();
        }
        try {
            return switch (option) {
                case OptionType.ABORT -> {
                    reply(option, OptionReplyType.ACK, empty());
                    yield null;
                }
                case OptionType.STARTTLS -> startTls(data);
                case OptionType.EXPORT_NAME -> exportName(data);
                case OptionType.LIST -> list(data);
                case OptionType.INFO, OptionType.GO -> infoOrGo(option, data);
                case OptionType.STRUCTURED_REPLY -> structuredReply(data);
                case OptionType.LIST_META_CONTEXT, OptionType.SET_META_CONTEXT -> metaContext(option, data);
                default -> {
                    reply(option, OptionReplyType.ERR_UNSUP, message("unsupported " + OptionType.name(option)));
                    yield Optional.empty();
                }
            };
        } catch (NbdProtocolException e) {
            // A malformed option is answered and the client may try again: fixed newstyle's promise.
            LOG.debug("{} from {}: {}", OptionType.name(option), peer(), e.getMessage());
            reply(option, OptionReplyType.ERR_INVALID, message(e.getMessage()));
            return Optional.empty();
        }
    }

    private Optional<Agreement> startTls(ByteBuffer data) throws IOException {
        if (data.hasRemaining()) {
            throw new NbdProtocolException("STARTTLS carries data");
        }
        if (tls.isEmpty()) {
            reply(OptionType.STARTTLS, OptionReplyType.ERR_UNSUP, message("TLS is not configured here"));
            return Optional.empty();
        }
        if (channel.isTls()) {
            throw new NbdProtocolException("TLS is already on");
        }
        reply(OptionType.STARTTLS, OptionReplyType.ACK, empty());
        channel = NbdChannel.startTls(channel.socket(), tls.get(), false, null);
        // Whatever was agreed in clear text is void once encrypted (doc/proto.md, STARTTLS).
        structuredReplies = false;
        allocationContextExport = Optional.empty();
        return Optional.empty();
    }

    private Optional<Agreement> exportName(ByteBuffer data) throws IOException {
        String name = WireStrings.read(data, data.remaining(), "export name");
        Optional<Export> export = exports.find(name);
        if (export.isEmpty()) {
            // EXPORT_NAME has no error reply: the spec's answer to an unknown name is to hang up.
            throw new IOException("client asked for unknown export '" + name + "' with EXPORT_NAME");
        }
        ByteBuffer answer = ByteBuffer.allocate(10 + (noZeroes ? 0 : 124));
        answer.putLong(export.get().device().sizeBytes()).putShort((short) transmissionFlags(export.get()));
        channel.writeFully(answer.position(answer.capacity()).flip());
        return Optional.of(agreement(export.get()));
    }

    private Optional<Agreement> list(ByteBuffer data) throws IOException {
        if (data.hasRemaining()) {
            throw new NbdProtocolException("LIST carries data");
        }
        for (Export export : exports.all()) {
            byte[] name = WireStrings.bytes(export.name());
            byte[] description = WireStrings.bytes(export.description());
            ByteBuffer entry = ByteBuffer.allocate(4 + name.length + description.length);
            entry.putInt(name.length).put(name).put(description).flip();
            reply(OptionType.LIST, OptionReplyType.SERVER, entry);
        }
        reply(OptionType.LIST, OptionReplyType.ACK, empty());
        return Optional.empty();
    }

    private Optional<Agreement> infoOrGo(int option, ByteBuffer data) throws IOException {
        ExportRequest request = ExportRequest.decode(data);
        Optional<Export> found = exports.find(request.name());
        if (found.isEmpty()) {
            reply(option, OptionReplyType.ERR_UNKNOWN, message("no export named '" + request.name() + "'"));
            return Optional.empty();
        }
        Export export = found.get();
        ByteBuffer info = ByteBuffer.allocate(12);
        info.putShort((short) InfoType.EXPORT)
                .putLong(export.device().sizeBytes())
                .putShort((short) transmissionFlags(export))
                .flip();
        reply(option, OptionReplyType.INFO, info);
        ByteBuffer sizes = ByteBuffer.allocate(14);
        sizes.putShort((short) InfoType.BLOCK_SIZE)
                .putInt(WireLimits.MIN_BLOCK_BYTES)
                .putInt(WireLimits.PREFERRED_BLOCK_BYTES)
                .putInt(WireLimits.MAX_PAYLOAD_BYTES)
                .flip();
        reply(option, OptionReplyType.INFO, sizes);
        if (request.infoRequests().contains(InfoType.NAME)) {
            reply(option, OptionReplyType.INFO, infoString(InfoType.NAME, export.name()));
        }
        if (request.infoRequests().contains(InfoType.DESCRIPTION)
                && !export.description().isEmpty()) {
            reply(option, OptionReplyType.INFO, infoString(InfoType.DESCRIPTION, export.description()));
        }
        reply(option, OptionReplyType.ACK, empty());
        return option == OptionType.GO ? Optional.of(agreement(export)) : Optional.empty();
    }

    private Optional<Agreement> structuredReply(ByteBuffer data) throws IOException {
        if (data.hasRemaining()) {
            throw new NbdProtocolException("STRUCTURED_REPLY carries data");
        }
        structuredReplies = true;
        reply(OptionType.STRUCTURED_REPLY, OptionReplyType.ACK, empty());
        return Optional.empty();
    }

    private Optional<Agreement> metaContext(int option, ByteBuffer data) throws IOException {
        MetaContextRequest request = MetaContextRequest.decode(data);
        boolean set = option == OptionType.SET_META_CONTEXT;
        if (set && !structuredReplies) {
            throw new NbdProtocolException("SET_META_CONTEXT before STRUCTURED_REPLY");
        }
        if (exports.find(request.exportName()).isEmpty()) {
            reply(option, OptionReplyType.ERR_UNKNOWN, message("no export named '" + request.exportName() + "'"));
            return Optional.empty();
        }
        boolean selected = set
                ? request.queries().contains(MetaContexts.BASE_ALLOCATION)
                : request.queries().isEmpty()
                        || request.queries().stream()
                                .anyMatch(q -> q.equals("base:") || q.equals(MetaContexts.BASE_ALLOCATION));
        if (selected) {
            byte[] name = MetaContexts.BASE_ALLOCATION.getBytes(StandardCharsets.UTF_8);
            ByteBuffer context = ByteBuffer.allocate(4 + name.length);
            context.putInt(set ? ALLOCATION_CONTEXT_ID : 0).put(name).flip();
            reply(option, OptionReplyType.META_CONTEXT, context);
        }
        if (set) {
            allocationContextExport = selected ? Optional.of(request.exportName()) : Optional.empty();
        }
        reply(option, OptionReplyType.ACK, empty());
        return Optional.empty();
    }

    private Agreement agreement(Export export) {
        boolean context = structuredReplies
                && allocationContextExport
                        .flatMap(exports::find)
                        .filter(e -> e == export)
                        .isPresent();
        return new Agreement(channel, export, structuredReplies, context);
    }

    private int transmissionFlags(Export export) {
        int flags = TransmissionFlags.HAS_FLAGS
                | TransmissionFlags.SEND_FLUSH
                | TransmissionFlags.SEND_FUA
                | TransmissionFlags.SEND_TRIM
                | TransmissionFlags.SEND_WRITE_ZEROES
                | TransmissionFlags.SEND_FAST_ZERO
                | TransmissionFlags.SEND_CACHE
                | TransmissionFlags.CAN_MULTI_CONN;
        if (!export.writable()) {
            flags |= TransmissionFlags.READ_ONLY;
        }
        if (structuredReplies) {
            flags |= TransmissionFlags.SEND_DF;
        }
        return flags;
    }

    private static ByteBuffer infoString(int type, String value) {
        byte[] bytes = WireStrings.bytes(value);
        return ByteBuffer.allocate(2 + bytes.length)
                .putShort((short) type)
                .put(bytes)
                .flip();
    }

    private void reply(int option, int type, ByteBuffer data) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(OptionReplyHeader.BYTES);
        new OptionReplyHeader(option, type, data.remaining()).encode(header);
        channel.writeFully(header.flip(), data);
    }

    private static ByteBuffer message(String text) {
        byte[] bytes = WireStrings.bytes(text);
        return ByteBuffer.wrap(bytes, 0, Math.min(bytes.length, WireStrings.MAX_BYTES));
    }

    private static ByteBuffer empty() {
        return ByteBuffer.allocate(0);
    }

    private String peer() {
        try {
            return String.valueOf(channel.socket().getRemoteAddress());
        } catch (IOException e) {
            return "a closed socket";
        }
    }
}
