package io.siphon.nbd.testing;

import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;

/** Seeded random disk content for tests; the seed is printed so that a failure can be replayed. */
public final class RandomDisk {
    private RandomDisk() {}

    /** Prints {@code seed} and returns {@code sizeBytes} random bytes drawn from it. */
    public static byte[] content(long seed, int sizeBytes) {
        System.out.println("seed " + seed);
        byte[] content = new byte[sizeBytes];
        new Random(seed).nextBytes(content);
        return content;
    }

    /** Writes {@code content} to {@code file} and opens it as a read-write raw chain. */
    public static ImageChain open(Path file, byte[] content) throws IOException {
        Files.write(file, content);
        return ImageChain.open(file, Optional.of("raw"), OpenOptions.READ_WRITE);
    }
}
