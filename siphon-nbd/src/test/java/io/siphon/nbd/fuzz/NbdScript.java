package io.siphon.nbd.fuzz;

import io.siphon.nbd.protocol.CommandFlags;
import io.siphon.nbd.protocol.CommandType;
import io.siphon.nbd.protocol.ExportRequest;
import io.siphon.nbd.protocol.HandshakeFlags;
import io.siphon.nbd.protocol.InfoType;
import io.siphon.nbd.protocol.MetaContextRequest;
import io.siphon.nbd.protocol.OptionHeader;
import io.siphon.nbd.protocol.OptionType;
import io.siphon.nbd.protocol.Request;
import io.siphon.testing.fuzz.Mutations;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * What a fuzzed NBD client sends, as frames: the client flags, option haggling (structured replies,
 * meta contexts, INFO, LIST, unknown options) ending in GO, EXPORT_NAME or ABORT, then requests of
 * every type over an export of {@code sizeBytes}, some overlapping, some unaligned. A seed draws a
 * well-formed script, then one to four structural mutations: a field of an option or request
 * header set to an interesting value, a bit flipped, a frame cut short with what follows dropped
 * (a client hanging up mid-packet), random bytes inserted, frames duplicated, dropped or swapped.
 */
final class NbdScript {
    /** The kind of a frame, which says where its header fields lie. */
    enum Kind {
        FLAGS,
        OPTION,
        REQUEST,
        PAYLOAD
    }

    record Frame(Kind kind, byte[] bytes) {}

    private static final int[] OPTION_FIELDS = {0, 8, 12}; // magic, option, length
    private static final int[] REQUEST_FIELDS = {0, 4, 6, 8, 16, 24}; // magic, flags, type, cookie, offset, length

    private final List<Frame> frames;

    private NbdScript(List<Frame> frames) {
        this.frames = frames;
    }

    /** The script of {@code random}'s seed for export {@code exportName} of {@code sizeBytes}. */
    static NbdScript generate(Random random, String exportName, long sizeBytes) {
        List<Frame> frames = new ArrayList<>();
        frames.add(flags(
                HandshakeFlags.CLIENT_FIXED_NEWSTYLE | (random.nextBoolean() ? HandshakeFlags.CLIENT_NO_ZEROES : 0)));
        boolean structured = random.nextInt(4) != 0;
        if (structured) {
            frames.add(option(OptionType.STRUCTURED_REPLY, new byte[0]));
        }
        for (int i = random.nextInt(4); i > 0; i--) {
            frames.add(
                    switch (random.nextInt(6)) {
                        case 0 -> option(OptionType.LIST, new byte[0]);
                        case 1 -> option(OptionType.INFO, exportRequest(random, exportName));
                        case 2 -> option(OptionType.SET_META_CONTEXT, metaContexts(random, exportName));
                        case 3 -> option(OptionType.LIST_META_CONTEXT, metaContexts(random, exportName));
                        case 4 -> option(OptionType.STRUCTURED_REPLY, new byte[0]);
                        default -> option(11 + random.nextInt(100), new byte[random.nextInt(16)]);
                    });
        }
        int ending = random.nextInt(10);
        if (ending == 0) {
            frames.add(option(OptionType.ABORT, new byte[0]));
            return new NbdScript(frames);
        }
        frames.add(
                ending == 1
                        ? option(OptionType.EXPORT_NAME, exportName.getBytes(java.nio.charset.StandardCharsets.UTF_8))
                        : option(OptionType.GO, exportRequest(random, exportName)));
        long cookie = 1;
        long lastOffset = 0;
        for (int i = 1 + random.nextInt(12); i > 0; i--) {
            // a third of the requests overlap the one before
            long offset = random.nextInt(3) == 0 ? lastOffset : alignedOffset(random, sizeBytes);
            long length = Math.min(sizeBytes - offset, 512L << random.nextInt(12));
            if (random.nextInt(8) == 0) {
                offset += 1 + random.nextInt(511); // misaligned
            }
            lastOffset = offset;
            CommandType type = Mutations.pickOf(random, CommandType.values());
            int flags = random.nextInt(4) == 0 ? random.nextInt(32) : 0;
            if (type == CommandType.DISC) {
                continue; // the script ends with the disconnect, if it sends one
            }
            if (type == CommandType.WRITE) {
                length = Math.min(length, 1 << 20);
                frames.add(request(flags, type.code(), cookie++, offset, length));
                byte[] payload = new byte[(int) length];
                random.nextBytes(payload);
                frames.add(new Frame(Kind.PAYLOAD, payload));
            } else {
                if (type == CommandType.BLOCK_STATUS && random.nextBoolean()) {
                    flags |= CommandFlags.REQ_ONE;
                }
                frames.add(request(flags, type.code(), cookie++, offset, length));
            }
        }
        if (random.nextBoolean()) {
            frames.add(request(0, CommandType.DISC.code(), cookie, 0, 0));
        }
        return new NbdScript(frames);
    }

    /** This script with one to four mutations drawn from {@code random}. */
    NbdScript mutate(Random random) {
        List<Frame> out = new ArrayList<>(frames);
        for (int m = 1 + random.nextInt(4); m > 0 && !out.isEmpty(); m--) {
            int at = position(out, random);
            Frame frame = out.get(at);
            switch (random.nextInt(7)) {
                case 0, 1 -> out.set(at, new Frame(frame.kind(), setField(frame, random)));
                case 2 ->
                    out.set(
                            at,
                            new Frame(frame.kind(), Mutations.flip(frame.bytes().clone(), random)));
                case 3 -> {
                    out.set(at, new Frame(frame.kind(), Mutations.cut(frame.bytes(), random)));
                    out.subList(at + 1, out.size()).clear();
                }
                case 4 -> out.set(at, new Frame(frame.kind(), Mutations.insert(frame.bytes(), random)));
                case 5 -> out.add(at, frame);
                default -> {
                    if (random.nextBoolean()) {
                        out.remove(at);
                    } else {
                        out.set(at, out.get(random.nextInt(out.size())));
                    }
                }
            }
        }
        return new NbdScript(out);
    }

    /** A frame to mutate: half the time a request, so that the transmission phase gets its share. */
    private static int position(List<Frame> frames, Random random) {
        List<Integer> requests = new ArrayList<>();
        for (int i = 0; i < frames.size(); i++) {
            if (frames.get(i).kind() == Kind.REQUEST) {
                requests.add(i);
            }
        }
        return requests.isEmpty() || random.nextBoolean()
                ? random.nextInt(frames.size())
                : requests.get(random.nextInt(requests.size()));
    }

    /** The bytes to send, in order. */
    byte[] bytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        frames.forEach(f -> out.writeBytes(f.bytes()));
        return out.toByteArray();
    }

    private static byte[] setField(Frame frame, Random random) {
        byte[] bytes = frame.bytes().clone();
        int[] fields = switch (frame.kind()) {
            case OPTION -> OPTION_FIELDS;
            case REQUEST -> REQUEST_FIELDS;
            case FLAGS -> new int[] {0};
            case PAYLOAD -> new int[] {0};
        };
        int at = Mutations.pick(random, fields);
        ByteBuffer b = ByteBuffer.wrap(bytes);
        long value = Mutations.value(random);
        int width = Mutations.pick(random, 2, 4, 8);
        if (at + width > bytes.length) {
            return Mutations.flip(bytes, random);
        }
        switch (width) {
            case 2 -> b.putShort(at, (short) value);
            case 4 -> b.putInt(at, (int) value);
            default -> b.putLong(at, value);
        }
        return bytes;
    }

    private static long alignedOffset(Random random, long sizeBytes) {
        return (random.nextLong(sizeBytes) & ~4095L) % sizeBytes;
    }

    private static byte[] exportRequest(Random random, String exportName) {
        List<Integer> infos = new ArrayList<>();
        for (int i = random.nextInt(4); i > 0; i--) {
            infos.add(Mutations.pick(
                    random, InfoType.EXPORT, InfoType.NAME, InfoType.DESCRIPTION, InfoType.BLOCK_SIZE, 99));
        }
        return array(new ExportRequest(exportName, infos).encode());
    }

    private static byte[] metaContexts(Random random, String exportName) {
        List<String> queries = new ArrayList<>();
        for (int i = random.nextInt(3); i > 0; i--) {
            queries.add(Mutations.pickOf(
                    random, "base:allocation", "base:", "qemu:dirty-bitmap:x", "qemu:allocation-depth", "x"));
        }
        return array(new MetaContextRequest(exportName, queries).encode());
    }

    private static Frame flags(int flags) {
        return new Frame(Kind.FLAGS, ByteBuffer.allocate(4).putInt(flags).array());
    }

    private static Frame option(int option, byte[] data) {
        ByteBuffer header = ByteBuffer.allocate(OptionHeader.BYTES + data.length);
        new OptionHeader(option, data.length).encode(header);
        header.put(data);
        return new Frame(Kind.OPTION, header.array());
    }

    private static Frame request(int flags, int type, long cookie, long offset, long length) {
        ByteBuffer header = ByteBuffer.allocate(Request.BYTES);
        new Request(flags, type, cookie, offset, length).encode(header);
        return new Frame(Kind.REQUEST, header.array());
    }

    private static byte[] array(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }
}
