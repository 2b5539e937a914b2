package io.siphon.cli.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class BandwidthArgumentTest {
    @Test
    void plainNumberIsInTheCommandsUnit() {
        assertEquals(10, BandwidthArgument.parse("10", false));
        assertEquals(10, BandwidthArgument.parse("10", true));
        assertEquals(0, BandwidthArgument.parse("0", false));
    }

    @Test
    void suffixGivesAByteRateConvertedToMiBUnlessBytes() {
        assertEquals(10, BandwidthArgument.parse("10M", false));
        assertEquals(10, BandwidthArgument.parse("10MiB", false));
        assertEquals(10L << 20, BandwidthArgument.parse("10M", true));
        assertEquals(2048, BandwidthArgument.parse("2G", false));
        assertEquals(1000L * 1000, BandwidthArgument.parse("1MB", true));
        // virsh shifts, so a byte rate below 1 MiB/s is 0: unlimited
        assertEquals(0, BandwidthArgument.parse("512k", false));
        assertEquals(512 * 1024, BandwidthArgument.parse("512k", true));
        assertEquals(100, BandwidthArgument.parse("100b", true));
    }

    @Test
    void negativeMalformedAndHugeAreRefusedNamingTheText() {
        for (String bad : new String[] {"-1", "ten", "10X", "1.5M", "", "99999999999999999999", "9E"}) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> BandwidthArgument.parse(bad, true), bad);
            assertEquals(
                    "Scaled numeric value '" + bad + "' for <--bandwidth> option is malformed or out of range",
                    e.getMessage());
        }
    }
}
