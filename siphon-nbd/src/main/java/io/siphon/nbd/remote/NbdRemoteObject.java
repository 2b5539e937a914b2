package io.siphon.nbd.remote;

import io.siphon.format.remote.RemoteLocation;
import io.siphon.format.remote.RemoteObject;
import io.siphon.format.remote.RemoteObjectException;
import io.siphon.format.remote.RemoteObjectException.Reason;
import io.siphon.nbd.client.NbdAddress;
import io.siphon.nbd.client.NbdClient;
import io.siphon.nbd.client.NbdReplyException;
import io.siphon.nbd.protocol.BlockStatusDescriptor;
import io.siphon.nbd.protocol.MetaContexts;
import io.siphon.nbd.protocol.NbdProtocolException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One NBD export read as a remote object. NBD has no object version: the version is the export's
 * size, so a template rewritten in place at the same size is not detected (serve templates
 * read-only, as {@code qemu-nbd -r} does). A connection that fails is dropped and made again on the
 * next read, so that a restarted server is picked up. Its block status (base:allocation) is the
 * object's allocation, so that holes are neither fetched nor copied. Thread-safe: requests go one
 * at a time.
 */
final class NbdRemoteObject implements RemoteObject {
    private final RemoteLocation location;
    private final NbdAddress address;
    private final long sizeBytes;
    /** Guarded by this; null while disconnected. */
    private NbdClient client;

    private NbdRemoteObject(RemoteLocation location, NbdAddress address, NbdClient client) {
        this.location = location;
        this.address = address;
        this.client = client;
        this.sizeBytes = client.sizeBytes();
    }

    static NbdRemoteObject open(RemoteLocation location) throws IOException {
        NbdAddress address;
        try {
            address = NbdAddress.parse(location.uri().toString());
        } catch (IllegalArgumentException e) {
            throw new RemoteObjectException(Reason.BAD_NAME, location.name(), e.getMessage(), e);
        }
        if (address.tls()) {
            throw new RemoteObjectException(
                    Reason.BAD_NAME, location.name(), "NBD over TLS is not supported for backings");
        }
        return new NbdRemoteObject(location, address, connect(location, address));
    }

    private static NbdClient connect(RemoteLocation location, NbdAddress address) throws RemoteObjectException {
        try {
            return NbdClient.connect(address, Optional.empty());
        } catch (NbdReplyException e) {
            throw new RemoteObjectException(Reason.NOT_FOUND, location.name(), e.getMessage(), e);
        } catch (NbdProtocolException e) {
            throw new RemoteObjectException(Reason.PROTOCOL, location.name(), e.getMessage(), e);
        } catch (IOException e) {
            throw new RemoteObjectException(Reason.UNAVAILABLE, location.name(), e.getMessage(), e);
        }
    }

    @Override
    public RemoteLocation location() {
        return location;
    }

    @Override
    public long sizeBytes() {
        return sizeBytes;
    }

    @Override
    public String version() {
        return "size=" + sizeBytes;
    }

    /** The connection, made again (and checked against the size) after one failed. */
    private NbdClient client() throws RemoteObjectException {
        if (client == null) {
            NbdClient again = connect(location, address);
            if (again.sizeBytes() != sizeBytes) {
                RemoteObjectException changed = new RemoteObjectException(
                        Reason.CHANGED,
                        location.name(),
                        "the export's size is now " + again.sizeBytes() + ", was " + sizeBytes);
                try {
                    again.close();
                } catch (IOException e) {
                    changed.addSuppressed(e);
                }
                throw changed;
            }
            client = again;
        }
        return client;
    }

    /** The export's base:allocation, when the server agreed to it; else all data. */
    @Override
    public synchronized List<Run> allocation(long offsetBytes, long lengthBytes) throws IOException {
        NbdClient connection = client();
        if (!connection.hasAllocationContext()) {
            return List.of(new Run(lengthBytes, false));
        }
        try {
            List<Run> runs = new ArrayList<>();
            for (BlockStatusDescriptor descriptor : connection.blockStatus(offsetBytes, lengthBytes)) {
                if (descriptor.lengthBytes() > 0) {
                    runs.add(new Run(descriptor.lengthBytes(), (descriptor.flags() & MetaContexts.STATE_ZERO) != 0));
                }
            }
            return runs;
        } catch (IOException e) {
            drop(e);
            throw new RemoteObjectException(
                    Reason.UNAVAILABLE,
                    location.name(),
                    "block status at offset " + offsetBytes + " failed: " + e.getMessage(),
                    e);
        }
    }

    @Override
    public synchronized void read(long offsetBytes, ByteBuffer dst) throws IOException {
        client();
        try {
            long position = offsetBytes;
            while (dst.hasRemaining()) {
                int n = (int) Math.min(dst.remaining(), client.maxBlockBytes());
                client.read(position, dst.slice(dst.position(), n));
                dst.position(dst.position() + n);
                position += n;
            }
        } catch (IOException e) {
            drop(e);
            throw new RemoteObjectException(
                    Reason.UNAVAILABLE,
                    location.name(),
                    "read at offset " + offsetBytes + " failed: " + e.getMessage(),
                    e);
        }
    }

    private void drop(IOException failure) {
        try {
            client.close();
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
        client = null;
    }

    @Override
    public synchronized void close() throws IOException {
        if (client != null) {
            client.close();
            client = null;
        }
    }
}
