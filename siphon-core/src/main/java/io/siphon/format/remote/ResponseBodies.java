package io.siphon.format.remote;

import io.siphon.format.remote.RemoteObjectException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/** Reading a ranged response's body, for the providers that get one as a stream (HTTP, S3). */
public final class ResponseBodies {
    private ResponseBodies() {}

    /**
     * Fills {@code dst} from {@code body}, the answer for the range at {@code offsetBytes} of the object
     * {@code name}. A body that ends short or breaks off is an {@code UNAVAILABLE} error (worth a retry).
     */
    public static void readFully(InputStream body, ByteBuffer dst, String name, long offsetBytes) throws IOException {
        byte[] buffer = new byte[64 << 10];
        int expected = dst.remaining();
        try {
            while (dst.hasRemaining()) {
                int n = body.read(buffer, 0, Math.min(buffer.length, dst.remaining()));
                if (n < 0) {
                    throw new RemoteObjectException(
                            Reason.UNAVAILABLE,
                            name,
                            "response at offset " + offsetBytes + " ended after " + (expected - dst.remaining())
                                    + " of " + expected + " bytes");
                }
                dst.put(buffer, 0, n);
            }
        } catch (RemoteObjectException e) {
            throw e;
        } catch (IOException e) {
            throw new RemoteObjectException(Reason.UNAVAILABLE, name, "reading the response: " + e, e);
        }
    }
}
