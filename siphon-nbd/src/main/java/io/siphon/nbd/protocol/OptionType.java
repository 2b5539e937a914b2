package io.siphon.nbd.protocol;

/** Option numbers of the handshake phase (doc/proto.md, "Option types"). */
public final class OptionType {
    public static final int EXPORT_NAME = 1;
    public static final int ABORT = 2;
    public static final int LIST = 3;
    public static final int STARTTLS = 5;
    public static final int INFO = 6;
    public static final int GO = 7;
    public static final int STRUCTURED_REPLY = 8;
    public static final int LIST_META_CONTEXT = 9;
    public static final int SET_META_CONTEXT = 10;

    private OptionType() {}

    /** The option's name for logs, or its number. */
    public static String name(int option) {
        return switch (option) {
            case EXPORT_NAME -> "EXPORT_NAME";
            case ABORT -> "ABORT";
            case LIST -> "LIST";
            case STARTTLS -> "STARTTLS";
            case INFO -> "INFO";
            case GO -> "GO";
            case STRUCTURED_REPLY -> "STRUCTURED_REPLY";
            case LIST_META_CONTEXT -> "LIST_META_CONTEXT";
            case SET_META_CONTEXT -> "SET_META_CONTEXT";
            default -> "option " + Integer.toUnsignedString(option);
        };
    }
}
