package io.siphon.daemon;

import java.time.Duration;
import java.util.Objects;

/**
 * What the embedded engine's domain manager is opened with, from {@code siphon daemon}'s options:
 * which remote backings its disks may follow, and for how long after a domain starts its guests'
 * reads are recorded into their templates' access profiles (zero: none are).
 *
 * @param remote the remote backings allowed, the chunk cache's bound and the outage timeout
 * @param profileRecording how long each start's reads are recorded; zero turns recording off
 */
record EngineSettings(RemoteBackings remote, Duration profileRecording) {
    /** The longest recording: a profile is of a boot, not of a day's work. */
    static final Duration MAX_PROFILE_RECORDING = Duration.ofHours(1);

    /** Remote backings refused; 60 s of each start recorded. */
    static final EngineSettings DEFAULT = new EngineSettings(RemoteBackings.REFUSED, AccessProfiles.DEFAULT_RECORDING);

    EngineSettings {
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(profileRecording, "profileRecording");
        if (profileRecording.isNegative() || profileRecording.compareTo(MAX_PROFILE_RECORDING) > 0) {
            throw new IllegalArgumentException("the profile recording must be from 0 to "
                    + MAX_PROFILE_RECORDING.toSeconds() + " s, is " + profileRecording.toSeconds() + " s");
        }
    }
}
