package io.siphon.format.qcow2;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * Raw deflate through the system's zlib, called as QEMU's qcow2_zlib_compress calls it: level
 * {@code Z_DEFAULT_COMPRESSION}, window bits -12 and memory level 9. The JDK's {@link
 * java.util.zip.Deflater} always uses a 32 KiB window, which QEMU's inflater (window 4 KiB)
 * rejects, hence the downcall. Thread-safe: each call has its own stream.
 */
final class ZlibDeflate {
    private static final int Z_DEFAULT_COMPRESSION = -1;
    private static final int Z_DEFLATED = 8;
    private static final int WINDOW_BITS = -12;
    private static final int MEM_LEVEL = 9;
    private static final int Z_DEFAULT_STRATEGY = 0;
    private static final int Z_FINISH = 4;
    private static final int Z_STREAM_END = 1;

    /** {@code z_stream} on 64-bit Linux: 112 bytes; the offsets of the fields set or read here. */
    private static final long STREAM_BYTES = 112;

    private static final long NEXT_IN = 0;
    private static final long AVAIL_IN = 8;
    private static final long NEXT_OUT = 24;
    private static final long AVAIL_OUT = 32;

    private record Calls(MethodHandle init, MethodHandle deflate, MethodHandle end, MethodHandle version) {}

    private static final Optional<Calls> CALLS = bind();

    private ZlibDeflate() {}

    private static Optional<Calls> bind() {
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup zlib = SymbolLookup.libraryLookup("libz.so.1", Arena.global());
            return Optional.of(new Calls(
                    linker.downcallHandle(
                            zlib.findOrThrow("deflateInit2_"),
                            FunctionDescriptor.of(
                                    JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS,
                                    JAVA_INT)),
                    linker.downcallHandle(
                            zlib.findOrThrow("deflate"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT)),
                    linker.downcallHandle(zlib.findOrThrow("deflateEnd"), FunctionDescriptor.of(JAVA_INT, ADDRESS)),
                    linker.downcallHandle(zlib.findOrThrow("zlibVersion"), FunctionDescriptor.of(ADDRESS))));
        } catch (IllegalArgumentException | NoSuchElementException e) {
            return Optional.empty();
        }
    }

    /** Whether the system's zlib could be loaded. */
    static boolean available() {
        return CALLS.isPresent();
    }

    /**
     * Compresses {@code input} into at most {@code limit} bytes of {@code output}; the length, or -1
     * when the deflate stream does not fit (QEMU's {@code -ENOMEM}: the cluster is stored as it is).
     */
    static int compress(byte[] input, byte[] output, int limit) {
        Calls calls =
                CALLS.orElseThrow(() -> new IllegalStateException("the system's zlib (libz.so.1) is not available"));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(input.length);
            MemorySegment.copy(input, 0, in, JAVA_BYTE, 0, input.length);
            MemorySegment out = arena.allocate(limit);
            MemorySegment stream = arena.allocate(STREAM_BYTES, 8); // zeroed: default zalloc, zfree, opaque
            MemorySegment version = (MemorySegment) calls.version().invokeExact();
            int result = (int) calls.init()
                    .invokeExact(
                            stream,
                            Z_DEFAULT_COMPRESSION,
                            Z_DEFLATED,
                            WINDOW_BITS,
                            MEM_LEVEL,
                            Z_DEFAULT_STRATEGY,
                            version,
                            (int) STREAM_BYTES);
            if (result != 0) {
                throw new IllegalStateException("zlib deflateInit2 failed: " + result);
            }
            try {
                stream.set(ADDRESS, NEXT_IN, in);
                stream.set(JAVA_INT, AVAIL_IN, input.length);
                stream.set(ADDRESS, NEXT_OUT, out);
                stream.set(JAVA_INT, AVAIL_OUT, limit);
                result = (int) calls.deflate().invokeExact(stream, Z_FINISH);
                if (result != Z_STREAM_END) {
                    return -1;
                }
                int length = limit - stream.get(JAVA_INT, AVAIL_OUT);
                MemorySegment.copy(out, JAVA_BYTE, 0, output, 0, length);
                return length;
            } finally {
                int ended = (int) calls.end().invokeExact(stream); // frees the stream; nothing to report
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("zlib call failed", e);
        }
    }
}
