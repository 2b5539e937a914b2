package io.siphon.cli.domain;

import java.util.Optional;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The {@code DOMAIN [DISK] [--human]} that {@code domblkinfo} and {@code domblkstat} take, as in virsh. */
final class DiskQueryArguments {
    @Parameters(index = "0", paramLabel = "DOMAIN", description = "Domain name or UUID.")
    String domain;

    @Parameters(
            index = "1",
            arity = "0..1",
            paramLabel = "DISK",
            description = "The disk: its target (vda) or source path.")
    Optional<String> disk = Optional.empty();

    @Option(names = "--human", description = "Human-readable output, as virsh's --human.")
    boolean human;
}
