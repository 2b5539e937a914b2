package io.siphon.format.remote;

import java.io.IOException;
import java.util.Set;

/** HTTP(S) objects read with range requests (the JDK's HttpClient). */
public final class HttpObjectProvider implements RemoteObjectProvider {
    @Override
    public Set<String> schemes() {
        return Set.of("http", "https");
    }

    @Override
    public RemoteObject open(RemoteLocation location) throws IOException {
        return HttpRemoteObject.open(location);
    }
}
