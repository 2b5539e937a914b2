package io.siphon.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Processes on one host share a cache directory: each chunk is fetched by one of them only. */
class ChunkCacheSharingTest {
    private static final int PROCESSES = 3;
    private static final int CHUNKS = 40;

    @TempDir
    Path dir;

    @Test
    void processesReadingOneObjectAtOnceFetchEachChunkOnce() throws Exception {
        Path log = dir.resolve("fetches.log");
        List<Process> children = new ArrayList<>();
        for (int i = 0; i < PROCESSES; i++) {
            children.add(new ProcessBuilder(
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString(),
                            "-Xmx128m",
                            "-cp",
                            System.getProperty("java.class.path"),
                            ChunkCacheSharingChild.class.getName(),
                            dir.resolve("cache").toString(),
                            log.toString(),
                            Integer.toString(CHUNKS))
                    .inheritIO()
                    .start());
        }
        for (Process child : children) {
            assertTrue(child.waitFor(120, TimeUnit.SECONDS), "a reader did not finish");
            assertEquals(0, child.exitValue(), "a reader read wrong bytes");
        }
        int[] fetched = new int[CHUNKS];
        for (String line : Files.readAllLines(log, StandardCharsets.US_ASCII)) {
            String[] parts = line.split(" ");
            int first = Integer.parseInt(parts[0]);
            for (int c = first; c < first + Integer.parseInt(parts[1]); c++) {
                fetched[c]++;
            }
        }
        for (int c = 0; c < CHUNKS; c++) {
            assertEquals(
                    1, fetched[c], "chunk " + c + " fetched " + fetched[c] + " times by " + PROCESSES + " processes");
        }
    }
}
