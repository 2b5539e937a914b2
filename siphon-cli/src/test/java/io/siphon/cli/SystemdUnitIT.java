package io.siphon.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.testing.NotifyReceiver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped systemd unit, run the way systemd runs it, without systemd: its ExecStart with the
 * directory variables systemd sets for StateDirectory=, RuntimeDirectory=, ConfigurationDirectory=
 * and CacheDirectory= (temporary directories of the modes the unit names), its Environment= and
 * UMask=, the example configuration installed where the unit reads it, and NOTIFY_SOCKET bound as
 * systemd binds it (Type=notify). The installed program, /opt/siphon/bin/siphon, is the
 * repository's launcher. Then: READY=1 arrives, the sockets and the log have their modes, a client
 * defines, starts, pulls, destroys and undefines a domain, the log records it, and SIGTERM stops the
 * daemon with STOPPING=1 and an exit status the unit counts as success.
 */
@Tag("interop")
@Timeout(300)
class SystemdUnitIT {
    private static final Path UNIT =
            CompletionScriptTest.REPOSITORY.resolve("dist").resolve("siphon.service");
    private static final String INSTALLED = "/opt/siphon/bin/siphon";
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Z_]+)\\}");

    @TempDir
    Path dir;

    /** The [Service] section: each key's values, in order (Environment= may repeat). */
    static Map<String, List<String>> service(Path unit) throws IOException {
        Map<String, List<String>> keys = new HashMap<>();
        String section = "";
        for (String line : Files.readAllLines(unit)) {
            String text = line.strip();
            if (text.isEmpty() || text.startsWith("#") || text.startsWith(";")) {
                continue;
            }
            if (text.startsWith("[")) {
                section = text;
            } else if (section.equals("[Service]")) {
                int equals = text.indexOf('=');
                keys.computeIfAbsent(text.substring(0, equals), k -> new ArrayList<>())
                        .add(text.substring(equals + 1));
            }
        }
        return keys;
    }

    private static String one(Map<String, List<String>> service, String key) {
        List<String> values = service.get(key);
        assertNotNull(values, UNIT + " has no " + key + "=");
        assertEquals(1, values.size(), key + "= " + values);
        return values.getFirst();
    }

    /** systemd's directory of {@code kind} (StateDirectory ...) as a temporary one, of the unit's mode. */
    private Path directory(Map<String, List<String>> service, String kind) throws IOException {
        Path path = dir.resolve(kind.toLowerCase()).resolve(one(service, kind + "Directory"));
        Files.createDirectories(path);
        String mode = one(service, kind + "DirectoryMode");
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions(mode)));
        return path;
    }

    private static String permissions(String octal) {
        int mode = Integer.parseInt(octal, 8);
        StringBuilder text = new StringBuilder();
        for (int shift = 6; shift >= 0; shift -= 3) {
            int bits = mode >> shift;
            text.append((bits & 4) != 0 ? 'r' : '-')
                    .append((bits & 2) != 0 ? 'w' : '-')
                    .append((bits & 1) != 0 ? 'x' : '-');
        }
        return text.toString();
    }

    private static String mode(Path path) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }

    @Test
    void daemonRunsAsTheUnitStartsIt() throws Exception {
        Map<String, List<String>> service = service(UNIT);
        assertEquals("notify", one(service, "Type"));
        assertTrue(one(service, "SuccessExitStatus").contains("143"), "a JVM stopped by SIGTERM exits 143");
        Map<String, String> environment = new HashMap<>();
        environment.put("STATE_DIRECTORY", directory(service, "State").toString());
        environment.put("RUNTIME_DIRECTORY", directory(service, "Runtime").toString());
        environment.put(
                "CONFIGURATION_DIRECTORY", directory(service, "Configuration").toString());
        environment.put("CACHE_DIRECTORY", directory(service, "Cache").toString());
        for (String assignment : service.getOrDefault("Environment", List.of())) {
            int equals = assignment.indexOf('=');
            environment.put(assignment.substring(0, equals), assignment.substring(equals + 1));
        }
        Path config = Path.of(environment.get("CONFIGURATION_DIRECTORY"), "daemon.conf");
        Files.copy(CompletionScriptTest.REPOSITORY.resolve("dist").resolve("daemon.conf"), config);

        List<String> command =
                new ArrayList<>(List.of("sh", "-c", "umask " + one(service, "UMask") + "; exec \"$@\"", "sh"));
        for (String word : one(service, "ExecStart").split(" +")) {
            Matcher variable = VARIABLE.matcher(word);
            command.add(variable.replaceAll(m -> Matcher.quoteReplacement(environment.get(m.group(1)))));
        }
        assertEquals(INSTALLED, command.get(4));
        command.set(4, CompletionScriptTest.REPOSITORY.resolve("siphon").toString());

        Path state = Path.of(environment.get("STATE_DIRECTORY"));
        Path runtime = Path.of(environment.get("RUNTIME_DIRECTORY"));
        Path notify = dir.resolve("notify");
        try (NotifyReceiver systemd = NotifyReceiver.bind(notify.toString())) {
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectOutput(dir.resolve("stdout").toFile())
                    .redirectError(dir.resolve("stderr").toFile());
            builder.environment().putAll(environment);
            builder.environment().put("NOTIFY_SOCKET", notify.toString());
            Process daemon = builder.start();
            try {
                String ready = systemd.nextWith("READY=1");
                assertNotNull(ready, "no READY=1; stderr: " + Files.readString(dir.resolve("stderr")));
                assertTrue(ready.contains("MAINPID=" + daemon.pid()), ready + " (the launcher execs java)");

                assertEquals("rw-------", mode(runtime.resolve("siphon.sock")));
                assertEquals("rw-rw-rw-", mode(runtime.resolve("siphon-ro.sock")));
                assertEquals("rwx------", mode(state));
                Path log = state.resolve("log").resolve("siphon-daemon.log");
                assertEquals("rw-------", mode(log));

                useDomain(
                        "siphon+unix://" + runtime.resolve("siphon.sock"),
                        "siphon+unix://" + runtime.resolve("siphon-ro.sock"));

                daemon.destroy(); // SIGTERM, as systemctl stop
                assertNotNull(systemd.nextWith("STOPPING=1"));
                assertTrue(daemon.waitFor(90, TimeUnit.SECONDS));
                assertEquals(143, daemon.exitValue());
                String text = Files.readString(log);
                for (String event : List.of(
                        "domain d defined",
                        "domain d started",
                        "domain d disk vda: block pull started",
                        "domain d disk vda: block pull ended COMPLETED",
                        "domain d destroyed",
                        "domain d undefined",
                        "DaemonMain: stopped")) {
                    assertTrue(text.contains(event), event + " not in the log:\n" + text);
                }
                assertTrue(
                        text.lines()
                                .allMatch(line -> line.matches("\\d{4}-\\d\\d-\\d\\dT.*")
                                        || line.startsWith("\t")
                                        || line.matches("[a-zA-Z.]+(Exception|Error).*")),
                        text);
                assertEquals("", Files.readString(dir.resolve("stdout")));
            } finally {
                daemon.destroyForcibly();
            }
        }
    }

    private void useDomain(String uri, String readOnlyUri) throws IOException, InterruptedException {
        Cli.qemuImgOk(dir, "create", "-q", "-f", "qcow2", "base.qcow2", "8M");
        Cli.qemuIo(dir, "qcow2", "base.qcow2", "write -P 0x5a 0 1M");
        Cli.qemuImgOk(dir, "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "top.qcow2");
        Path xml = dir.resolve("d.xml");
        Files.writeString(xml, """
                <domain><name>d</name><devices><disk type='file' device='disk'>
                <driver name='qemu' type='qcow2'/><source file='%s'/><target dev='vda'/>
                </disk></devices></domain>
                """.formatted(dir.resolve("top.qcow2")));
        ok(Cli.siphon("-c", uri, "define", xml.toString()));
        ok(Cli.siphon("-c", uri, "start", "d"));
        Cli.Result list = Cli.siphon("-c", readOnlyUri, "list");
        ok(list);
        assertTrue(list.out().contains(" d "), list.out());
        Cli.Result refused = Cli.siphon("-c", readOnlyUri, "destroy", "d");
        assertEquals(1, refused.status(), refused.toString());
        ok(Cli.siphon("-c", uri, "blockpull", "d", "vda", "--wait"));
        ok(Cli.siphon("-c", uri, "destroy", "d"));
        ok(Cli.siphon("-c", uri, "undefine", "d"));
    }

    private static void ok(Cli.Result result) {
        assertEquals(0, result.status(), result.toString());
    }

    /** systemd's own check of the unit, where systemd-analyze is installed; the program path made real. */
    @Test
    void systemdAnalyzeVerifiesTheUnit() throws Exception {
        Cli.Result which = Cli.run(dir, "sh", "-c", "command -v systemd-analyze || true");
        org.junit.jupiter.api.Assumptions.assumeFalse(which.out().isBlank(), "systemd-analyze is not installed");
        String unit = Files.readString(UNIT)
                .replace(
                        INSTALLED,
                        CompletionScriptTest.REPOSITORY.resolve("siphon").toString())
                // the service's user is made at install time (README); the check must not depend on it
                .replaceAll("(?m)^(User|Group)=.*\n", "");
        Path copy = dir.resolve("siphon.service");
        Files.writeString(copy, unit);
        Cli.Result verify = Cli.run(dir, "systemd-analyze", "verify", "--man=no", copy.toString());
        assertEquals(0, verify.status(), verify.toString());
        assertEquals("", verify.err().strip(), verify.err());
    }
}
