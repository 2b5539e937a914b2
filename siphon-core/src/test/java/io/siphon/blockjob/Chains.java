package io.siphon.blockjob;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Builds base.qcow2 &lt;- mid.qcow2 &lt;- top.qcow2 with qemu-img and fills each layer with qemu-io:
 * random pattern writes, and zero clusters in mid over base data (which a pull must copy as zeroes).
 */
final class Chains {
    static final long SIZE = 32L << 20;

    final Path base;
    final Path mid;
    final Path top;

    private Chains(Path dir) {
        this.base = dir.resolve("base.qcow2");
        this.mid = dir.resolve("mid.qcow2");
        this.top = dir.resolve("top.qcow2");
    }

    /** A chain of three images in {@code dir} with relative backing names, filled from {@code seed}. */
    static Chains build(Path dir, long seed) throws IOException, InterruptedException {
        Chains chain = new Chains(dir);
        Random random = new Random(seed);
        Qemu.createQcow2(chain.base, SIZE, null);
        Qemu.createQcow2(chain.mid, SIZE, "base.qcow2");
        Qemu.createQcow2(chain.top, SIZE, "mid.qcow2");
        Qemu.io(chain.base, randomWrites(random, 12, false));
        Qemu.io(chain.mid, randomWrites(random, 8, true));
        Qemu.io(chain.top, randomWrites(random, 4, false));
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
