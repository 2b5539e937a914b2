package io.siphon.qemu;

import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * {@code qemu-img check} of the images a pull will read. QEMU reads a data cluster that damaged
 * metadata places past the end of the file as zeroes, and block-stream would copy those zeroes into
 * the clone; checking first turns that into a failed pull that names the image.
 */
final class ImageChecks {
    /** qemu-img check's exit status for an image with corruptions (1: check failed; 3: leaks only). */
    private static final int CORRUPT = 2;

    private ImageChecks() {}

    /** The first of {@code images} with a corruption, and what it is; raw images have nothing to check. */
    static Optional<String> firstCorruption(String qemuImg, List<ChainNode> images) {
        for (ChainNode node : images) {
            if (!node.format().equals("raw")) {
                Optional<String> corruption = corruption(qemuImg, node.path(), node.format());
                if (corruption.isPresent()) {
                    return Optional.of(node.path() + " is corrupt: " + corruption.get());
                }
            }
        }
        return Optional.empty();
    }

    /** What is wrong with {@code image}, or empty when qemu-img finds no corruption (leaks are harmless). */
    static Optional<String> corruption(String qemuImg, Path image, String format) {
        List<String> command =
                List.of(QemuProcess.findOnPath(qemuImg).toString(), "check", "-U", "-f", format, image.toString());
        try {
            Process process =
                    new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int exit = process.waitFor();
            if (exit != CORRUPT && exit != 1) {
                return Optional.empty();
            }
            String first = output.lines()
                    .filter(l -> l.startsWith("ERROR") || l.startsWith("qemu-img:"))
                    .findFirst()
                    .orElse("qemu-img check exited " + exit);
            return Optional.of(first.replaceFirst("^qemu-img: ", ""));
        } catch (IOException e) {
            throw new SiphonException(ErrorCode.OPERATION_FAILED, "cannot run " + qemuImg + " check: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SiphonException(ErrorCode.OPERATION_FAILED, "interrupted checking " + image);
        }
    }
}
