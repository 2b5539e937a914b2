package io.siphon.qemu;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The version a QEMU program prints for {@code --version} ("qemu-storage-daemon version 7.2.22 (...)"). */
final class QemuVersion {
    private static final Pattern VERSION = Pattern.compile("version (\\d+\\.\\d+(?:\\.\\d+)?)");
    private static final long TIMEOUT_SECONDS = 10;

    private QemuVersion() {}

    /** Runs {@code binary --version} and returns the version number it prints, e.g. {@code 7.2.22}. */
    static String of(String binary) {
        try {
            Process process = new ProcessBuilder(binary, "--version")
                    .redirectErrorStream(true)
                    .start();
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw failure(binary, "did not exit within " + TIMEOUT_SECONDS + " s");
            }
            Matcher version = VERSION.matcher(output);
            if (process.exitValue() != 0 || !version.find()) {
                throw failure(binary, "exit status " + process.exitValue() + ", printed '" + output.strip() + "'");
            }
            return version.group(1);
        } catch (IOException e) {
            throw failure(binary, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failure(binary, "interrupted");
        }
    }

    private static SiphonException failure(String binary, String reason) {
        return new SiphonException(ErrorCode.OPERATION_FAILED, binary + " --version: " + reason);
    }
}
