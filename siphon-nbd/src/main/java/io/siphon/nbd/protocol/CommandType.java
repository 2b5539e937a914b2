package io.siphon.nbd.protocol;

import java.util.Optional;

/** Transmission-phase request types, with their wire numbers. */
public enum CommandType {
    READ(0),
    WRITE(1),
    DISC(2),
    FLUSH(3),
    TRIM(4),
    CACHE(5),
    WRITE_ZEROES(6),
    BLOCK_STATUS(7);

    private final int code;

    CommandType(int code) {
        this.code = code;
    }

    /** The number on the wire. */
    public int code() {
        return code;
    }

    /** The command with wire number {@code code}, if known. */
    public static Optional<CommandType> of(int code) {
        for (CommandType type : values()) {
            if (type.code == code) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }
}
