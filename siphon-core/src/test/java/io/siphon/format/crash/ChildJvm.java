package io.siphon.format.crash;

import io.siphon.util.CrashPoints;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The command line of a child JVM that runs {@code main} on this test class path and dies at a crash point. */
final class ChildJvm {
    private ChildJvm() {}

    static List<String> command(String point, int at, Class<?> main, String... args) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-Xmx128m",
                "-D" + CrashPoints.PROPERTY + "=" + point + "@" + at,
                "-cp",
                System.getProperty("java.class.path"),
                main.getName()));
        command.addAll(List.of(args));
        return command;
    }
}
