package io.siphon.bench;

import io.siphon.block.BlockDevice;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs a workload through Siphon's engine (the image's format driver over its host file), with
 * {@code depth} threads issuing requests: virtual ones, as the NBD server's connections use, or
 * platform ones. Timing starts after the image is open and ends when the last request completes, as
 * qemu-img bench's does.
 */
final class SiphonRun {
    private SiphonRun() {}

    /** Seconds the workload took. */
    static double seconds(Path image, String format, Workload workload, int depth, boolean virtualThreads)
            throws IOException, InterruptedException {
        OpenOptions options = workload.write() ? OpenOptions.READ_WRITE : OpenOptions.READ_ONLY;
        try (ImageChain chain = ImageChain.open(image, Optional.of(format), options)) {
            BlockDevice disk = chain.top();
            long imageBytes = disk.sizeBytes();
            AtomicLong next = new AtomicLong();
            List<Future<?>> workers = new ArrayList<>();
            long start = System.nanoTime();
            try (ExecutorService pool = virtualThreads
                    ? Executors.newVirtualThreadPerTaskExecutor()
                    : Executors.newFixedThreadPool(depth)) {
                for (int i = 0; i < depth; i++) {
                    workers.add(pool.submit(() -> {
                        issue(disk, imageBytes, workload, next);
                        return null;
                    }));
                }
                for (Future<?> worker : workers) {
                    worker.get();
                }
            } catch (ExecutionException e) {
                throw new IOException("Siphon run of " + workload.name() + " on " + image + " failed", e.getCause());
            }
            return (System.nanoTime() - start) / 1e9;
        }
    }

    private static void issue(BlockDevice disk, long imageBytes, Workload workload, AtomicLong next)
            throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(workload.blockBytes());
        while (buffer.hasRemaining()) {
            buffer.put((byte) 0xa5);
        }
        for (long index = next.getAndIncrement(); index < workload.count(); index = next.getAndIncrement()) {
            long offset = workload.offsetOf(index, imageBytes);
            buffer.clear();
            if (workload.write()) {
                disk.write(offset, buffer);
            } else {
                disk.read(offset, buffer);
            }
        }
    }
}
