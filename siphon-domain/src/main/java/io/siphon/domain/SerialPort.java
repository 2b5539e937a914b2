package io.siphon.domain;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/** Where a machine's first serial port (the guest's ttyS0) goes: libvirt's {@code <serial type=…>}. */
public sealed interface SerialPort {
    /** {@code type='file'}: the port appends to {@code path}. */
    record File(Path path) implements SerialPort {
        public File {
            Objects.requireNonNull(path, "path");
        }
    }

    /**
     * {@code type='pty'} (what virt-install writes): a pseudo-terminal QEMU allocates, as libvirt does;
     * with {@code <log file='…'/>} its output is also appended to {@code log}.
     */
    record Pty(Optional<Path> log) implements SerialPort {
        public Pty {
            Objects.requireNonNull(log, "log");
        }
    }
}
