package io.siphon.format.qed;

import io.siphon.block.BlockDevice;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * The child process of {@link QedCrashTest}: opens a QED chain and writes a seeded plan of
 * non-overlapping writes (each allocating), flushing every few writes and printing {@code flushed
 * N} once writes 0..N-1 are durable. It runs until killed or the plan is done.
 */
final class QedCrashWriter {
    static final int FLUSH_EVERY = 6;

    /** One planned write; its bytes come from {@link #data()}. */
    record PlannedWrite(long offsetBytes, int lengthBytes, long dataSeed) {
        byte[] data() {
            byte[] bytes = new byte[lengthBytes];
            new Random(dataSeed).nextBytes(bytes);
            return bytes;
        }
    }

    /** Writes into distinct slots in random order, at random offsets and lengths inside each slot. */
    static List<PlannedWrite> plan(long seed, long sizeBytes) {
        int slotBytes = 48 << 10;
        Random random = new Random(seed);
        List<Integer> slots = new ArrayList<>();
        for (int s = 0; s < sizeBytes / slotBytes; s++) {
            slots.add(s);
        }
        Collections.shuffle(slots, random);
        List<PlannedWrite> plan = new ArrayList<>();
        for (int slot : slots) {
            int length = 1 + random.nextInt(40 << 10);
            long offset = (long) slot * slotBytes + random.nextInt(slotBytes - length + 1);
            plan.add(new PlannedWrite(offset, length, random.nextLong()));
        }
        return plan;
    }

    static void main(String[] args) throws Exception {
        Path image = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        try (ImageChain chain = ImageChain.open(image, Optional.of("qed"), OpenOptions.READ_WRITE)) {
            BlockDevice top = chain.top();
            List<PlannedWrite> plan = plan(seed, top.sizeBytes());
            for (int i = 0; i < plan.size(); i++) {
                PlannedWrite w = plan.get(i);
                top.write(w.offsetBytes(), ByteBuffer.wrap(w.data()));
                if ((i + 1) % FLUSH_EVERY == 0) {
                    top.flush();
                    System.out.println("flushed " + (i + 1));
                    System.out.flush();
                }
            }
        }
        System.out.println("done");
    }
}
