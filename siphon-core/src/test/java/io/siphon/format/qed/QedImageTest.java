package io.siphon.format.qed;

import io.siphon.testing.ImageFormatContract;

/** QED with QEMU's default geometry (64 KiB clusters, 4-cluster tables) under the image format contract. */
class QedImageTest extends ImageFormatContract {
    @Override
    protected String formatName() {
        return "qed";
    }
}
