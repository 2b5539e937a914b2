package io.siphon.nbd.server;

import io.siphon.nbd.protocol.WireStrings;

/** The sizes the server advertises and enforces. */
final class WireLimits {
    /** Largest READ or WRITE payload (NBD_INFO_BLOCK_SIZE maximum), as qemu-nbd advertises. */
    static final int MAX_PAYLOAD_BYTES = 32 << 20;
    /** Preferred request size. */
    static final int PREFERRED_BLOCK_BYTES = 4096;
    /** Smallest request granularity: devices take any byte range. */
    static final int MIN_BLOCK_BYTES = 1;
    /** Largest option data accepted in the handshake. */
    static final int MAX_OPTION_BYTES = 64 << 10;
    /** Bytes of payloads and replies that one connection may hold in memory at once. */
    static final int IN_FLIGHT_BUDGET_BYTES = 64 << 20;
    /** What a request without payload counts against the budget, so that many small requests are bounded too. */
    static final int MIN_REQUEST_COST_BYTES = 4096;
    /** Most descriptors one BLOCK_STATUS reply carries; clients continue from where it stops. */
    static final int MAX_STATUS_DESCRIPTORS = 8192;

    private WireLimits() {}

    static boolean nameTooLong(String name) {
        return WireStrings.bytes(name).length > WireStrings.MAX_BYTES;
    }
}
