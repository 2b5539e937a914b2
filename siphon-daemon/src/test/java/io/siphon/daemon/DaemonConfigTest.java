package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.daemon.service.ConfigFileException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** {@code siphon daemon --config FILE}: every option settable there, the command line winning, errors naming file, line and key. */
class DaemonConfigTest {
    @TempDir
    Path dir;

    private DaemonMain parse(String... args) {
        DaemonMain command = new DaemonMain();
        new CommandLine(command).parseArgs(args);
        return command.effective();
    }

    private Path config(String text) throws IOException {
        Path file = dir.resolve("daemon.conf");
        Files.writeString(file, text);
        return file;
    }

    @Test
    void fileSetsOptionsAndTheCommandLineOverridesThem() throws IOException {
        Path file = config("""
                # the daemon of this host
                state-dir = /var/lib/siphon
                driver = qemu
                log-level = debug
                nbd-buffer-memory = 64

                http = "127.0.0.1:8080"
                tls-listen = 127.0.0.1:16514
                tls-cert = /etc/siphon/cert.pem
                tls-key = /etc/siphon/key.pem
                tls-ca = /etc/siphon/ca.pem
                """);
        DaemonMain daemon = parse("--config", file.toString(), "--driver", "embedded", "--state-dir", "/srv/s");
        assertEquals(Path.of("/srv/s"), daemon.stateDir);
        assertEquals("embedded", daemon.driver);
        assertEquals("debug", daemon.logLevel);
        assertEquals(64, daemon.nbdBufferMemoryMib);
        assertEquals(new InetSocketAddress("127.0.0.1", 8080), daemon.web.address);
        assertEquals(16514, daemon.tls.address.getPort());
        assertEquals(Path.of("/etc/siphon/ca.pem"), daemon.tls.ca);
    }

    /** A flag is {@code true} or {@code false} in the file; given on the command line it wins, though it has no value. */
    @Test
    void flagsInTheFileAndOnTheCommandLine() throws IOException {
        Path on = config("state-dir = /s\nallow-remote-backing = true\n");
        assertTrue(parse("--config", on.toString()).remote.allowed);
        Path off = config("state-dir = /s\nallow-remote-backing = false\n");
        assertEquals(false, parse("--config", off.toString()).remote.allowed);
        assertTrue(parse("--config", off.toString(), "--allow-remote-backing").remote.allowed);
        ConfigFileException e = assertThrows(
                ConfigFileException.class,
                () -> parse("--config", config("allow-remote-backing = maybe\n").toString()));
        assertTrue(e.getMessage().contains(":1: key 'allow-remote-backing'"), e.getMessage());
    }

    /** Every long option of {@code --help} but --config and --help has a key of the same name. */
    @Test
    void everyOptionIsAKey() throws IOException {
        Set<String> options = new CommandLine(new DaemonMain())
                .getCommandSpec().options().stream()
                        .map(OptionSpec::longestName)
                        .filter(name -> !name.equals("--config"))
                        .collect(Collectors.toSet());
        StringBuilder text = new StringBuilder();
        for (String option : options) {
            text.append(option.substring(2))
                    .append(" = ")
                    .append(sample(option))
                    .append('\n');
        }
        DaemonMain daemon = parse("--config", config(text.toString()).toString());
        assertEquals(Path.of("/s"), daemon.stateDir);
        assertEquals(Optional.of(Path.of("/s/l.log")), daemon.logFile);
        assertEquals(Optional.of(Path.of("/s/ro.sock")), daemon.readOnlySocket);
        assertEquals(9, daemon.logMaxDays);
        assertTrue(daemon.remote.allowed);
        assertEquals(9, daemon.profileWindowSeconds);
    }

    private static String sample(String option) {
        return switch (option) {
            case "--state-dir" -> "/s";
            case "--log-file" -> "/s/l.log";
            case "--socket" -> "/s/rw.sock";
            case "--ro-socket" -> "/s/ro.sock";
            case "--driver" -> "embedded";
            case "--log-level" -> "warn";
            case "--log-max-size",
                    "--log-max-days",
                    "--nbd-buffer-memory",
                    "--remote-cache-size",
                    "--remote-timeout",
                    "--profile-window" -> "9";
            case "--allow-remote-backing" -> "true";
            case "--http", "--tls-listen" -> "127.0.0.1:0";
            case "--tls-cert", "--tls-key", "--tls-ca" -> "/s/pem";
            default -> throw new AssertionError("no sample value for " + option + ": add one, and document the key");
        };
    }

    @Test
    void unknownKeyNamesFileLineAndKey() throws IOException {
        Path file = config("state-dir = /s\n\nlog-levle = info\n");
        ConfigFileException e = assertThrows(ConfigFileException.class, () -> parse("--config", file.toString()));
        assertEquals(
                file + ":3: key 'log-levle': not an option of siphon daemon (see siphon daemon --help)",
                e.getMessage());
        assertEquals(3, e.line());
    }

    @Test
    void badValueNamesFileLineAndKey() throws IOException {
        Path file = config("state-dir = /s\nnbd-buffer-memory = lots\n");
        ConfigFileException e = assertThrows(ConfigFileException.class, () -> parse("--config", file.toString()));
        assertTrue(e.getMessage().startsWith(file + ":2: key 'nbd-buffer-memory': "), e.getMessage());
        assertTrue(e.getMessage().contains("'lots'"), e.getMessage());
    }

    @Test
    void badHostPortNamesTheLine() throws IOException {
        Path file = config("http = localhost\n");
        ConfigFileException e = assertThrows(ConfigFileException.class, () -> parse("--config", file.toString()));
        assertTrue(e.getMessage().startsWith(file + ":1: key 'http': "), e.getMessage());
        assertTrue(e.getMessage().contains("'localhost' is not HOST:PORT"), e.getMessage());
    }

    @Test
    void lineWithoutEqualsAndRepeatedKeysAreRefused() throws IOException {
        Path noEquals = config("state-dir /s\n");
        assertEquals(
                noEquals + ":1: expected 'key = value', found 'state-dir /s'",
                assertThrows(ConfigFileException.class, () -> parse("--config", noEquals.toString()))
                        .getMessage());
        Path twice = config("driver = qemu\ndriver = embedded\n");
        assertEquals(
                twice + ":2: key 'driver' is already set on line 1",
                assertThrows(ConfigFileException.class, () -> parse("--config", twice.toString()))
                        .getMessage());
    }

    @Test
    void missingFileIsNamed() {
        Path missing = dir.resolve("nothing.conf");
        assertEquals(
                missing + ": no such file",
                assertThrows(ConfigFileException.class, () -> parse("--config", missing.toString()))
                        .getMessage());
    }

    /** The shipped example parses: every key in it, commented out or not, is an option. */
    @Test
    void shippedExampleIsValidWithEveryKeyUncommented() throws IOException {
        Path example = Path.of("..", "dist", "daemon.conf");
        String uncommented = Files.readAllLines(example).stream()
                .map(line -> line.matches("#[a-z][a-z0-9-]* = .*") ? line.substring(1) : line)
                .collect(Collectors.joining("\n"));
        DaemonMain daemon = parse("--config", config(uncommented).toString());
        assertTrue(daemon.stateDir != null, "the example sets state-dir");
    }
}
