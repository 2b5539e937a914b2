package io.siphon.format;

import java.nio.file.Path;

/** QEMU's rule for backing names: a relative name is relative to the directory of the image naming it. */
public final class BackingNames {
    private BackingNames() {}

    /** The path that {@code name}, stored in {@code image}'s header, refers to. */
    public static Path resolve(Path image, String name) {
        Path named = Path.of(name);
        if (named.isAbsolute()) {
            return named;
        }
        Path parent = image.toAbsolutePath().getParent();
        return parent == null ? named : parent.resolve(named).normalize();
    }

    /**
     * The name to store in {@code image}'s header for {@code backing}: relative to the image's
     * directory when {@code keepRelative}, else absolute.
     */
    public static String nameFor(Path image, Path backing, boolean keepRelative) {
        Path absoluteBacking = backing.toAbsolutePath().normalize();
        if (!keepRelative) {
            return absoluteBacking.toString();
        }
        Path dir = image.toAbsolutePath().normalize().getParent();
        return dir == null
                ? absoluteBacking.toString()
                : dir.relativize(absoluteBacking).toString();
    }
}
