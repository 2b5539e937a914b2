package io.siphon.cli.domain;

import picocli.CommandLine.Parameters;

/** The {@code DOMAIN DISK} arguments that open the block-job commands, as in virsh. */
final class DomainDiskArguments {
    @Parameters(index = "0", paramLabel = "DOMAIN", description = "Domain name or UUID.")
    String domain;

    @Parameters(index = "1", paramLabel = "DISK", description = "The disk: its target (vda) or source path.")
    String disk;
}
