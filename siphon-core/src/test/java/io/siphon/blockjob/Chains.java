package io.siphon.blockjob;

import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Builds base &lt;- mid &lt;- top with qemu-img (qcow2 unless other formats are asked for, each file
 * named for its role and format, e.g. mid.qed) and fills each layer with qemu-io: random pattern
 * writes, and zero clusters in mid over base data (which a pull must copy as zeroes).
 */
final class Chains {
    static final long SIZE = 32L << 20;

    final Path base;
    final Path mid;
    final Path top;

    private Chains(Path dir, String topFormat, String midFormat, String baseFormat) {
        this.base = dir.resolve("base." + baseFormat);
        this.mid = dir.resolve("mid." + midFormat);
        this.top = dir.resolve("top." + topFormat);
    }

    /** A qcow2 chain of three images in {@code dir} with relative backing names, filled from {@code seed}. */
    static Chains build(Path dir, long seed) throws IOException, InterruptedException {
        return build(dir, seed, "qcow2", "qcow2", "qcow2");
    }

    /** A chain of three images of the given formats in {@code dir}, relative backing names, filled from {@code seed}. */
    static Chains build(Path dir, long seed, String topFormat, String midFormat, String baseFormat)
            throws IOException, InterruptedException {
        return build(dir, seed, topFormat, midFormat, baseFormat, new String[0]);
    }

    /** A qcow2 chain as {@link #build(Path, long)}, the top created with {@code -o} {@code topOptions}. */
    static Chains buildWithTopOptions(Path dir, long seed, String... topOptions)
            throws IOException, InterruptedException {
        return build(dir, seed, "qcow2", "qcow2", "qcow2", topOptions);
    }

    private static Chains build(
            Path dir, long seed, String topFormat, String midFormat, String baseFormat, String[] topOptions)
            throws IOException, InterruptedException {
        Chains chain = new Chains(dir, topFormat, midFormat, baseFormat);
        Random random = new Random(seed);
        QemuTools.create(chain.base, baseFormat, SIZE, null, null);
        QemuTools.create(chain.mid, midFormat, SIZE, chain.base.getFileName().toString(), baseFormat);
        QemuTools.create(chain.top, topFormat, SIZE, chain.mid.getFileName().toString(), midFormat, topOptions);
        QemuTools.io(chain.base, baseFormat, randomWrites(random, 12, false));
        QemuTools.io(chain.mid, midFormat, randomWrites(random, 8, true));
        QemuTools.io(chain.top, topFormat, randomWrites(random, 4, false));
        return chain;
    }

    private static List<String> randomWrites(Random random, int count, boolean withZeroes) {
        List<String> commands = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long length = (1 + random.nextInt(64)) * 16384L;
            long offset = random.nextLong(SIZE - length) & ~511L;
            if (withZeroes && i % 3 == 0) {
                commands.add("write -z " + random.nextInt((int) (SIZE >> 16) - 4) * 65536L + " " + 65536 * 4);
            } else {
                commands.add("write -P " + (1 + random.nextInt(255)) + " " + offset + " " + length);
            }
        }
        return commands;
    }
}
