package io.siphon.cli.image;

import io.siphon.cli.Cli;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** What the image command tests share: a fresh directory of image files, and qemu-img run there. */
abstract class ImageFilesTest {
    @TempDir
    Path dir;

    String path(String name) {
        return dir.resolve(name).toString();
    }

    void qemuImgOk(String... args) throws Exception {
        Cli.qemuImgOk(dir, args);
    }
}
