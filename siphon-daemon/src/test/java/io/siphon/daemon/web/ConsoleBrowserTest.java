package io.siphon.daemon.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.api.BlockJobInfo;
import io.siphon.api.BlockJobState;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.Domain;
import io.siphon.api.PullFlag;
import io.siphon.api.SpeedFlag;
import io.siphon.job.JobStatus;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console in a real browser: headless Debian Chromium driven by Playwright from a Node script
 * (src/test/node/console-browser-test.cjs), step by step with this test, which starts the pull
 * through the control protocol and checks the daemon after each thing done on the page. The
 * screenshot taken during the pull goes to {@code target/console.png}, or where the system
 * property {@code siphon.console.screenshot} says (docs/console.png is made that way, with the
 * images in the directory {@code siphon.console.images} names instead of a temporary one).
 */
@Tag("interop")
class ConsoleBrowserTest {
    private static final int TEMPLATE_MIB = 32;
    private static final long SPEED = 2L * ConsoleFixture.MIB;

    @TempDir
    Path dir;

    @Test
    void thePageFollowsAPullLiveAndOnlyTheTokenHolderPausesAndResumesIt() throws Exception {
        Path chromium = BrowserTools.chromium();
        String node = BrowserTools.node();
        Path playwright = BrowserTools.playwrightCore();
        Path script = Path.of("src/test/node/console-browser-test.cjs").toAbsolutePath();
        Path screenshot = Path.of(System.getProperty("siphon.console.screenshot", "target/console.png"))
                .toAbsolutePath();
        Files.deleteIfExists(screenshot);
        // the images may live elsewhere, so that the screenshot for the docs shows a plausible place
        Path images = Optional.ofNullable(System.getProperty("siphon.console.images"))
                .map(Path::of)
                .orElse(dir);
        Files.createDirectories(images);
        try (ConsoleFixture fixture = new ConsoleFixture(images, TEMPLATE_MIB)) {
            // a second domain, shut off, so the page shows both states
            Path spare = images.resolve("spare.qcow2");
            io.siphon.testing.QemuTools.createQcow2(spare, "1G");
            fixture.connection.define("<domain><name>spare</name><devices><disk type='file' device='disk'>"
                    + "<driver name='qemu' type='qcow2'/><source file='" + spare + "'/><target dev='vda'/>"
                    + "</disk></devices></domain>");
            Domain domain = fixture.connection.lookup("web");
            ProcessBuilder builder = new ProcessBuilder(node, script.toString());
            builder.environment().put("PLAYWRIGHT_CORE", playwright.toString());
            builder.environment().put("CHROMIUM", chromium.toString());
            builder.environment().put("CONSOLE_URL", fixture.base() + "/");
            builder.environment().put("CONSOLE_TOKEN", fixture.console.token());
            builder.environment().put("CONSOLE_SCREENSHOT", screenshot.toString());
            Process browser = builder.start();
            CompletableFuture<String> errors = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(browser.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return e.toString();
                }
            });
            BlockingQueue<String> steps = new LinkedBlockingQueue<>();
            Thread.ofVirtual().start(() -> {
                try (BufferedReader out =
                        new BufferedReader(new InputStreamReader(browser.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = out.readLine()) != null; ) {
                        steps.add(line);
                    }
                } catch (IOException e) {
                    steps.add("READ FAILED " + e);
                }
                steps.add("EXIT");
            });
            OutputStream answers = browser.getOutputStream();
            try {
                Step at = new Step(steps, browser, errors);

                at.await("page-loaded");
                domain.blockPull("vda", SPEED, Set.of(PullFlag.BANDWIDTH_BYTES));
                at.go(answers);

                at.await("paused");
                assertEquals(
                        BlockJobState.PAUSED,
                        domain.blockJobInfo("vda").orElseThrow().state());
                var job = fixture.daemon
                        .view()
                        .runningDisk("web", "vda")
                        .orElseThrow()
                        .job()
                        .orElseThrow();
                assertTrue(job.awaitStatus(JobStatus.PAUSED, Duration.ofSeconds(30)), "the engine did not pause");
                at.go(answers);

                at.await("visitor-refused");
                BlockJobInfo info = domain.blockJobInfo("vda").orElseThrow();
                assertEquals(BlockJobState.PAUSED, info.state());
                assertEquals(SPEED, info.bandwidthBytesPerSecond());
                assertTrue(fixture.jobEvents.isEmpty(), "the job ended: " + fixture.jobEvents);
                at.go(answers);

                at.await("resumed");
                assertEquals(
                        BlockJobState.RUNNING,
                        domain.blockJobInfo("vda").orElseThrow().state());
                domain.blockJobSetSpeed("vda", 0, Set.of(SpeedFlag.BANDWIDTH_BYTES));
                assertEquals(BlockJobStatus.COMPLETED, fixture.awaitJobEvent().status());
                at.go(answers);

                at.await("done");
                at.go(answers);
                answers.close();
                assertTrue(browser.waitFor(60, TimeUnit.SECONDS), "the browser script did not exit");
                assertEquals(0, browser.exitValue(), errors.get());
                assertTrue(Files.size(screenshot) > 10_000, "no screenshot at " + screenshot);
                assertEquals(Optional.empty(), domain.blockJobInfo("vda"));
            } finally {
                browser.destroyForcibly();
            }
        }
    }

    /** The script's steps as it prints them; anything else (its exit, an error) fails the test. */
    private record Step(BlockingQueue<String> lines, Process browser, CompletableFuture<String> errors) {
        void await(String name) throws Exception {
            String line = lines.poll(120, TimeUnit.SECONDS);
            if (!("STEP " + name).equals(line)) {
                browser.destroyForcibly();
                throw new AssertionError("waiting for step " + name + " the browser script said " + line
                        + (List.of("EXIT").contains(line) || line == null
                                ? "\n" + errors.get(30, TimeUnit.SECONDS)
                                : ""));
            }
        }

        void go(OutputStream answers) throws IOException {
            answers.write("GO\n".getBytes(StandardCharsets.UTF_8));
            answers.flush();
        }
    }
}
