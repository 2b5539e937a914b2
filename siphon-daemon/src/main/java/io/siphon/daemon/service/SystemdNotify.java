package io.siphon.daemon.service;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;

/**
 * systemd's readiness protocol ({@code sd_notify(3)}): a datagram such as {@code READY=1} sent to the
 * Unix socket named by {@code $NOTIFY_SOCKET} (a path, or an abstract name after {@code @}). The JDK
 * has no Unix datagram sockets, so the calls go through {@code java.lang.foreign}.
 */
public final class SystemdNotify {
    /** The environment variable systemd sets for a {@code Type=notify} service. */
    public static final String VARIABLE = "NOTIFY_SOCKET";

    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int MSG_NOSIGNAL = 0x4000;
    /** {@code sizeof(((struct sockaddr_un *) 0)->sun_path)} on Linux. */
    private static final int SUN_PATH_BYTES = 108;

    private static final StructLayout ERRNO = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_VALUE =
            ERRNO.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

    private final String socketName;

    private SystemdNotify(String socketName) {
        this.socketName = socketName;
    }

    /** The notifier systemd asked for in {@code environment}, or empty when the service is not {@code Type=notify}. */
    public static Optional<SystemdNotify> fromEnvironment(Map<String, String> environment) {
        String name = environment.getOrDefault(VARIABLE, "");
        return name.isEmpty() ? Optional.empty() : Optional.of(new SystemdNotify(name));
    }

    /** Sends {@code state} (newline-separated assignments such as {@code READY=1}) in one datagram. */
    public void send(String state) throws IOException {
        byte[] message = state.getBytes(StandardCharsets.UTF_8);
        byte[] path = socketName.getBytes(StandardCharsets.UTF_8);
        boolean abstractName = path[0] == '@';
        // a path is NUL-terminated; an abstract name starts with NUL and has no terminator
        if (path.length + (abstractName ? 0 : 1) > SUN_PATH_BYTES) {
            throw new IOException(VARIABLE + "=" + socketName + ": longer than a Unix socket name may be");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = arena.allocate(ERRNO);
            int fd = (int) Calls.SOCKET.invokeExact(errno, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw failure("socket", errno);
            }
            try {
                MemorySegment address = arena.allocate(2 + SUN_PATH_BYTES);
                address.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
                MemorySegment.copy(path, 0, address, ValueLayout.JAVA_BYTE, 2, path.length);
                if (abstractName) {
                    address.set(ValueLayout.JAVA_BYTE, 2, (byte) 0);
                }
                int addressLength = 2 + path.length + (abstractName ? 0 : 1);
                MemorySegment buffer = arena.allocateFrom(ValueLayout.JAVA_BYTE, message);
                long sent = (long) Calls.SENDTO.invokeExact(
                        errno, fd, buffer, (long) message.length, MSG_NOSIGNAL, address, addressLength);
                if (sent != message.length) {
                    throw failure("sendto " + socketName, errno);
                }
            } finally {
                int closed = (int) Calls.CLOSE.invokeExact(fd); // a datagram socket has nothing to lose at close
                assert closed == 0 || closed == -1;
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException("sd_notify to " + socketName + ": " + e, e);
        }
    }

    private static IOException failure(String call, MemorySegment errno) {
        return new IOException(call + " failed: errno " + (int) ERRNO_VALUE.get(errno, 0L));
    }

    /** The libc calls, bound on first use. */
    private static final class Calls {
        static final MethodHandle SOCKET;
        static final MethodHandle SENDTO;
        static final MethodHandle CLOSE;

        static {
            Linker linker = Linker.nativeLinker();
            Linker.Option errno = Linker.Option.captureCallState("errno");
            SOCKET = linker.downcallHandle(
                    linker.defaultLookup().findOrThrow("socket"),
                    FunctionDescriptor.of(
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                    errno);
            SENDTO = linker.downcallHandle(
                    linker.defaultLookup().findOrThrow("sendto"),
                    FunctionDescriptor.of(
                            ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_INT,
                            ValueLayout.ADDRESS,
                            ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_INT,
                            ValueLayout.ADDRESS,
                            ValueLayout.JAVA_INT),
                    errno);
            CLOSE = linker.downcallHandle(
                    linker.defaultLookup().findOrThrow("close"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        }
    }
}
