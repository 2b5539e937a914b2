package io.siphon.cli.image;

import java.util.Optional;
import picocli.CommandLine.Option;

/** The {@code -f FMT} option: an image's format, probed by its magic when not given. */
final class ImageFormatOption {
    @Option(
            names = "-f",
            paramLabel = "FMT",
            description = "Image format (qcow2, qed, raw); probed when not given, raw must be named.")
    Optional<String> format = Optional.empty();
}
