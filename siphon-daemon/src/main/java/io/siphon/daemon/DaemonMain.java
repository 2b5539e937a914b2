package io.siphon.daemon;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code siphon daemon --state-dir DIR [--driver embedded|qemu] [--socket PATH] [--ro-socket PATH] [--tls-listen HOST:PORT
 * --tls-cert FILE --tls-key FILE --tls-ca FILE]}: writes its pid to
 * {@code DIR/daemon.pid} and serves the control protocol until SIGTERM or SIGINT, then stops every domain cleanly (running pulls are recorded and
 * resume when their domain starts again).
 */
public final class DaemonMain {
    private static final Logger LOG = LoggerFactory.getLogger(DaemonMain.class);

    private DaemonMain() {}

    public static void main(String[] args) throws IOException, InterruptedException {
        Optional<Path> stateDir = Optional.empty();
        String driver = Daemon.DEFAULT_DRIVER;
        Optional<Path> socket = Optional.empty();
        Optional<Path> roSocket = Optional.empty();
        Optional<String> tlsListen = Optional.empty();
        Optional<Path> tlsCert = Optional.empty();
        Optional<Path> tlsKey = Optional.empty();
        Optional<Path> tlsCa = Optional.empty();
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            if (i + 1 >= args.length) {
                usage("option " + option + " needs a value");
            }
            String value = args[++i];
            switch (option) {
                case "--state-dir" -> stateDir = Optional.of(Path.of(value));
                case "--driver" -> driver = value;
                case "--socket" -> socket = Optional.of(Path.of(value));
                case "--ro-socket" -> roSocket = Optional.of(Path.of(value));
                case "--tls-listen" -> tlsListen = Optional.of(value);
                case "--tls-cert" -> tlsCert = Optional.of(Path.of(value));
                case "--tls-key" -> tlsKey = Optional.of(Path.of(value));
                case "--tls-ca" -> tlsCa = Optional.of(Path.of(value));
                default -> usage("unknown option " + option);
            }
        }
        if (stateDir.isEmpty()) {
            usage("--state-dir is required");
        }
        Optional<Daemon.TlsListen> tls = Optional.empty();
        if (tlsListen.isPresent()) {
            if (tlsCert.isEmpty() || tlsKey.isEmpty() || tlsCa.isEmpty()) {
                usage("--tls-listen needs --tls-cert, --tls-key and --tls-ca");
            }
            String hostPort = tlsListen.get();
            int colon = hostPort.lastIndexOf(':');
            if (colon < 0) {
                usage("--tls-listen takes HOST:PORT, not '" + hostPort + "'");
            }
            int port = -1;
            try {
                port = Integer.parseInt(hostPort.substring(colon + 1));
            } catch (NumberFormatException e) {
                usage("--tls-listen port '" + hostPort.substring(colon + 1) + "' is not a number");
            }
            tls = Optional.of(new Daemon.TlsListen(
                    new InetSocketAddress(hostPort.substring(0, colon), port),
                    tlsCert.get(),
                    tlsKey.get(),
                    tlsCa.get()));
        }
        Daemon daemon = Daemon.start(stateDir.get(), driver, socket, roSocket, tls);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("stopping");
            try {
                daemon.close();
            } catch (IOException e) {
                LOG.warn("stopping: {}", e.toString());
            }
            stopped.countDown();
        }));
        LOG.info("siphon daemon ready: {} (read-only {})", daemon.socket(), daemon.readOnlySocket());
        stopped.await();
    }

    private static void usage(String problem) {
        LOG.error(
                "{}; usage: siphon daemon --state-dir DIR [--driver embedded|qemu] [--socket PATH] [--ro-socket PATH]"
                        + " [--tls-listen HOST:PORT --tls-cert FILE --tls-key FILE --tls-ca FILE]",
                problem);
        System.exit(2);
    }
}
