// Siphon's side of siphon-bench/scripts/drivers.sh: the same public-API calls through one driver URI
// (embedded:///DIR or qemu:///DIR), run with the JDK's source launcher on the CLI's class path.
//   pull  URI TOP                     full pull, unlimited: ms from blockPull to the COMPLETED event
//   rate  URI TOP MIB_PER_S SECONDS   pull at a limit; the job's rate from blockJobInfo over SECONDS
//                                     after a 1 s settle; prints "rate_bps=<..> error_pct=<..>"
//   guest URI TOP MIB_PER_S SECONDS   fio (nbd engine, 4k randread, QD4) on the disk's NBD export for
//                                     SECONDS after 2 s of warm-up (JIT, caches), during a pull at
//                                     MIB_PER_S (0: no pull); prints "iops=<..> p99_us=<..>"
// Each mode defines domain "bench" over TOP (a qcow2 clone), starts it and undefines it at the end.
import io.siphon.api.AbortFlag;
import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.Connection;
import io.siphon.api.Domain;
import io.siphon.api.ErrorCode;
import io.siphon.api.Siphon;
import io.siphon.api.SiphonException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class DriversBench {
    public static void main(String[] args) throws Exception {
        String mode = args[0];
        try (Connection connection = Siphon.connect(args[1])) {
            BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
            connection.addBlockJobListener(events::add);
            Domain domain = connection.define("<domain><name>bench</name><devices><disk type='file' device='disk'>"
                    + "<driver name='qemu' type='qcow2'/><source file='" + Path.of(args[2]).toAbsolutePath()
                    + "'/><target dev='vda'/></disk></devices></domain>");
            domain.start();
            try {
                switch (mode) {
                    case "pull" -> pull(domain, events);
                    case "rate" -> rate(domain, events, Long.parseLong(args[3]), Integer.parseInt(args[4]));
                    case "guest" -> guest(domain, events, Long.parseLong(args[3]), Integer.parseInt(args[4]));
                    default -> throw new IllegalArgumentException("unknown mode " + mode);
                }
            } finally {
                domain.shutdown();
                connection.undefine("bench");
            }
        }
    }

    static BlockJobEvent end(BlockingQueue<BlockJobEvent> events) throws InterruptedException {
        BlockJobEvent event = events.poll(1, TimeUnit.HOURS);
        if (event == null || event.status() != BlockJobStatus.COMPLETED && event.status() != BlockJobStatus.CANCELED) {
            throw new IllegalStateException("the pull ended badly: " + event);
        }
        return event;
    }

    static void pull(Domain domain, BlockingQueue<BlockJobEvent> events) throws InterruptedException {
        long start = System.nanoTime();
        domain.blockPull("vda", 0, Set.of());
        end(events);
        System.out.printf("ms=%d%n", (System.nanoTime() - start) / 1_000_000);
    }

    static void rate(Domain domain, BlockingQueue<BlockJobEvent> events, long mibPerSecond, int seconds)
            throws InterruptedException {
        domain.blockPull("vda", mibPerSecond, Set.of());
        Thread.sleep(1000); // both engines start their limiter with a burst: measure after it
        long cur0 = domain.blockJobInfo("vda").orElseThrow().curBytes();
        long t0 = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        long cur1 = domain.blockJobInfo("vda")
                .orElseThrow(() -> new IllegalStateException("the pull completed inside the window: use a larger SIZE_MIB"))
                .curBytes();
        long t1 = System.nanoTime();
        domain.blockJobAbort("vda", Set.of());
        end(events);
        double rate = (cur1 - cur0) * 1e9 / (t1 - t0);
        double limit = mibPerSecond * 1048576.0;
        System.out.printf("rate_bps=%.0f error_pct=%.1f%n", rate, (rate - limit) / limit * 100);
    }

    static void guest(Domain domain, BlockingQueue<BlockJobEvent> events, long mibPerSecond, int seconds)
            throws Exception {
        String uri = domain.disks().getFirst().nbdUri().orElseThrow();
        if (mibPerSecond > 0) {
            domain.blockPull("vda", mibPerSecond, Set.of());
        }
        Process fio = new ProcessBuilder(
                        "fio", "--name=guest", "--ioengine=nbd", "--uri=" + uri, "--rw=randread", "--bs=4k",
                        "--iodepth=4", "--ramp_time=2", "--runtime=" + seconds, "--time_based", "--output-format=json")
                .redirectErrorStream(false)
                .start();
        String json = new String(fio.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (fio.waitFor() != 0) {
            throw new IllegalStateException("fio failed: " + new String(fio.getErrorStream().readAllBytes()));
        }
        if (mibPerSecond > 0) {
            try {
                domain.blockJobAbort("vda", Set.of(AbortFlag.ASYNC));
            } catch (SiphonException e) {
                if (e.code() != ErrorCode.NO_JOB) {
                    throw e; // else the pull completed while fio ran
                }
            }
        }
        if (mibPerSecond > 0) {
            end(events);
        }
        // "read": {... "iops" : N ... "clat_ns" : {... "percentile" : {... "99.000000" : N
        int read = json.indexOf("\"read\"");
        System.out.printf(
                "iops=%.0f p99_us=%.0f%n",
                number(json, read, "\"iops\"\\s*:\\s*([0-9.]+)"),
                number(json, json.indexOf("\"clat_ns\"", read), "\"99\\.000000\"\\s*:\\s*([0-9.]+)") / 1000);
    }

    static double number(String json, int from, String regex) {
        Matcher m = Pattern.compile(regex).matcher(json);
        if (!m.find(from)) {
            throw new IllegalStateException("no " + regex + " in fio's output");
        }
        return Double.parseDouble(m.group(1));
    }
}
