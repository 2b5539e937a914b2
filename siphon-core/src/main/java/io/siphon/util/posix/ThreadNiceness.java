package io.siphon.util.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * The scheduler niceness of the calling platform thread (Linux keeps one per thread). Background
 * work that must not take CPU from a guest runs nicer: the scheduler then gives it what the guest
 * leaves, which no rate controller measuring from outside can do as quickly. An unprivileged
 * process can make a thread nicer but never less nice again, so this is for threads that end with
 * their work.
 */
public final class ThreadNiceness {
    /** The nicest a thread can be. */
    public static final int NICEST = 19;

    private ThreadNiceness() {}

    /**
     * Sets the calling thread's niceness to {@code nice} (0 to {@link #NICEST}); returns an error
     * description when the system refused or has no such call, else empty. A virtual thread must not
     * call this: the niceness would stay with its carrier.
     */
    public static Optional<String> setCurrent(int nice) {
        if (nice < 0 || nice > NICEST) {
            throw new IllegalArgumentException("nice " + nice + " is not in 0.." + NICEST);
        }
        if (Thread.currentThread().isVirtual()) {
            throw new IllegalStateException("a virtual thread has no niceness of its own");
        }
        if (LibC.GETTID.isEmpty() || LibC.SETPRIORITY.isEmpty()) {
            return Optional.of("this C library has no gettid/setpriority");
        }
        try (Arena arena = Arena.ofConfined()) {
            int tid = (int) LibC.GETTID.get().invokeExact();
            MemorySegment state = LibC.captureState(arena);
            MethodHandle setpriority = LibC.SETPRIORITY.get();
            int result = (int) setpriority.invokeExact(state, LibC.PRIO_PROCESS, tid, nice);
            return result == 0 ? Optional.empty() : Optional.of("setpriority: " + Errno.describe(LibC.errno(state)));
        } catch (Throwable t) {
            return Optional.of("setpriority: " + t);
        }
    }
}
