package io.siphon.cli.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.cli.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Internal snapshots made and deleted by {@code image snapshot} are what QEMU reads: qemu-img check
 * finds no error or leak, qemu-img snapshot -l lists them as siphon does, and qemu-img snapshot -a
 * brings back the data they kept.
 */
@Tag("interop")
class SnapshotCommandTest extends ImageFilesTest {

    private Cli.Result siphon(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "image";
        all[1] = "snapshot";
        System.arraycopy(args, 0, all, 2, args.length);
        return Cli.siphon(all);
    }

    private void assertCleanAndListedAlike(String file) throws Exception {
        Cli.Result check = Cli.qemuImg(dir, "check", file);
        assertEquals(0, check.status(), check.toString());
        Cli.Result ours = siphon("-l", file);
        assertEquals(0, ours.status(), ours.toString());
        assertEquals(Cli.qemuImg(dir, "snapshot", "-l", file).out(), ours.out());
    }

    @Test
    void snapshotsSiphonTakesAreRestoredByQemu() throws Exception {
        for (String name : List.of("plain.qcow2", "compressed.qcow2")) {
            if (name.equals("plain.qcow2")) {
                qemuImgOk("create", "-f", "qcow2", "-o", "cluster_size=4k", path(name), "8M");
                Cli.qemuIo(dir, "qcow2", name, "write -P 0x11 0 1M", "write -z 2M 64k", "write -P 0x12 7M 4k");
            } else {
                qemuImgOk("convert", "-c", "-O", "qcow2", path("plain.qcow2"), path(name));
            }
            assertEquals(0, siphon("-c", "kept", path(name)).status());
            assertCleanAndListedAlike(path(name));
            Cli.qemuIo(dir, "qcow2", name, "write -P 0x99 0 8M");
            qemuImgOk("snapshot", "-a", "kept", path(name));
            Cli.qemuIo(dir, "qcow2", name, "read -P 0x11 0 1M", "read -P 0 1M 6M", "read -P 0x12 7M 4k");
            assertEquals(0, siphon("-d", "kept", path(name)).status());
            assertCleanAndListedAlike(path(name));
            Cli.qemuIo(dir, "qcow2", name, "read -P 0x11 0 1M", "read -P 0x12 7M 4k");
        }
    }

    @Test
    void snapshotsBesideQemusOnesAndDeletingThemAll() throws Exception {
        qemuImgOk("create", "-f", "qcow2", path("mixed.qcow2"), "10M");
        Cli.qemuIo(dir, "qcow2", "mixed.qcow2", "write -P 1 0 1M");
        qemuImgOk("snapshot", "-c", "by-qemu", path("mixed.qcow2"));
        Cli.qemuIo(dir, "qcow2", "mixed.qcow2", "write -P 2 512k 1M");
        assertEquals(0, siphon("-c", "by siphon", path("mixed.qcow2")).status());
        assertEquals(0, siphon("-c", "by-qemu", path("mixed.qcow2")).status()); // names may repeat, as in QEMU
        assertCleanAndListedAlike(path("mixed.qcow2"));
        Cli.Result listed = siphon("-l", path("mixed.qcow2"));
        assertTrue(listed.out().contains("\n3         by-qemu "), listed.out());
        for (String name : List.of("by-qemu", "by siphon", "by-qemu")) {
            assertEquals(0, siphon("-d", name, path("mixed.qcow2")).status(), name);
            assertCleanAndListedAlike(path("mixed.qcow2"));
        }
        assertEquals("", siphon("-l", path("mixed.qcow2")).out());
        Cli.qemuIo(dir, "qcow2", "mixed.qcow2", "read -P 1 0 512k", "read -P 2 512k 1M");
    }

    /**
     * -a on a copy reverts what qemu-img snapshot -a reverts on another: the same content (qemu-img
     * compare), the same check counts, both snapshots kept; the older snapshot once more after, and
     * the image still takes qemu-io's writes and Siphon's snapshot deletion cleanly.
     */
    @Test
    void applyingASnapshotIsQemuImgs() throws Exception {
        for (String options : List.of("cluster_size=4k", "compat=0.10", "cluster_size=64k")) {
            String name = options.replaceAll("[^a-z0-9]", "") + ".qcow2";
            qemuImgOk("create", "-f", "qcow2", "-o", options, path(name), "8M");
            Cli.qemuIo(dir, "qcow2", name, "write -P 1 0 2M", "write -P 5 6M 64k");
            qemuImgOk("snapshot", "-c", "one", path(name));
            Cli.qemuIo(dir, "qcow2", name, "write -P 2 1M 2M", "write -z 6M 64k", "write -P 7 4M 4k");
            assertEquals(0, siphon("-c", "two", path(name)).status());
            Cli.qemuIo(dir, "qcow2", name, "write -P 3 0 512k", "discard 3M 1M", "write -P 4 7M 8k");
            for (String snapshot : List.of("one", "two")) {
                String ours = path("s-" + snapshot + "-" + name);
                String theirs = path("q-" + snapshot + "-" + name);
                Files.copy(dir.resolve(name), Path.of(ours));
                Files.copy(dir.resolve(name), Path.of(theirs));
                qemuImgOk("snapshot", "-a", snapshot, theirs);
                Cli.Result applied = siphon("-a", snapshot, ours);
                assertEquals(0, applied.status(), applied.toString());
                assertEquals("", applied.out() + applied.err());
                assertEquals(0, Cli.qemuImg(dir, "compare", theirs, ours).status(), snapshot + " " + options);
                assertEquals(
                        Cli.qemuImg(dir, "check", theirs).out(),
                        Cli.qemuImg(dir, "check", ours).out());
                assertCleanAndListedAlike(ours);
            }
            // back to the older one after the newer, then written and emptied of snapshots
            String ours = path("s-two-" + name);
            assertEquals(0, siphon("-a", "one", ours).status());
            Cli.qemuIo(dir, "qcow2", "s-two-" + name, "read -P 1 0 2M", "read -P 0 2M 4M", "read -P 5 6M 64k");
            assertEquals(0, siphon("-d", "one", ours).status());
            assertEquals(0, siphon("-d", "two", ours).status());
            Cli.qemuIo(dir, "qcow2", "s-two-" + name, "write -P 8 0 1M", "read -P 8 0 1M", "read -P 1 1M 1M");
            assertCleanAndListedAlike(ours);
        }
    }

    @Test
    void refusalsAreOneLineAsQemuImgs() throws Exception {
        qemuImgOk("create", "-f", "qcow2", path("one.qcow2"), "1M");
        for (List<String> args : List.of(List.of("-d", "nothere"), List.of("-a", "nothere"))) {
            Cli.Result qemu = Cli.qemuImg(dir, "snapshot", args.get(0), args.get(1), path("one.qcow2"));
            Cli.Result ours = siphon(args.get(0), args.get(1), path("one.qcow2"));
            assertEquals(qemu.status(), ours.status(), args + ": " + ours);
            assertEquals(1, ours.err().lines().count(), ours.err());
        }
    }

    /**
     * resize (grow, shrink) and amend -o size= on an image with a snapshot do what qemu-img 7.2
     * does on a copy: the same virtual size and content, check clean, the snapshot's data untouched
     * and brought back by qemu-img snapshot -a (its own size with it).
     */
    @Test
    void resizingAnImageWithASnapshotIsQemuImgs() throws Exception {
        qemuImgOk("create", "-f", "qcow2", "-o", "cluster_size=4k", path("sized.qcow2"), "4M");
        Cli.qemuIo(dir, "qcow2", "sized.qcow2", "write -P 1 0 4M");
        assertEquals(0, siphon("-c", "kept", path("sized.qcow2")).status());
        List<List<String>> changes = List.of(
                List.of("resize", "sized.qcow2", "+2M"),
                List.of("resize", "--shrink", "sized.qcow2", "1026k"),
                List.of("amend", "-o", "size=3M", "sized.qcow2"));
        for (List<String> change : changes) {
            Files.copy(dir.resolve("sized.qcow2"), dir.resolve("theirs.qcow2"));
            List<String> theirs = change.stream()
                    .map(a -> a.equals("sized.qcow2") ? path("theirs.qcow2") : a)
                    .toList();
            qemuImgOk(theirs.toArray(String[]::new));
            List<String> ours = new java.util.ArrayList<>(List.of("image"));
            change.forEach(a -> ours.add(a.equals("sized.qcow2") ? path("sized.qcow2") : a));
            Cli.Result result = Cli.siphon(ours.toArray(String[]::new));
            assertEquals(0, result.status(), change + ": " + result);
            assertCleanAndListedAlike(path("sized.qcow2"));
            assertEquals(
                    0,
                    Cli.qemuImg(dir, "compare", path("theirs.qcow2"), path("sized.qcow2"))
                            .status(),
                    change.toString());
            Files.delete(dir.resolve("theirs.qcow2"));
        }
        Cli.qemuIo(dir, "qcow2", "sized.qcow2", "read -P 1 0 1026k", "read -P 0 1026k 1022k");
        qemuImgOk("snapshot", "-a", "kept", path("sized.qcow2"));
        assertCleanAndListedAlike(path("sized.qcow2"));
        Cli.qemuIo(dir, "qcow2", "sized.qcow2", "read -P 1 0 4M");
    }
}
