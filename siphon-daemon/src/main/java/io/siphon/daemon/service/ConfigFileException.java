package io.siphon.daemon.service;

import java.nio.file.Path;

/** A daemon configuration file that cannot be used: names the file, the line and, where there is one, the key. */
public final class ConfigFileException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final Path file;
    private final int line;

    public ConfigFileException(Path file, int line, String message) {
        super(file + (line > 0 ? ":" + line : "") + ": " + message);
        this.file = file;
        this.line = line;
    }

    /** The configuration file. */
    public Path file() {
        return file;
    }

    /** The line (from 1), or 0 for the file as a whole. */
    public int line() {
        return line;
    }
}
