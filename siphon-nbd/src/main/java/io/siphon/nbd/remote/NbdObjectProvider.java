package io.siphon.nbd.remote;

import io.siphon.format.remote.RemoteLocation;
import io.siphon.format.remote.RemoteObject;
import io.siphon.format.remote.RemoteObjectProvider;
import java.io.IOException;
import java.util.Set;

/** NBD exports as remote objects, registered with siphon-core's remote images by ServiceLoader. */
public final class NbdObjectProvider implements RemoteObjectProvider {
    @Override
    public Set<String> schemes() {
        return Set.of("nbd", "nbd+unix");
    }

    @Override
    public RemoteObject open(RemoteLocation location) throws IOException {
        return NbdRemoteObject.open(location);
    }
}
