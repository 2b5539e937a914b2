package io.siphon.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The version of this Siphon library: the Maven project's, written into a resource at build time. */
public final class SiphonVersion {
    private static final String RESOURCE = "version.properties";
    private static final String CURRENT = load();

    private SiphonVersion() {}

    /** The library's version, e.g. {@code 0.1.0}. */
    public static String current() {
        return CURRENT;
    }

    private static String load() {
        try (InputStream in = SiphonVersion.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("io/siphon/api/" + RESOURCE + " is missing from siphon-api");
            }
            Properties properties = new Properties();
            properties.load(in);
            String version = properties.getProperty("version", "");
            if (version.isEmpty() || version.startsWith("${")) {
                throw new IllegalStateException("io/siphon/api/" + RESOURCE + " was not filtered by the build");
            }
            return version;
        } catch (IOException e) {
            throw new UncheckedIOException("reading io/siphon/api/" + RESOURCE, e);
        }
    }
}
