// Siphon's side of siphon-bench/scripts/remote.sh: a client of one `siphon daemon
// --allow-remote-backing` (the role QEMU's one qemu-storage-daemon plays), run with the JDK's source
// launcher on the CLI's class path.
//   pull  SOCKET CLONE...  defines and starts one domain per clone (a qcow2 whose template is
//                          remote), pulls them all at once; prints "ms=<first blockPull to last
//                          COMPLETED> start_ms=<the domains' starts>"
//   serve SOCKET CLONE     defines and starts domain "guest" over CLONE, prints its disk's NBD URI
//                          and keeps it running until its standard input ends (fio reads it)
// Each mode undefines its domains at the end.
import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobStatus;
import io.siphon.api.Connection;
import io.siphon.api.Domain;
import io.siphon.api.Siphon;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

public class RemotePulls {
    public static void main(String[] args) throws Exception {
        try (Connection connection = Siphon.connect("siphon+unix://" + args[1])) {
            BlockingQueue<BlockJobEvent> events = new LinkedBlockingQueue<>();
            connection.addBlockJobListener(events::add);
            List<Domain> domains = new ArrayList<>();
            try {
                switch (args[0]) {
                    case "pull" -> pull(connection, events, domains, List.of(args).subList(2, args.length));
                    case "serve" -> serve(connection, domains, args[2]);
                    default -> throw new IllegalArgumentException("unknown mode " + args[0]);
                }
            } finally {
                for (Domain domain : domains) {
                    domain.destroy();
                    connection.undefine(domain.name());
                }
            }
        }
    }

    static Domain define(Connection connection, String name, String clone) {
        return connection.define("<domain><name>" + name + "</name><devices><disk type='file' device='disk'>"
                + "<driver name='qemu' type='qcow2'/><source file='" + Path.of(clone).toAbsolutePath()
                + "'/><target dev='vda'/></disk></devices></domain>");
    }

    static void pull(Connection connection, BlockingQueue<BlockJobEvent> events, List<Domain> domains, List<String> clones)
            throws InterruptedException {
        long started = System.nanoTime();
        for (int i = 0; i < clones.size(); i++) {
            Domain domain = define(connection, "r" + i, clones.get(i));
            domains.add(domain);
            domain.start();
        }
        long pulling = System.nanoTime();
        for (Domain domain : domains) {
            domain.blockPull("vda", 0, Set.of());
        }
        for (int left = domains.size(); left > 0; left--) {
            BlockJobEvent event = events.poll(30, TimeUnit.MINUTES);
            if (event == null || event.status() != BlockJobStatus.COMPLETED) {
                throw new IllegalStateException("a pull did not complete: " + event);
            }
        }
        long end = System.nanoTime();
        System.out.printf(
                "ms=%d start_ms=%d%n",
                TimeUnit.NANOSECONDS.toMillis(end - pulling),
                TimeUnit.NANOSECONDS.toMillis(pulling - started));
    }

    static void serve(Connection connection, List<Domain> domains, String clone) throws Exception {
        Domain domain = define(connection, "guest", clone);
        domains.add(domain);
        domain.start();
        System.out.println(domain.disks().getFirst().nbdUri().orElseThrow());
        System.out.flush();
        System.in.readAllBytes();
    }
}
