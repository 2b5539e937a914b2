package io.siphon.cli.domain;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/** Whether the process's standard error is a terminal, by {@code isatty(2)}. Thread-safe. */
final class Terminal {
    private static final int STDERR = 2;

    private Terminal() {}

    /** True when fd 2 is a terminal and TERM is not {@code dumb}; false when that cannot be told. */
    static boolean stderrIsTerminal() {
        if ("dumb".equals(System.getenv("TERM"))) {
            return false;
        }
        try {
            Linker linker = Linker.nativeLinker();
            Optional<MethodHandle> isatty = linker.defaultLookup()
                    .find("isatty")
                    .map(address -> linker.downcallHandle(
                            address, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)));
            return isatty.isPresent() && (int) isatty.get().invokeExact(STDERR) == 1;
        } catch (Throwable e) {
            // no native access (run without --enable-native-access): plain lines are always safe
            return false;
        }
    }
}
