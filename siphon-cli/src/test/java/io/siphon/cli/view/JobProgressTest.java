package io.siphon.cli.view;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.siphon.api.BlockJobType;
import org.junit.jupiter.api.Test;

class JobProgressTest {
    @Test
    void percentIsCutToTwoDecimalsAsVirshDoes() {
        assertEquals("Block Pull: [45.12 %]", JobProgress.line(BlockJobType.PULL, 4512_9, 100_000));
        assertEquals("Block Pull: [ 0.00 %]", JobProgress.line(BlockJobType.PULL, 0, 100));
        assertEquals("Block Pull: [ 5.00 %]", JobProgress.line(BlockJobType.PULL, 5, 100));
    }

    @Test
    void hundredOnlyWhenNothingRemains() {
        assertEquals("Block Pull: [99.99 %]", JobProgress.line(BlockJobType.PULL, 999_999_999, 1_000_000_000));
        assertEquals("Block Pull: [100.00 %]", JobProgress.line(BlockJobType.PULL, 100, 100));
        assertEquals("Block Pull: [100.00 %]", JobProgress.line(BlockJobType.PULL, 0, 0));
    }

    @Test
    void prettyCapacityUsesBinaryUnitsWithThreeDecimals() {
        assertEquals("512.000 B", JobProgress.prettyCapacity(512));
        assertEquals("10.000 MiB", JobProgress.prettyCapacity(10L << 20));
        assertEquals("1.500 GiB", JobProgress.prettyCapacity(3L << 29));
    }

    @Test
    void barShowsPercentRateAndEta() {
        assertEquals(
                "Block Pull [=============>                ]  45.12 %  16 MiB/s  ETA 0:07",
                ProgressBar.render(4512_9, 100_000, 16L << 20, "ETA 0:07"));
        assertEquals(
                "Block Pull [==============================] 100.00 %  0 B/s  done",
                ProgressBar.render(10, 10, 0, "done"));
        assertEquals("1:01:05", ProgressBar.clock(java.time.Duration.ofSeconds(3665)));
    }
}
