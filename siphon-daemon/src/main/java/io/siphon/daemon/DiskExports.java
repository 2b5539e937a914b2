package io.siphon.daemon;

import io.siphon.nbd.server.NbdServer;
import io.siphon.nbd.server.NbdServerListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The daemon's NBD server on {@code STATEDIR/run/nbd.sock}, started with the first running domain;
 * each running disk is the export {@code DOMAIN/TARGET}. Guarded by the domain manager.
 */
final class DiskExports implements AutoCloseable {
    private final Path socket;
    private final NbdListenerSlot listener = new NbdListenerSlot();
    private Optional<NbdServer> server = Optional.empty();

    DiskExports(Path runDirectory) {
        this.socket = runDirectory.resolve("nbd.sock");
    }

    Path socket() {
        return socket;
    }

    static String exportName(String domain, String target) {
        return domain + "/" + target;
    }

    void export(RunningDisk disk) throws IOException {
        if (server.isEmpty()) {
            Files.deleteIfExists(socket); // left by a killed daemon: this process holds the state lock
            server = Optional.of(NbdServer.builder()
                    .listenUnix(socket)
                    .listener(listener)
                    .build()
                    .start());
        }
        server.get()
                .addExport(
                        exportName(disk.domain(), disk.target()),
                        disk.definition().source().toString(),
                        disk.device(),
                        disk.definition().readOnly(),
                        // the server times the guest from a request's arrival: what a pull adds there shows too
                        disk.disk().device().guestIoTimedOutside());
    }

    /** Who is told of NBD connections and requests, from now on. */
    void setListener(NbdServerListener nbdListener) {
        listener.set(nbdListener);
    }

    /** Withdraws the disk's export; its clients are disconnected once their requests finish. */
    void withdraw(RunningDisk disk) {
        server.ifPresent(s -> s.removeExport(exportName(disk.domain(), disk.target())));
    }

    Optional<String> uri(String domain, String target) throws IOException {
        if (server.isEmpty() || !server.get().exportNames().contains(exportName(domain, target))) {
            return Optional.empty();
        }
        return Optional.of(server.get().uri(exportName(domain, target)));
    }

    @Override
    public void close() throws IOException {
        if (server.isPresent()) {
            server.get().close();
            server = Optional.empty();
        }
    }
}
