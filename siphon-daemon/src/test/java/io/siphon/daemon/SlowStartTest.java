package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.DomainState;
import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import io.siphon.format.ImageFile;
import io.siphon.format.ImageFormatException;
import io.siphon.format.OpenOptions;
import io.siphon.testing.QemuTools;
import java.io.InterruptedIOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A start whose disk open blocks holds up nobody else (the open runs outside the manager's lock),
 * can be given up on, and a backing file that would block (a FIFO) is refused before it is opened.
 */
class SlowStartTest {
    private static final Duration LIMIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private Path fifo;

    @AfterEach
    void unblockFifoReaders() throws Exception {
        if (fifo != null && Files.exists(fifo)) {
            // opening a FIFO read-write never blocks, and releases a reader blocked in open (before the fix)
            new RandomAccessFile(fifo.toFile(), "rw").close();
        }
    }

    @Test
    void aFifoBackingFileIsRefusedWithoutBlocking() throws Exception {
        fifo = dir.resolve("template.fifo");
        QemuTools.run("mkfifo", fifo.toString());
        Path top = dir.resolve("top.qcow2");
        QemuTools.run(
                "qemu-img",
                "create",
                "-q",
                "-f",
                "qcow2",
                "-u",
                "-b",
                fifo.toString(),
                "-F",
                "raw",
                top.toString(),
                "1M");
        DomainManager manager = DomainManager.open(dir.resolve("state"));
        try {
            manager.define(qcow2DomainXml("d", top));
            SiphonException e = assertTimeoutPreemptively(
                    LIMIT, () -> assertThrows(SiphonException.class, () -> manager.start("d")));
            assertEquals(ErrorCode.OPERATION_FAILED, e.code(), e.getMessage());
            assertTrue(
                    e.getMessage().contains(fifo + ": is a FIFO, not a regular file or block device"), e.getMessage());
            assertEquals(DomainState.SHUTOFF, manager.info("d").state());
        } finally {
            manager.close();
        }
    }

    @Test
    void otherCallsAreServedDuringABlockedOpenAndTheStartCanBeGivenUp() throws Exception {
        CountDownLatch opening = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch openedLate = new CountDownLatch(1);
        DiskOpener blockingForSlow = (domain, disk) -> {
            if (domain.equals("slow")) {
                opening.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new InterruptedIOException("opening " + disk.target());
                }
            }
            RunningDisk opened = RunningDisk.open(domain, disk, io.siphon.format.RemoteBackingPolicy.LOCAL_ONLY);
            if (domain.equals("slow")) {
                openedLate.countDown();
            }
            return opened;
        };
        DomainManager manager = DomainManager.open(dir.resolve("state"), blockingForSlow);
        try {
            manager.define(TestDomains.rawDomainXml(dir, "slow"));
            manager.define(TestDomains.rawDomainXml(dir, "fast"));
            CompletableFuture<Void> slowStart = CompletableFuture.runAsync(() -> manager.start("slow"));
            assertTrue(opening.await(LIMIT.toSeconds(), TimeUnit.SECONDS));

            assertTimeoutPreemptively(LIMIT, () -> {
                assertEquals(
                        List.of("fast", "slow"),
                        manager.list().stream().map(d -> d.name()).toList());
                manager.start("fast");
                assertEquals(DomainState.RUNNING, manager.info("fast").state());
                SiphonException twice = assertThrows(SiphonException.class, () -> manager.start("slow"));
                assertEquals(ErrorCode.OPERATION_INVALID, twice.code(), twice.getMessage());
                manager.destroy("slow");
            });
            Exception givenUp = assertThrows(Exception.class, () -> slowStart.get(LIMIT.toSeconds(), TimeUnit.SECONDS));
            assertTrue(givenUp.getCause() instanceof SiphonException, givenUp.toString());
            assertTrue(
                    givenUp.getCause().getMessage().contains("start of domain 'slow' was given up"),
                    givenUp.toString());
            assertEquals(DomainState.SHUTOFF, manager.info("slow").state());

            // the disk that opens after the give-up is closed, never used: its lock is released
            release.countDown();
            // once the late disk holds its lock, the lock is free only after the give-up closed it
            assertTrue(openedLate.await(LIMIT.toSeconds(), TimeUnit.SECONDS));
            awaitWritable(dir.resolve("slow.img"));
            manager.start("slow");
            assertEquals(DomainState.RUNNING, manager.info("slow").state());
        } finally {
            release.countDown();
            manager.close();
        }
    }

    private static void awaitWritable(Path image) throws Exception {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (true) {
            try (ImageFile file = ImageFile.open(image, OpenOptions.READ_WRITE)) {
                return;
            } catch (ImageFormatException e) {
                if (e.reason() != ImageFormatException.Reason.LOCKED || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.onSpinWait();
            }
        }
    }

    private static String qcow2DomainXml(String name, Path image) {
        return "<domain><name>" + name + "</name><devices><disk type='file'><driver type='qcow2'/><source file='"
                + image + "'/><target dev='vda'/></disk></devices></domain>";
    }
}
