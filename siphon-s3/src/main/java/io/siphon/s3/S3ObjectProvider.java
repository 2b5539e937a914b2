package io.siphon.s3;

import io.siphon.format.remote.RemoteLocation;
import io.siphon.format.remote.RemoteObject;
import io.siphon.format.remote.RemoteObjectProvider;
import java.io.IOException;
import java.util.Set;

/** S3 objects ({@code s3://BUCKET/KEY}) as remote objects, registered with siphon-core by ServiceLoader. */
public final class S3ObjectProvider implements RemoteObjectProvider {
    @Override
    public Set<String> schemes() {
        return Set.of("s3");
    }

    @Override
    public RemoteObject open(RemoteLocation location) throws IOException {
        return S3RemoteObject.open(location, S3Clients.fromEnvironment());
    }
}
