package io.siphon.daemon.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.siphon.api.BlockJobEvent;
import io.siphon.api.BlockJobInfo;
import io.siphon.api.DiskInfo;
import io.siphon.api.DomainInfo;
import io.siphon.api.DomainState;
import io.siphon.api.SiphonException;
import io.siphon.api.spi.DriverSession;
import io.siphon.blockjob.Disk;
import io.siphon.daemon.DaemonView;
import io.siphon.format.Image;
import io.siphon.format.ImageInfo;
import io.siphon.job.JobInfo;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the console shows, read through a read-only session and the engine's disks: domains and
 * their state, each disk's chain, NBD URI, job and allocation map, and how each disk's last job
 * ended. Thread-safe.
 */
final class ConsoleModel implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConsoleModel.class);
    static final ObjectMapper JSON = new ObjectMapper();

    /** How a disk's last job ended, from its event. */
    private record Ended(String status, Optional<String> error, Instant at) {}

    private final DaemonView daemon;
    private final DriverSession reader;
    private final Map<String, Ended> ended = new ConcurrentHashMap<>();
    private volatile Runnable changed = () -> {};

    ConsoleModel(DaemonView daemon) {
        this.daemon = daemon;
        this.reader = daemon.session(true);
        reader.setEventSink(event -> {
            if (event instanceof BlockJobEvent job) {
                ended.put(key(job.domain(), job.disk()), new Ended(job.status().name(), job.error(), Instant.now()));
            }
            changed.run();
        });
    }

    /** Runs {@code listener} (quick, non-blocking) after each domain or job event. */
    void onChange(Runnable listener) {
        this.changed = listener;
    }

    private static String key(String domain, String disk) {
        return domain + "/" + disk;
    }

    /** The disks of the running domains, each with its engine disk. */
    List<RunningDiskRef> runningDisks() {
        List<RunningDiskRef> out = new ArrayList<>();
        for (DomainInfo domain : reader.list()) {
            if (domain.state() != DomainState.RUNNING) {
                continue;
            }
            try {
                for (DiskInfo disk : reader.disks(domain.name())) {
                    daemon.runningDisk(domain.name(), disk.target())
                            .ifPresent(d -> out.add(new RunningDiskRef(domain.name(), disk.target(), d)));
                }
            } catch (SiphonException e) {
                LOG.debug("domain {} changed while it was read: {}", domain.name(), e.getMessage());
            }
        }
        return out;
    }

    /** The whole picture, as the page and {@code /api/state} get it. */
    ObjectNode snapshot() {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode domains = root.putArray("domains");
        for (DomainInfo domain : reader.list()) {
            ObjectNode d = domains.addObject();
            d.put("name", domain.name());
            d.put("uuid", domain.uuid().toString());
            d.put("state", domain.state().name());
            ArrayNode disks = d.putArray("disks");
            try {
                for (DiskInfo disk : reader.disks(domain.name())) {
                    disks.add(disk(domain.name(), disk));
                }
            } catch (SiphonException e) {
                LOG.debug("domain {} changed while it was read: {}", domain.name(), e.getMessage());
            }
        }
        return root;
    }

    private ObjectNode disk(String domain, DiskInfo info) {
        ObjectNode d = JSON.createObjectNode();
        d.put("target", info.target());
        d.put("source", info.source());
        d.put("format", info.format());
        d.put("readOnly", info.readOnly());
        d.put("copyOnRead", info.copyOnRead());
        d.put("nbdUri", info.nbdUri().orElse(null));
        Optional<Disk> running = daemon.runningDisk(domain, info.target());
        if (running.isPresent()) {
            Disk disk = running.get();
            d.put("sizeBytes", disk.device().sizeBytes());
            d.put("copiedBytes", disk.copiedBytes());
            d.put("templateReadBytes", disk.templateReadBytes());
            List<Image> images = disk.images();
            ArrayNode chain = d.putArray("chain");
            for (Image image : images) {
                chain.add(image(image));
            }
            try {
                AllocationMap map = AllocationMap.of(images);
                ObjectNode m = d.putObject("map");
                m.put("cellBytes", map.cellBytes());
                m.put("cells", map.cells());
            } catch (IOException | RuntimeException e) {
                // the chain changed under the walk (a pull dropped an image): the next tick shows it
                LOG.debug("allocation map of {}/{}: {}", domain, info.target(), e.toString());
            }
            job(domain, info.target(), disk).ifPresent(job -> d.set("job", job));
        }
        Ended last = ended.get(key(domain, info.target()));
        if (last != null) {
            ObjectNode l = d.putObject("lastJob");
            l.put("status", last.status());
            l.put("error", last.error().orElse(null));
            l.put("at", last.at().toString());
        }
        return d;
    }

    private static ObjectNode image(Image image) {
        ObjectNode i = JSON.createObjectNode();
        i.put("path", image.path().toString());
        i.put("format", image.formatName());
        i.put("virtualSizeBytes", image.sizeBytes());
        try {
            ImageInfo info = image.info();
            info.clusterSizeBytes().ifPresent(c -> i.put("clusterSizeBytes", c));
            info.actualSizeBytes().ifPresent(a -> i.put("actualSizeBytes", a));
            info.backing().ifPresent(b -> i.put("backing", b.name()));
        } catch (IOException | RuntimeException e) {
            LOG.debug("info of {}: {}", image.path(), e.toString());
        }
        return i;
    }

    private Optional<ObjectNode> job(String domain, String target, Disk disk) {
        Optional<BlockJobInfo> info;
        try {
            info = reader.blockJobInfo(domain, target);
        } catch (SiphonException e) {
            return Optional.empty();
        }
        if (info.isEmpty()) {
            return Optional.empty();
        }
        BlockJobInfo job = info.get();
        ObjectNode j = JSON.createObjectNode();
        j.put("type", job.type().name());
        j.put("state", job.state().name());
        j.put("curBytes", job.curBytes());
        j.put("endBytes", job.endBytes());
        j.put("bandwidthBytesPerSecond", job.bandwidthBytesPerSecond());
        j.put("rateBytesPerSecond", job.rateBytesPerSecond());
        job.eta().ifPresent(eta -> j.put("etaSeconds", eta.toSeconds()));
        disk.job().map(engine -> engine.info()).ifPresent(engine -> {
            j.put("copiedBytes", engine.progress().copiedBytes());
            j.put("error", engine.error().orElse(null));
        });
        return Optional.of(j);
    }

    /** The API's state of a running disk's job (RUNNING, PAUSED...), if it has one. */
    Optional<String> jobState(RunningDiskRef ref) {
        try {
            return reader.blockJobInfo(ref.domain(), ref.target())
                    .map(job -> job.state().name());
        } catch (SiphonException e) {
            return Optional.empty();
        }
    }

    /** The engine's view of a disk's job, for the metrics. */
    static Optional<JobInfo> engineJob(Disk disk) {
        return disk.job().map(job -> job.info());
    }

    /** The read-only session the model reads through. */
    DriverSession reader() {
        return reader;
    }

    @Override
    public void close() {
        reader.close();
    }
}
