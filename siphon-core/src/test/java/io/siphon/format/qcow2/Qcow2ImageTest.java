package io.siphon.format.qcow2;

import io.siphon.block.BlockDevice;
import io.siphon.format.CreateOptions;
import io.siphon.format.Formats;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.testing.ImageFormatContract;
import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;

/** The image format contract for qcow2: v3 and v2, each alone and over a backing file. */
class Qcow2ImageTest {
    /** A contract run that also requires qemu-img check to find every image clean afterwards. */
    abstract static class Variant extends ImageFormatContract {
        Path file;

        abstract Map<String, String> options();

        @Override
        protected String formatName() {
            return "qcow2";
        }

        @Override
        protected Map<String, String> formatOptions() {
            return options();
        }

        boolean withBacking() {
            return false;
        }

        @Override
        protected BlockDevice create(long sizeBytes) throws IOException {
            file = dir.resolve("disk.qcow2");
            if (withBacking()) {
                Path base = dir.resolve("base.qcow2");
                Formats.byName("qcow2").create(base, new CreateOptions(sizeBytes, Optional.empty(), options()));
                Formats.byName("qcow2")
                        .create(
                                file,
                                new CreateOptions(
                                        CreateOptions.SIZE_OF_BACKING,
                                        Optional.of(io.siphon.format.BackingReference.of("base.qcow2", "qcow2")),
                                        options()));
            } else {
                Formats.byName("qcow2").create(file, new CreateOptions(sizeBytes, Optional.empty(), options()));
            }
            return reopen();
        }

        @Override
        protected BlockDevice reopen() throws IOException {
            ImageChain chain = ImageChain.open(file, Optional.of("qcow2"), OpenOptions.READ_WRITE);
            return new ChainDevice(chain);
        }

        @AfterEach
        void qemuImgCheckIsClean() throws Exception {
            if (file != null && java.nio.file.Files.exists(file)) {
                QemuTools.assertCheckClean(file);
            }
        }
    }

    @Nested
    class V3 extends Variant {
        @Override
        Map<String, String> options() {
            return Map.of();
        }
    }

    @Nested
    class V2 extends Variant {
        @Override
        Map<String, String> options() {
            return Map.of("compat", "0.10");
        }
    }

    @Nested
    class V3SmallClustersOverBacking extends Variant {
        @Override
        Map<String, String> options() {
            return Map.of("cluster_size", "4096");
        }

        @Override
        boolean withBacking() {
            return true;
        }
    }

    @Nested
    class V2OverBacking extends Variant {
        @Override
        Map<String, String> options() {
            return Map.of("compat", "0.10", "cluster_size", "512");
        }

        @Override
        boolean withBacking() {
            return true;
        }
    }

    @Nested
    class V3Lazy512 extends Variant {
        @Override
        Map<String, String> options() {
            return Map.of("cluster_size", "512", "lazy_refcounts", "on", "refcount_bits", "1");
        }
    }
}
