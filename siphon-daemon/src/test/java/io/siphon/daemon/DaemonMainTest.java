package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.TypeConversionException;

/** The daemon's command line: its own process, as the session daemon is started, and its options. */
class DaemonMainTest {
    private static final List<String> OPTIONS = List.of(
            "-h",
            "--help",
            "--state-dir",
            "--socket",
            "--ro-socket",
            "--tls-listen",
            "--tls-cert",
            "--tls-key",
            "--tls-ca");

    /** What a finished process printed. */
    private record Ran(int status, String output) {}

    /** Runs {@code DaemonMain} in a JVM of its own with {@code args}; its exit status and output. */
    private static Ran run(String... args) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(
                List.of(java.toString(), "-cp", System.getProperty("java.class.path"), DaemonMain.class.getName()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "DaemonMain did not exit");
        return new Ran(process.exitValue(), output);
    }

    @Test
    void theStandaloneDaemonShowsEveryOptionInHelp() throws Exception {
        Ran help = run("--help");
        assertEquals(0, help.status(), help.output());
        for (String option : OPTIONS) {
            assertTrue(help.output().contains(option), option + " missing from\n" + help.output());
        }
    }

    @Test
    void aPartialTlsListenerIsAUsageErrorNotAnExit() {
        CommandLine command = new CommandLine(new DaemonMain());
        CommandLine.ParameterException e = assertThrows(
                CommandLine.ParameterException.class,
                () -> command.parseArgs("--state-dir", "x", "--tls-listen", "127.0.0.1:0"));
        assertTrue(e.getMessage().contains("--tls-cert"), e.getMessage());
        assertEquals(1, command.getCommandSpec().exitCodeOnInvalidInput());
    }

    @Test
    void hostPortTakesTheLastColonAndBracketedIpv6() {
        DaemonMain.HostPort hostPort = new DaemonMain.HostPort();
        assertEquals(new InetSocketAddress("127.0.0.1", 16514), hostPort.convert("127.0.0.1:16514"));
        assertEquals(new InetSocketAddress("::1", 0), hostPort.convert("[::1]:0"));
        for (String bad : List.of("16514", ":16514", "localhost:x", "localhost:70000")) {
            assertThrows(TypeConversionException.class, () -> hostPort.convert(bad), bad);
        }
    }
}
