package io.siphon.cli.domain;

import io.siphon.api.Connection;
import io.siphon.api.Domain;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siphon define FILE}: defines (or redefines) a domain from libvirt domain XML. */
@Command(
        name = "define",
        description = "Define (or redefine) a domain from a libvirt domain XML file.",
        exitCodeOnInvalidInput = 1)
public final class DefineCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "libvirt domain XML.")
    Path file;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        String xml = Files.readString(file, StandardCharsets.UTF_8);
        try (Connection connection = Connections.open(spec)) {
            Domain domain = connection.define(xml);
            out.println("Domain '" + domain.name() + "' defined from " + file);
            out.println();
        }
        return 0;
    }
}
