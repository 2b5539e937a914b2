package io.siphon.format;

import java.nio.file.Path;
import java.util.regex.Pattern;

/** QEMU's rule for backing names: a relative name is relative to the directory of the image naming it. */
public final class BackingNames {
    /** A URL's scheme, as RFC 3986 spells it, followed by an authority. */
    private static final Pattern URL = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*://.*", Pattern.DOTALL);

    private BackingNames() {}

    /**
     * Whether {@code name} names something other than a host file: QEMU's {@code json:} names and
     * URLs ({@code nbd://}, {@code nbd+unix://}, {@code http(s)://}, {@code s3://}...). Such a name is
     * never resolved as a path.
     */
    public static boolean isRemote(String name) {
        return name.startsWith("json:") || URL.matcher(name).matches();
    }

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
