package io.siphon.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.siphon.api.BlockInfo;
import io.siphon.api.ErrorCode;
import io.siphon.api.SiphonException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads a disk's backing chain with {@code qemu-img info --backing-chain --output=json}, so that
 * every image can be opened as its own {@code blockdev-add} node, as libvirt does; and a shut-off
 * disk's sizes with {@code qemu-img info}.
 */
final class BackingChains {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One image of a chain: its file and format. */
    record Image(Path path, String format) {}

    private BackingChains() {}

    /**
     * The chain of {@code top}, top first; {@code format} empty lets qemu-img probe the top. A chain
     * qemu-img cannot open is {@link ErrorCode#OPERATION_FAILED} with qemu-img's reason.
     */
    static List<Image> read(String qemuImg, Path top, Optional<String> format) {
        JsonNode images = info(qemuImg, top, format, true);
        List<Image> chain = new ArrayList<>();
        Path path = top.toAbsolutePath().normalize();
        for (JsonNode image : images) {
            chain.add(new Image(path, image.path("format").asText()));
            // where QEMU resolved the link to, relative to this image's directory when the link is
            String backing = image.path("full-backing-filename").asText("");
            path = path.getParent().resolve(backing).normalize();
        }
        if (chain.isEmpty()) {
            throw unexpected(qemuImg, top, "no image in the output");
        }
        return List.copyOf(chain);
    }

    /** The sizes of the image {@code top}, opened shared as {@code qemu-img info -U} does. */
    static BlockInfo sizes(String qemuImg, Path top, Optional<String> format) {
        JsonNode image = info(qemuImg, top, format, false);
        if (!image.path("virtual-size").canConvertToLong()
                || !image.path("actual-size").canConvertToLong()) {
            throw unexpected(qemuImg, top, "no virtual-size or actual-size");
        }
        try {
            return new BlockInfo(
                    image.path("virtual-size").asLong(),
                    image.path("actual-size").asLong(),
                    Files.size(top));
        } catch (IOException e) {
            throw new SiphonException(ErrorCode.OPERATION_FAILED, "cannot read the size of " + top + ": " + e, e);
        }
    }

    /** {@code qemu-img info --output=json -U} of {@code top}, with {@code --backing-chain} when {@code chain}. */
    private static JsonNode info(String qemuImg, Path top, Optional<String> format, boolean chain) {
        List<String> command =
                new ArrayList<>(List.of(QemuProcess.findOnPath(qemuImg).toString(), "info", "--output=json", "-U"));
        if (chain) {
            command.add("--backing-chain");
        }
        format.ifPresent(f -> command.addAll(List.of("-f", f)));
        command.add(top.toString());
        String output;
        String errors;
        int exit;
        try {
            Process process = new ProcessBuilder(command).start();
            process.getOutputStream().close();
            // the chain's JSON is small; reading stdout then stderr cannot fill either pipe first
            output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            errors = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            exit = process.waitFor();
        } catch (IOException e) {
            throw new SiphonException(ErrorCode.OPERATION_FAILED, "cannot run " + qemuImg + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SiphonException(ErrorCode.OPERATION_FAILED, "interrupted reading the chain of " + top);
        }
        if (exit != 0) {
            String reason = errors.strip().replaceFirst("^qemu-img: ", "");
            throw new SiphonException(
                    ErrorCode.OPERATION_FAILED, reason.isEmpty() ? qemuImg + " exited " + exit : reason);
        }
        try {
            return JSON.readTree(output);
        } catch (IOException e) {
            throw unexpected(qemuImg, top, e.toString());
        }
    }

    private static SiphonException unexpected(String qemuImg, Path top, String why) {
        return new SiphonException(
                ErrorCode.OPERATION_FAILED, "unexpected output of " + qemuImg + " info for " + top + ": " + why);
    }
}
