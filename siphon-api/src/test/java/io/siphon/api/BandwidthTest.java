package io.siphon.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class BandwidthTest {
    @Test
    void mibPerSecondByDefaultBytesWithTheFlag() {
        assertEquals(0, Bandwidth.toBytesPerSecond(0, false));
        assertEquals(3L << 20, Bandwidth.toBytesPerSecond(3, false));
        assertEquals(3, Bandwidth.toBytesPerSecond(3, true));
        assertEquals(Long.MAX_VALUE, Bandwidth.toBytesPerSecond(Long.MAX_VALUE, true));
        assertEquals((Long.MAX_VALUE >> 20) << 20, Bandwidth.toBytesPerSecond(Long.MAX_VALUE >> 20, false));
    }

    @Test
    void negativeAndOverflowingValuesAreInvalid() {
        assertEquals(
                ErrorCode.INVALID_ARG,
                assertThrows(SiphonException.class, () -> Bandwidth.toBytesPerSecond(-1, true))
                        .code());
        assertEquals(
                ErrorCode.INVALID_ARG,
                assertThrows(SiphonException.class, () -> Bandwidth.toBytesPerSecond((Long.MAX_VALUE >> 20) + 1, false))
                        .code());
    }

    @Test
    void reportedMibRoundUpSoALimitNeverReadsAsUnlimited() {
        assertEquals(0, Bandwidth.toMiBPerSecond(0));
        assertEquals(1, Bandwidth.toMiBPerSecond(1));
        assertEquals(1, Bandwidth.toMiBPerSecond(1 << 20));
        assertEquals(2, Bandwidth.toMiBPerSecond((1 << 20) + 1));
    }
}
