package io.siphon.testing;

import io.siphon.block.BlockDevice;
import io.siphon.block.Extent;
import io.siphon.block.RequestFlag;
import io.siphon.block.filter.FilterBlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A filter that injects faults into the requests passing to a real device: I/O errors, a full
 * disk, short reads and writes, and latency, each for requests that touch a byte range, for the
 * next so many such requests. Faults read as the JDK reports them from a file ("Input/output
 * error", "No space left on device"), so code that maps them (the NBD server's error replies) sees
 * what it would see from a failing disk. Thread-safe: rules may be added while requests run.
 */
public final class FaultyBlockDevice extends FilterBlockDevice {
    /** A rule with no count limit. */
    public static final int ALWAYS = Integer.MAX_VALUE;

    /** The requests a rule can match. */
    public enum Op {
        READ,
        WRITE,
        WRITE_ZEROES,
        DISCARD,
        FLUSH,
        BLOCK_STATUS;

        /** Every request that changes data. */
        public static final Set<Op> WRITES = EnumSet.of(WRITE, WRITE_ZEROES, DISCARD);
    }

    /** What a matching request suffers. */
    public enum Fault {
        /** Fails with an I/O error; nothing reaches the device. */
        EIO,
        /** Fails as a full disk does; nothing reaches the device. */
        ENOSPC,
        /** A read fills only the first half of its buffer; a write stores its first half, then fails with ENOSPC. */
        SHORT,
        /** Passes on after the rule's delay. */
        SLOW
    }

    /** One injected fault: the requests it matches, how many more it fires for, and how often it fired. */
    public static final class Rule {
        private final Fault fault;
        private final Set<Op> ops;
        private final long fromBytes;
        private final long toBytes;
        private final Duration delay;
        private final AtomicInteger remaining;
        private final AtomicInteger fired = new AtomicInteger();

        private Rule(Fault fault, Set<Op> ops, long offsetBytes, long lengthBytes, int times, Duration delay) {
            if (offsetBytes < 0 || lengthBytes <= 0 || times <= 0) {
                throw new IllegalArgumentException(
                        "rule range " + offsetBytes + "+" + lengthBytes + " for " + times + " requests");
            }
            this.fault = fault;
            this.ops = EnumSet.copyOf(ops);
            this.fromBytes = offsetBytes;
            this.toBytes = offsetBytes + lengthBytes;
            this.delay = delay;
            this.remaining = new AtomicInteger(times);
        }

        /** How many requests this rule has failed or delayed so far. */
        public int fired() {
            return fired.get();
        }

        /** Stops the rule from firing again. */
        public void disarm() {
            remaining.set(0);
        }

        /** Whether the request matches and the rule has a firing left, which it then uses. */
        private boolean take(Op op, long offsetBytes, long lengthBytes) {
            if (!ops.contains(op) || offsetBytes >= toBytes || offsetBytes + lengthBytes <= fromBytes) {
                return false;
            }
            int left;
            do {
                left = remaining.get();
                if (left <= 0) {
                    return false;
                }
            } while (!remaining.compareAndSet(left, left == ALWAYS ? ALWAYS : left - 1));
            fired.incrementAndGet();
            return true;
        }
    }

    private final List<Rule> rules = new CopyOnWriteArrayList<>();

    /** A filter over {@code next} that injects nothing until rules are added. */
    public FaultyBlockDevice(BlockDevice next) {
        super(next);
    }

    /**
     * Injects {@code fault} (not {@link Fault#SLOW}) into the next {@code times} requests of
     * {@code ops} that touch {@code [offsetBytes, offsetBytes + lengthBytes)}.
     */
    public Rule inject(Fault fault, Set<Op> ops, long offsetBytes, long lengthBytes, int times) {
        if (fault == Fault.SLOW) {
            throw new IllegalArgumentException("a slow rule needs its delay: use slow()");
        }
        if (fault == Fault.SHORT && !EnumSet.of(Op.READ, Op.WRITE).containsAll(ops)) {
            throw new IllegalArgumentException("only reads and writes can be short, not " + ops);
        }
        return add(new Rule(fault, ops, offsetBytes, lengthBytes, times, Duration.ZERO));
    }

    /** Delays the next {@code times} requests of {@code ops} that touch the range by {@code delay} each. */
    public Rule slow(Duration delay, Set<Op> ops, long offsetBytes, long lengthBytes, int times) {
        return add(new Rule(Fault.SLOW, ops, offsetBytes, lengthBytes, times, delay));
    }

    private Rule add(Rule rule) {
        rules.add(rule);
        return rule;
    }

    /** Removes every rule: requests pass unharmed from now on. */
    public void clear() {
        rules.clear();
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst, Set<RequestFlag> flags) throws IOException {
        Rule rule = match(Op.READ, offsetBytes, dst.remaining());
        if (rule != null && rule.fault == Fault.SHORT) {
            ByteBuffer half = dst.slice(dst.position(), dst.remaining() / 2);
            super.read(offsetBytes, half, flags);
            dst.position(dst.position() + half.position());
            return;
        }
        super.read(offsetBytes, dst, flags);
    }

    @Override
    public void write(long offsetBytes, ByteBuffer src, Set<RequestFlag> flags) throws IOException {
        int length = src.remaining();
        Rule rule = match(Op.WRITE, offsetBytes, length);
        if (rule != null && rule.fault == Fault.SHORT) {
            ByteBuffer half = src.slice(src.position(), length / 2);
            super.write(offsetBytes, half, flags);
            src.position(src.position() + half.position());
            throw failure(Fault.ENOSPC, Op.WRITE, offsetBytes + length / 2, length - length / 2);
        }
        super.write(offsetBytes, src, flags);
    }

    @Override
    public void writeZeroes(long offsetBytes, long lengthBytes, Set<RequestFlag> flags) throws IOException {
        match(Op.WRITE_ZEROES, offsetBytes, lengthBytes);
        super.writeZeroes(offsetBytes, lengthBytes, flags);
    }

    @Override
    public void discard(long offsetBytes, long lengthBytes) throws IOException {
        match(Op.DISCARD, offsetBytes, lengthBytes);
        super.discard(offsetBytes, lengthBytes);
    }

    @Override
    public void flush() throws IOException {
        match(Op.FLUSH, 0, Math.max(1, sizeBytes()));
        super.flush();
    }

    @Override
    public List<Extent> blockStatus(long offsetBytes, long lengthBytes) throws IOException {
        match(Op.BLOCK_STATUS, offsetBytes, lengthBytes);
        return super.blockStatus(offsetBytes, lengthBytes);
    }

    /**
     * The first rule that fires for the request, after serving its delay or throwing its error;
     * null when none fires. SHORT is left to the caller, which alone knows how to cut the request.
     */
    private Rule match(Op op, long offsetBytes, long lengthBytes) throws IOException {
        for (Rule rule : rules) {
            if (!rule.take(op, offsetBytes, lengthBytes)) {
                continue;
            }
            switch (rule.fault) {
                case EIO, ENOSPC -> throw failure(rule.fault, op, offsetBytes, lengthBytes);
                case SLOW -> pause(rule.delay);
                case SHORT -> {
                    return rule;
                }
            }
        }
        return null;
    }

    private static void pause(Duration delay) throws IOException {
        try {
            // the latency is the fault being injected, not a wait for something to happen
            Thread.sleep(delay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while injecting latency", e);
        }
    }

    private static IOException failure(Fault fault, Op op, long offsetBytes, long lengthBytes) {
        String what = "injected " + op.name().toLowerCase(Locale.ROOT).replace('_', ' ') + " error at " + offsetBytes
                + " (" + lengthBytes + " bytes)";
        return new IOException(
                (fault == Fault.ENOSPC ? "No space left on device" : "Input/output error") + ": " + what);
    }
}
