package io.siphon.cli;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Disk space a host file occupies ({@code st_blocks * 512}, qemu-img's "disk size"), which the JDK
 * does not expose. Thread-safe.
 */
final class HostFiles {
    /** Offset of st_blocks in struct stat; the same on Linux x86_64 and aarch64, the ABIs checked. */
    private static final long ST_BLOCKS_OFFSET = 64;

    private static final long STAT_BUFFER_BYTES = 256;
    private static final Set<String> KNOWN_ARCHITECTURES = Set.of("amd64", "x86_64", "aarch64");
    private static final Optional<MethodHandle> STAT = lookupStat();

    private HostFiles() {}

    private static Optional<MethodHandle> lookupStat() {
        if (!System.getProperty("os.name").equals("Linux")
                || !KNOWN_ARCHITECTURES.contains(System.getProperty("os.arch"))) {
            return Optional.empty();
        }
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup()
                    .find("stat")
                    .map(address -> linker.downcallHandle(
                            address,
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS)));
        } catch (RuntimeException e) {
            // no native access (or no glibc stat symbol): disk size is then reported as unavailable
            return Optional.empty();
        }
    }

    /** Bytes allocated to {@code file} on the host, or empty when it cannot be determined. */
    static OptionalLong allocatedBytes(Path file) {
        if (STAT.isEmpty()) {
            return OptionalLong.empty();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocateFrom(file.toString());
            MemorySegment buffer = arena.allocate(STAT_BUFFER_BYTES, 8);
            int rc = (int) STAT.get().invokeExact(name, buffer);
            if (rc != 0) {
                return OptionalLong.empty();
            }
            return OptionalLong.of(buffer.get(ValueLayout.JAVA_LONG, ST_BLOCKS_OFFSET) * 512);
        } catch (Throwable e) {
            return OptionalLong.empty();
        }
    }
}
