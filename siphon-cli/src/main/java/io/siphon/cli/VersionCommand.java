package io.siphon.cli;

import io.siphon.api.Connection;
import io.siphon.api.SiphonVersion;
import io.siphon.api.VersionInfo;
import io.siphon.cli.domain.Connections;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code siphon version}, as virsh version: this library's version, then the driver and hypervisor
 * of the connection (a daemon's, for a remote one). The library lines print before connecting, so
 * that they show even when no daemon answers.
 */
@Command(
        name = "version",
        description = "Print the library's version and the connected driver's and hypervisor's.",
        exitCodeOnInvalidInput = 1)
public final class VersionCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        // the CLI and the library come from one build, so both lines carry the project's version
        out.println("Compiled against library: siphon " + SiphonVersion.current());
        out.println("Using library: siphon " + SiphonVersion.current());
        out.flush();
        try (Connection connection = Connections.open(spec)) {
            VersionInfo version = connection.version();
            out.println("Using API: " + version.driver() + " " + version.driverVersion());
            out.println("Running hypervisor: " + version.hypervisor() + " " + version.hypervisorVersion());
        }
        out.println();
        return 0;
    }

    /** {@code siphon --version}: the version alone, as {@code virsh --version}. */
    static final class Provider implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {SiphonVersion.current()};
        }
    }
}
