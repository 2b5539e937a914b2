package io.siphon.daemon.web;

import io.siphon.testing.QemuTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What the browser test needs outside the JVM: Debian's Chromium and Node.js (scripts/env.sh
 * installs both), and {@code playwright-core}, installed here from npm when missing into a cache
 * directory outside the repository. Playwright's own browser download is never used.
 */
final class BrowserTools {
    static final String PLAYWRIGHT_VERSION = "1.65.1";

    private BrowserTools() {}

    /** The Chromium binary; fails naming the package when there is none. */
    static Path chromium() {
        for (String candidate : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return Path.of(candidate);
            }
        }
        throw new AssertionError("no Chromium: install Debian's 'chromium' (scripts/env.sh does, as root)");
    }

    /** The node binary; fails naming the package when there is none. */
    static String node() {
        if (!QemuTools.onPath("node")) {
            throw new AssertionError("no node: install Debian's 'nodejs' and 'npm' (scripts/env.sh does, as root)");
        }
        return "node";
    }

    /** The playwright-core package directory, installed with npm into the cache when missing. */
    static Path playwrightCore() throws IOException, InterruptedException {
        String cacheHome = System.getenv("XDG_CACHE_HOME");
        Path cache = (cacheHome != null && !cacheHome.isEmpty()
                        ? Path.of(cacheHome)
                        : Path.of(System.getProperty("user.home"), ".cache"))
                .resolve("siphon-playwright")
                .resolve(PLAYWRIGHT_VERSION);
        Path module = cache.resolve("node_modules").resolve("playwright-core");
        if (Files.isRegularFile(module.resolve("package.json"))) {
            return module;
        }
        if (!QemuTools.onPath("npm")) {
            throw new AssertionError("no npm to install playwright-core: install Debian's 'npm'");
        }
        Files.createDirectories(cache);
        QemuTools.Result result = QemuTools.run(
                cache,
                Duration.ofMinutes(5),
                List.of(
                        "npm",
                        "install",
                        "--no-save",
                        "--no-audit",
                        "--no-fund",
                        "--prefix",
                        cache.toString(),
                        "playwright-core@" + PLAYWRIGHT_VERSION));
        if (!Files.isRegularFile(module.resolve("package.json"))) {
            throw new AssertionError("npm did not install playwright-core " + PLAYWRIGHT_VERSION + ": " + result);
        }
        return module;
    }
}
