package io.siphon.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateDirectoryTest {
    @TempDir
    Path dir;

    @Test
    void aDirectoryInUseCannotBeOpenedUntilItIsClosed() throws Exception {
        Path root = dir.resolve("state");
        try (StateDirectory first = StateDirectory.open(root)) {
            SiphonException e = assertThrows(SiphonException.class, () -> StateDirectory.open(root));
            assertEquals(ErrorCode.OPERATION_FAILED, e.code());
            assertTrue(e.getMessage().contains(root + " is in use"), e.getMessage());
        }
        StateDirectory.open(root).close();
    }

    @Test
    void directoriesAreTheOwnersOnly() throws Exception {
        Path root = dir.resolve("state");
        try (StateDirectory state = StateDirectory.open(root)) {
            Path jobs = state.subdirectory("jobs");
            assertEquals(root.resolve("jobs"), jobs);
            for (Path created : new Path[] {root, root.resolve("domains"), jobs}) {
                assertEquals(
                        "rwx------",
                        PosixFilePermissions.toString(Files.getPosixFilePermissions(created)),
                        created.toString());
            }
        }
    }

    @Test
    void temporariesACrashLeftBehindAreRemovedWhenTheDirectoryIsNextOpened() throws Exception {
        Path root = dir.resolve("state");
        try (StateDirectory state = StateDirectory.open(root)) {
            assertTrue(Files.isDirectory(state.root().resolve("domains")));
        }
        Path jobs = Files.createDirectories(root.resolve("jobs"));
        Path stale = Files.writeString(root.resolve("domains").resolve("web.xml.tmp"), "<domain");
        Path staleJob = Files.writeString(jobs.resolve("web-vda.tmp"), "");
        Path kept = Files.writeString(root.resolve("domains").resolve("web.xml"), "<domain/>");
        Path notOurs = Files.createDirectory(jobs.resolve("nested.tmp")); // a directory, not a write's temporary
        try (StateDirectory state = StateDirectory.open(root)) {
            assertFalse(Files.exists(stale), "a crashed write's temporary definition");
            assertFalse(Files.exists(staleJob), "a crashed write's temporary job record");
            assertEquals("<domain/>", Files.readString(kept), "the file it was to replace is kept");
            assertTrue(Files.isDirectory(notOurs));
        }
    }

    @Test
    void anAtomicWriteReplacesTheFileAndLeavesNoTemporary() throws Exception {
        Path target = dir.resolve("record");
        StateDirectory.writeAtomically(target, "first, and longer");
        StateDirectory.writeAtomically(target, "second");
        assertEquals("second", Files.readString(target));
        assertFalse(Files.exists(dir.resolve("record.tmp")));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void eachStepOfAWriteAndADeleteIsReportedInTheOrderItReachesTheDisk() throws Exception {
        Path jobs = Files.createDirectory(dir.resolve("jobs"));
        List<String> steps = new java.util.concurrent.CopyOnWriteArrayList<>();
        StateDirectory.reportStepsTo(steps::add);
        try {
            StateDirectory.writeAtomically(jobs.resolve("vm.vda.job"), "disk=vda");
            StateDirectory.deleteDurably(jobs.resolve("vm.vda.job"));
            StateDirectory.deleteDurably(jobs.resolve("vm.vda.job")); // gone already: nothing to make durable
        } finally {
            StateDirectory.reportStepsTo(step -> {});
        }
        assertEquals(
                List.of(
                        "state.jobs.tmp.written",
                        "state.jobs.tmp.flushed",
                        "state.jobs.renamed",
                        "state.jobs.dir.flushed",
                        "state.jobs.deleted",
                        "state.jobs.dir.flushed"),
                steps);
        assertFalse(Files.exists(jobs.resolve("vm.vda.job")));
    }
}
