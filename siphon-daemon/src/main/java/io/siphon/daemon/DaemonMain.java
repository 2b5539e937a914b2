package io.siphon.daemon;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code siphon daemon --state-dir DIR [--socket PATH] [--ro-socket PATH]}: writes its pid to
 * {@code DIR/daemon.pid} and serves the control protocol until SIGTERM or SIGINT, then stops every domain cleanly (running pulls are recorded and
 * resume when their domain starts again).
 */
public final class DaemonMain {
    private static final Logger LOG = LoggerFactory.getLogger(DaemonMain.class);

    private DaemonMain() {}

    public static void main(String[] args) throws IOException, InterruptedException {
        Optional<Path> stateDir = Optional.empty();
        Optional<Path> socket = Optional.empty();
        Optional<Path> roSocket = Optional.empty();
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            if (i + 1 >= args.length) {
                usage("option " + option + " needs a value");
            }
            Path value = Path.of(args[++i]);
            switch (option) {
                case "--state-dir" -> stateDir = Optional.of(value);
                case "--socket" -> socket = Optional.of(value);
                case "--ro-socket" -> roSocket = Optional.of(value);
                default -> usage("unknown option " + option);
            }
        }
        if (stateDir.isEmpty()) {
            usage("--state-dir is required");
        }
        Daemon daemon = Daemon.start(stateDir.get(), socket, roSocket);
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
        LOG.error("{}; usage: siphon daemon --state-dir DIR [--socket PATH] [--ro-socket PATH]", problem);
        System.exit(2);
    }
}
