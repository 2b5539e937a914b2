package io.siphon.cli.domain;

import com.fasterxml.jackson.databind.JsonNode;
import io.siphon.cli.CliException;
import io.siphon.protocol.MessageCodec;
import io.siphon.protocol.Result;
import java.io.PrintWriter;
import picocli.CommandLine.Option;

/**
 * {@code --output=human|json} of the domain and job commands: json prints one line of JSON, the
 * shape of the control protocol's result for the same query (docs/cli.md), for scripts.
 */
final class OutputOption {
    @Option(
            names = "--output",
            paramLabel = "FORMAT",
            description = "human (virsh's layout, the default) or json (one line, the protocol's result shape).")
    String format = "human";

    /** Whether JSON was asked for; a format other than human or json is refused. */
    boolean json() throws CliException {
        return switch (format) {
            case "human" -> false;
            case "json" -> true;
            default -> throw new CliException("unknown output format '" + format + "' (known: human, json)");
        };
    }

    /** Prints {@code node} as one line. */
    static void print(PrintWriter out, JsonNode node) {
        out.println(node.toString());
    }

    /** Prints {@code result} as the protocol carries it, on one line. */
    static void print(PrintWriter out, Result result) {
        print(out, MessageCodec.tree(result));
    }
}
