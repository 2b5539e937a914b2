package io.siphon.cli.image;

import picocli.CommandLine.Command;

/** {@code siphon image}: offline image commands, shaped like qemu-img's. */
@Command(
        name = "image",
        description = "Create, amend, inspect, check, map, compare, convert, commit, rebase, resize, snapshot, pull and"
                + " serve image files (as"
                + " qemu-img,"
                + " qemu-nbd).",
        subcommands = {
            CreateCommand.class,
            AmendCommand.class,
            InfoCommand.class,
            CheckCommand.class,
            MapCommand.class,
            MeasureCommand.class,
            CompareCommand.class,
            ConvertCommand.class,
            CommitCommand.class,
            RebaseCommand.class,
            ResizeCommand.class,
            PullCommand.class,
            SnapshotCommand.class,
            ServeCommand.class
        },
        exitCodeOnInvalidInput = 1,
        synopsisSubcommandLabel = "COMMAND")
public final class ImageCommand {}
