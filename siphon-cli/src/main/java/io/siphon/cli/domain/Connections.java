package io.siphon.cli.domain;

import io.siphon.api.Connection;
import io.siphon.api.Siphon;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Which driver a domain command talks to, as virsh chooses: {@code siphon -c URI COMMAND}, else {@code
 * $SIPHON_DEFAULT_URI}, else the per-user session daemon. Stateless.
 */
public final class Connections {
    /** The per-user daemon, started on first use. */
    public static final String SESSION_URI = "siphon:///session";

    public static final String DEFAULT_URI_VARIABLE = "SIPHON_DEFAULT_URI";

    private Connections() {}

    /** The URI {@code spec}'s command line asks for, reading {@code environment} when it names none. */
    public static String uri(CommandSpec spec, Map<String, String> environment) {
        for (String name : new String[] {"--connect", "-c"}) {
            OptionSpec connect = spec.root().findOption(name);
            if (connect != null && connect.getValue() != null) {
                return connect.getValue();
            }
        }
        String fromEnvironment = environment.get(DEFAULT_URI_VARIABLE);
        return fromEnvironment == null || fromEnvironment.isBlank() ? SESSION_URI : fromEnvironment;
    }

    /** Opens the connection {@code spec}'s command line asks for. */
    public static Connection open(CommandSpec spec) {
        return Siphon.connect(uri(spec, System.getenv()));
    }

    /** Whether {@code uri} runs the engine inside this process, so that what it starts ends with it. */
    public static boolean inProcess(String uri) {
        return uri.startsWith("embedded:");
    }
}
