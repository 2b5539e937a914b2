package io.siphon.cli;

import picocli.CommandLine.Command;

/** {@code siphon image}: offline image commands, shaped like qemu-img's. */
@Command(
        name = "image",
        description = "Create, inspect, check, map, compare, rebase and pull image files (as qemu-img).",
        subcommands = {
            CreateCommand.class,
            InfoCommand.class,
            CheckCommand.class,
            MapCommand.class,
            CompareCommand.class,
            RebaseCommand.class,
            PullCommand.class
        },
        exitCodeOnInvalidInput = 1,
        synopsisSubcommandLabel = "COMMAND")
final class ImageCommand {}
