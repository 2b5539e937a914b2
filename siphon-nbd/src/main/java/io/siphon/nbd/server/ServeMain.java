package io.siphon.nbd.server;

import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.nbd.protocol.TlsCredentials;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import javax.net.ssl.SSLContext;

/**
 * Serves one image over NBD until SIGINT or SIGTERM, like qemu-nbd: {@code java … ServeMain
 * [--socket PATH | --port N [--bind HOST] [--tls-creds DIR]] [--read-only] [--name NAME] [-f FMT]
 * FILE}. Stand-in for {@code siphon image serve} until the CLI carries it.
 */
public final class ServeMain {
    private ServeMain() {}

    /** What the command line asked for. */
    record Options(
            Optional<Path> socket,
            int port,
            String bindHost,
            Optional<Path> tlsCreds,
            boolean readOnly,
            String name,
            Optional<String> format,
            Path file) {

        static Options parse(List<String> args) {
            Optional<Path> socket = Optional.empty();
            Optional<Path> tls = Optional.empty();
            Optional<String> format = Optional.empty();
            int port = -1;
            String bind = "127.0.0.1";
            String name = "";
            boolean readOnly = false;
            List<String> files = new ArrayList<>();
            for (int i = 0; i < args.size(); i++) {
                String arg = args.get(i);
                switch (arg) {
                    case "--socket", "-k" -> socket = Optional.of(Path.of(value(args, ++i, arg)));
                    case "--port", "-p" -> port = Integer.parseInt(value(args, ++i, arg));
                    case "--bind", "-b" -> bind = value(args, ++i, arg);
                    case "--tls-creds" -> tls = Optional.of(Path.of(value(args, ++i, arg)));
                    case "--read-only", "-r" -> readOnly = true;
                    case "--name", "-x" -> name = value(args, ++i, arg);
                    case "--format", "-f" -> format = Optional.of(value(args, ++i, arg));
                    default -> {
                        if (arg.startsWith("-")) {
                            throw new IllegalArgumentException("unknown option " + arg);
                        }
                        files.add(arg);
                    }
                }
            }
            if (files.size() != 1) {
                throw new IllegalArgumentException("expected exactly one FILE, got " + files);
            }
            if (socket.isPresent() == (port >= 0)) {
                throw new IllegalArgumentException("give exactly one of --socket PATH or --port N");
            }
            if (tls.isPresent() && socket.isPresent()) {
                throw new IllegalArgumentException("--tls-creds applies to --port only");
            }
            return new Options(socket, port, bind, tls, readOnly, name, format, Path.of(files.getFirst()));
        }

        private static String value(List<String> args, int index, String option) {
            if (index >= args.size()) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return args.get(index);
        }
    }

    /**
     * Opens the image chain, serves it and blocks until the JVM is asked to stop; prints each URI on
     * {@code out} once listening.
     */
    static void serve(Options options, PrintStream out) throws IOException, InterruptedException {
        OpenOptions open = options.readOnly() ? OpenOptions.READ_ONLY : OpenOptions.READ_WRITE;
        try (ImageChain chain = ImageChain.open(options.file(), options.format(), open)) {
            NbdServer.Builder builder = NbdServer.builder().export(options.name(), chain.top(), options.readOnly());
            if (options.socket().isPresent()) {
                builder.listenUnix(options.socket().get());
            } else {
                Optional<SSLContext> tls = options.tlsCreds().isPresent()
                        ? Optional.of(TlsCredentials.server(options.tlsCreds().get()))
                        : Optional.empty();
                builder.listenTcp(options.bindHost(), options.port(), tls);
            }
            CountDownLatch stopped = new CountDownLatch(1);
            try (NbdServer server = builder.build().start()) {
                Thread hook = new Thread(() -> {
                    try {
                        server.close();
                    } catch (IOException e) {
                        // stopping anyway
                    }
                    stopped.countDown();
                });
                Runtime.getRuntime().addShutdownHook(hook);
                out.println(server.uri(options.name()));
                out.flush();
                stopped.await();
            }
            chain.top().flush();
        }
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(List.of(args));
        } catch (IllegalArgumentException e) {
            System.err.println("serve: " + e.getMessage());
            System.err.println("usage: serve [--socket PATH | --port N [--bind HOST] [--tls-creds DIR]]"
                    + " [--read-only] [--name NAME] [-f FMT] FILE");
            System.exit(2);
            return;
        }
        try {
            serve(options, System.out);
        } catch (IOException e) {
            System.err.println("serve: " + e.getMessage());
            System.exit(1);
        }
    }
}
