package io.siphon.bench.micro;

import io.siphon.nbd.protocol.CommandType;
import io.siphon.nbd.protocol.NbdProtocolException;
import io.siphon.nbd.protocol.Request;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Decoding and encoding the 28-byte NBD request header, once per request the server reads. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class NbdRequestBench {
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
