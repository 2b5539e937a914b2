package io.siphon.daemon;

import io.siphon.blockjob.PrefetchPlan;
import io.siphon.domain.StateDirectory;
import io.siphon.format.BackingNames;
import io.siphon.format.BackingReference;
import io.siphon.format.Image;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The templates' access profiles in {@code STATEDIR/profiles/}, one file per template (named by a
 * hash of its path): for the first {@code recording} after a domain starts, each disk with a
 * backing image counts the clusters its guest reads; when that time is up or the domain stops,
 * the counts are merged into the profile of the disk's backing image (its template). A pull in
 * profile order copies the profile's clusters first. A missing, stale (the template's size or
 * modification time changed) or damaged profile is ignored with a warning. Thread-safe.
 */
final class AccessProfiles {
    static final Duration DEFAULT_RECORDING = Duration.ofSeconds(60);
    private static final Logger LOG = LoggerFactory.getLogger(AccessProfiles.class);

    private final Path directory;
    private final Duration recording;
    private final Map<RunningDisk, Recording> recordings = new ConcurrentHashMap<>();

    private record Recording(AccessProfile.TemplateIdentity template, AccessRecorder recorder, Thread timer) {}

    AccessProfiles(StateDirectory state, Duration recording) throws IOException {
        this.directory = state.subdirectory("profiles");
        this.recording = recording;
    }

    /** Starts counting the guest's reads of {@code disk}, if it has a template and recording is on. */
    void startRecording(RunningDisk disk) {
        List<Image> images = disk.images();
        if (images.size() < 2 || recording.isZero()) {
            return;
        }
        Optional<String> remote = remoteTemplate(images);
        if (remote.isPresent()) {
            LOG.info(
                    "domain {} disk {}: template {} is remote; access profiles are kept for local templates only",
                    disk.domain(),
                    disk.target(),
                    remote.get());
            return;
        }
        try {
            AccessProfile.TemplateIdentity template = identity(images.get(1));
            long clusterBytes = current(template)
                    .map(AccessProfile::clusterBytes)
                    .orElse(disk.disk().device().granularityBytes());
            AccessRecorder recorder = new AccessRecorder(clusterBytes);
            Thread timer = Thread.ofVirtual()
                    .name("profile " + disk.domain() + "/" + disk.target())
                    .unstarted(() -> {
                        try {
                            Thread.sleep(recording);
                        } catch (InterruptedException e) {
                            return; // the domain stopped first and saved the profile
                        }
                        finishRecording(disk);
                    });
            recordings.put(disk, new Recording(template, recorder, timer));
            disk.disk().device().setReadListener(recorder);
            timer.start();
        } catch (IOException e) {
            LOG.warn(
                    "domain {} disk {}: not recording an access profile: {}",
                    disk.domain(),
                    disk.target(),
                    e.toString());
        }
    }

    /** Stops counting the reads of {@code disk}, if it was, and merges them into its template's profile. */
    void finishRecording(RunningDisk disk) {
        Recording done = recordings.remove(disk);
        if (done == null) {
            return;
        }
        disk.disk().device().setReadListener(null);
        if (Thread.currentThread() != done.timer()) {
            done.timer().interrupt();
        }
        Map<Long, Long> reads = done.recorder().reads();
        if (reads.isEmpty()) {
            return;
        }
        synchronized (this) {
            AccessProfile profile = current(done.template())
                    .filter(p -> p.clusterBytes() == done.recorder().clusterBytes())
                    .orElseGet(() ->
                            new AccessProfile(done.template(), done.recorder().clusterBytes(), 0, Map.of()))
                    .merge(reads);
            try {
                StateDirectory.writeAtomically(file(done.template().path()), profile.format());
                LOG.info(
                        "domain {} disk {}: access profile of {} now holds {} clusters from {} starts",
                        disk.domain(),
                        disk.target(),
                        done.template().path(),
                        profile.counts().size(),
                        profile.starts());
            } catch (IOException e) {
                LOG.warn(
                        "domain {} disk {}: access profile of {} not saved: {}",
                        disk.domain(),
                        disk.target(),
                        done.template().path(),
                        e.toString());
            }
        }
    }

    /** What a pull in profile order copies first: the template's profile, or nothing (with a warning). */
    PrefetchPlan plan(RunningDisk disk) {
        List<Image> images = disk.images();
        if (images.size() < 2) {
            LOG.warn(
                    "domain {} disk {}: no backing image, so no access profile; pulling in offset order",
                    disk.domain(),
                    disk.target());
            return PrefetchPlan.none();
        }
        Optional<String> remote = remoteTemplate(images);
        if (remote.isPresent()) {
            LOG.warn(
                    "domain {} disk {}: template {} is remote, so no access profile; pulling in offset order",
                    disk.domain(),
                    disk.target(),
                    remote.get());
            return PrefetchPlan.none();
        }
        try {
            AccessProfile.TemplateIdentity template = identity(images.get(1));
            Optional<AccessProfile> profile = current(template);
            if (profile.isEmpty()) {
                LOG.warn(
                        "domain {} disk {}: no usable access profile of {}; pulling in offset order",
                        disk.domain(),
                        disk.target(),
                        template.path());
                return PrefetchPlan.none();
            }
            LOG.info(
                    "domain {} disk {}: pulling the {} clusters of the access profile of {} first",
                    disk.domain(),
                    disk.target(),
                    profile.get().counts().size(),
                    template.path());
            return PrefetchPlan.of(profile.get().clusterBytes(), profile.get().hottestFirst());
        } catch (IOException e) {
            LOG.warn(
                    "domain {} disk {}: access profile not read ({}); pulling in offset order",
                    disk.domain(),
                    disk.target(),
                    e.toString());
            return PrefetchPlan.none();
        }
    }

    /** The profile of {@code template} if one exists and is whole and of this very template. */
    Optional<AccessProfile> current(AccessProfile.TemplateIdentity template) {
        Path file = file(template.path());
        AccessProfile profile;
        try {
            profile = AccessProfile.parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | IllegalArgumentException e) {
            LOG.warn("ignoring damaged access profile {} of {}: {}", file, template.path(), e.getMessage());
            return Optional.empty();
        }
        if (!profile.template().equals(template)) {
            LOG.warn(
                    "ignoring stale access profile {}: it is of {}, the template is now {}",
                    file,
                    profile.template(),
                    template);
            return Optional.empty();
        }
        return Optional.of(profile);
    }

    /**
     * The name of the template ({@code images}' second) when it is remote: profiles are keyed by a
     * host file's path, size and modification time, which a remote object has not.
     */
    private static Optional<String> remoteTemplate(List<Image> images) {
        return images.getFirst().backingReference().map(BackingReference::name).filter(BackingNames::isRemote);
    }

    static AccessProfile.TemplateIdentity identity(Image template) throws IOException {
        Path path = template.path().toRealPath();
        return new AccessProfile.TemplateIdentity(
                path, Files.size(path), Files.getLastModifiedTime(path).toMillis());
    }

    Path file(Path templatePath) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(templatePath.toString().getBytes(StandardCharsets.UTF_8));
            return directory.resolve(HexFormat.of().formatHex(digest, 0, 16) + ".profile");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }
}
