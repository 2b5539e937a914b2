package io.siphon.cli.image;

import io.siphon.block.BlockDevice;
import io.siphon.blockjob.Disk;
import io.siphon.cli.CliException;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import io.siphon.nbd.protocol.TlsCredentials;
import io.siphon.nbd.server.InFlightBudget;
import io.siphon.nbd.server.NbdServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siphon image serve}: one image (and its backing chain) over NBD until stopped, as qemu-nbd. */
@Command(
        name = "serve",
        description = {
            "Serve FILE, read through its backing chain, over NBD until SIGINT or SIGTERM (as qemu-nbd -t).",
            "Prints the export's URI once listening; many clients may connect at once."
        },
        exitCodeOnInvalidInput = 1)
final class ServeCommand implements Callable<Integer> {
    /** How long a stop signal waits for the image to be flushed and closed. */
    private static final long CLOSE_TIMEOUT_SECONDS = 30;

    @Spec
    CommandSpec spec;

    @Mixin
    ImageFormatOption format;

    @Option(
            names = {"-k", "--socket"},
            paramLabel = "PATH",
            description = "Listen on a Unix socket at PATH.")
    Optional<Path> socket = Optional.empty();

    @Option(
            names = {"-p", "--port"},
            paramLabel = "N",
            description = "Listen on TCP port N (0 picks a free port).")
    Optional<Integer> port = Optional.empty();

    @Option(
            names = {"-b", "--bind"},
            paramLabel = "HOST",
            description = "TCP address to listen on (default: ${DEFAULT-VALUE}).")
    String bind = "127.0.0.1";

    @Option(
            names = "--tls-creds",
            paramLabel = "DIR",
            description =
                    "Require TLS 1.3 on TCP, with DIR/server-cert.pem, server-key.pem as qemu's" + " tls-creds-x509.")
    Optional<Path> tlsCreds = Optional.empty();

    @Option(
            names = {"-r", "--read-only"},
            description = "Export read-only: writes get EPERM.")
    boolean readOnly;

    @Option(
            names = {"-x", "--name"},
            paramLabel = "NAME",
            description = "Export name (default: the empty name, the default export).")
    String name = "";

    @Option(
            names = "--copy-on-read",
            description = "Copy what clients read from the backing chain into FILE (not with --read-only).")
    boolean copyOnRead;

    @Mixin
    RemoteBackingOptions remote;

    @Option(
            names = "--buffer-memory",
            paramLabel = "MIB",
            description = "Memory that requests in flight may hold, over all clients, in MiB (default 256);"
                    + " while it is spent, requests wait unread.")
    long bufferMemoryMib = InFlightBudget.DEFAULT_BYTES >> 20;

    @Parameters(paramLabel = "FILE", description = "The image file.")
    String file;

    @Override
    public Integer call() throws IOException, CliException, InterruptedException {
        if (socket.isPresent() == port.isPresent()) {
            throw new CliException("give exactly one of --socket PATH or --port N");
        }
        if (tlsCreds.isPresent() && socket.isPresent()) {
            throw new CliException("--tls-creds applies to --port only");
        }
        if (copyOnRead && readOnly) {
            throw new CliException("--copy-on-read writes into FILE; it cannot be --read-only");
        }
        try {
            InFlightBudget.configureProcess(Math.multiplyExact(bufferMemoryMib, 1L << 20));
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new CliException(
                    "--buffer-memory " + bufferMemoryMib + ": must be from 32 MiB (the largest request)");
        }
        Optional<SSLContext> tls =
                tlsCreds.isPresent() ? Optional.of(TlsCredentials.server(tlsCreds.get())) : Optional.empty();
        PrintWriter out = spec.commandLine().getOut();
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        // On SIGINT/SIGTERM the hook lets the command close the server and the image, and waits for it.
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                closed.await(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        OpenOptions options =
                (readOnly ? OpenOptions.READ_ONLY : OpenOptions.READ_WRITE).withRemote(remote.policy(file));
        ImageChain chain = ImageChain.open(Path.of(file), format.format, options);
        Disk disk;
        try {
            disk = new Disk(name, chain, copyOnRead);
        } catch (IOException | RuntimeException e) {
            chain.close();
            closed.countDown();
            throw e;
        }
        try (disk) {
            BlockDevice exported = copyOnRead ? disk.device() : chain.top();
            NbdServer.Builder builder = NbdServer.builder().export(name, exported, readOnly);
            if (socket.isPresent()) {
                builder.listenUnix(socket.get());
            } else {
                builder.listenTcp(bind, port.get(), tls);
            }
            try (NbdServer server = builder.build().start()) {
                Runtime.getRuntime().addShutdownHook(hook);
                out.println(server.uri(name));
                out.flush();
                stop.await();
            }
            if (!readOnly) {
                chain.top().flush();
            }
        } finally {
            closed.countDown();
        }
        return 0;
    }
}
