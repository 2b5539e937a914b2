package io.siphon.cli.image;

import picocli.CommandLine.Option;

/** The {@code --output=human|json} option of the commands that print reports. */
final class OutputOption {
    enum Format {
        HUMAN,
        JSON
    }

    @Option(
            names = "--output",
            paramLabel = "human|json",
            description = "Output format: human (default) or json, with qemu-img's field names.")
    Format format = Format.HUMAN;

    boolean json() {
        return format == Format.JSON;
    }
}
