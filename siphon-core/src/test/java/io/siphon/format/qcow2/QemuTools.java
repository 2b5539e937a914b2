package io.siphon.format.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.siphon.format.ExternalCommand;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** qemu-img and qemu-io (found on PATH) as the qcow2 tests use them. */
final class QemuTools {
    private QemuTools() {}

    static ExternalCommand.Result run(String... command) throws IOException, InterruptedException {
        return ExternalCommand.run(command);
    }

    /** Runs a command that must succeed; returns its standard output. */
    static String ok(String... command) throws IOException, InterruptedException {
        return run(command).requireSuccess().stdout();
    }

    /** {@code qemu-img create -q -f qcow2 [extra...] image size}. */
    static void createQcow2(Path image, String size, String... extra) throws IOException, InterruptedException {
        List<String> command = args("qemu-img", "create", "-q", "-f", "qcow2");
        command.addAll(List.of(extra));
        command.add(image.toString());
        command.add(size);
        ok(command.toArray(String[]::new));
    }

    static void assertCheckClean(Path image) throws IOException, InterruptedException {
        ExternalCommand.Result result = run("qemu-img", "check", "-U", image.toString());
        assertEquals(0, result.exitCode(), "qemu-img check " + image + ":\n" + result.stdout() + result.stderr());
    }

    static List<String> args(String... parts) {
        return new ArrayList<>(List.of(parts));
    }
}
