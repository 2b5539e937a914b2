package io.siphon.format.qed;

import java.util.Map;

/**
 * QED with the smallest geometry (4 KiB clusters, one-cluster tables: 2 MiB per L2 table), so that
 * the contract's requests cross many L2 tables.
 */
class QedSmallTableImageTest extends QedImageTest {
    @Override
    protected Map<String, String> formatOptions() {
        return Map.of("cluster_size", "4k", "table_size", "1");
    }

    /** QEMU (7.2) refuses even the images it makes itself with one-cluster tables: "table offset is invalid". */
    @Override
    protected boolean qemuOpens() {
        return false;
    }
}
