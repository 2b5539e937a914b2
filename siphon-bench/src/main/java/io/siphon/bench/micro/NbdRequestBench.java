package io.siphon.bench.micro;

import io.siphon.nbd.protocol.CommandType;
import io.siphon.nbd.protocol.NbdProtocolException;
import io.siphon.nbd.protocol.Request;
import java.nio.ByteBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;

/** Decoding and encoding the 28-byte NBD request header, once per request the server reads. */
public class NbdRequestBench extends MicroBenchmark {
    private final ByteBuffer wire = ByteBuffer.allocateDirect(Request.BYTES);
    private long cookie;

    @Setup
    public void setUp() {
        new Request(0, CommandType.READ.code(), 1, 1L << 30, 4096).encode(wire);
        wire.flip();
    }

    @Benchmark
    public Request decode() throws NbdProtocolException {
        return Request.decode(wire.duplicate());
    }

    @Benchmark
    public ByteBuffer encode() {
        ByteBuffer out = wire.duplicate().clear();
        new Request(0, CommandType.READ.code(), cookie++, 1L << 30, 4096).encode(out);
        return out;
    }
}
