package io.siphon.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.siphon.domain.StateDirectory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Access profiles: their file, merging, the bound, and what a stale or damaged one becomes. */
class AccessProfileTest {
    private static final long CLUSTER = 65536;
    private static final AccessProfile.TemplateIdentity TEMPLATE =
            new AccessProfile.TemplateIdentity(Path.of("/images/debian 12.qcow2"), 1 << 30, 1_700_000_000_000L);

    @TempDir
    Path dir;

    @Test
    void aProfileRoundTripsThroughItsFileAndListsTheHottestFirst() {
        AccessProfile profile = new AccessProfile(TEMPLATE, CLUSTER, 0, Map.of())
                .merge(Map.of(3 * CLUSTER, 2L, 0L, 5L, 9 * CLUSTER, 2L))
                .merge(Map.of(9 * CLUSTER, 1L));
        assertEquals(2, profile.starts());
        assertEquals(List.of(0L, 9 * CLUSTER, 3 * CLUSTER), profile.hottestFirst());
        assertEquals(profile, AccessProfile.parse(profile.format()));
    }

    @Test
    void aProfileNeverGrowsPastItsBoundAndKeepsTheHottest() {
        Map<Long, Long> reads = new HashMap<>();
        for (long i = 0; i < 3 * AccessProfile.MAX_CLUSTERS; i++) {
            reads.put(i * CLUSTER, i < 10 ? 1000L : 1L);
        }
        AccessProfile profile = new AccessProfile(TEMPLATE, CLUSTER, 0, Map.of()).merge(reads);
        assertEquals(AccessProfile.MAX_CLUSTERS, profile.counts().size());
        assertEquals(0L, profile.hottestFirst().getFirst());
        assertTrue(profile.hottestFirst().subList(0, 10).stream().allMatch(o -> o < 10 * CLUSTER));
        assertEquals(
                AccessProfile.MAX_CLUSTERS,
                AccessProfile.parse(profile.merge(reads).format()).counts().size());
    }

    @Test
    void aDamagedFileIsRefusedSayingWhy() {
        String text = new AccessProfile(TEMPLATE, CLUSTER, 0, Map.of())
                .merge(Map.of(CLUSTER, 3L))
                .format();
        var crc = assertThrows(
                IllegalArgumentException.class, () -> AccessProfile.parse(text.replace("65536 3", "65536 4")));
        assertTrue(crc.getMessage().contains("CRC-32"), crc.getMessage());
        var header = assertThrows(IllegalArgumentException.class, () -> AccessProfile.parse("garbage\n\n1 2\n"));
        assertTrue(header.getMessage().contains("siphon-access-profile"), header.getMessage());
        var field = assertThrows(
                IllegalArgumentException.class, () -> AccessProfile.parse(text.replaceAll("starts \\d+\n", "")));
        assertTrue(field.getMessage().contains("starts"), field.getMessage());
    }

    @Test
    void aStaleOrDamagedProfileInTheStateDirectoryIsIgnored() throws Exception {
        try (StateDirectory state = StateDirectory.open(dir.resolve("state"))) {
            AccessProfiles profiles = new AccessProfiles(state, AccessProfiles.DEFAULT_RECORDING);
            Path file = profiles.file(TEMPLATE.path());
            AccessProfile profile = new AccessProfile(TEMPLATE, CLUSTER, 0, Map.of()).merge(Map.of(CLUSTER, 3L));
            StateDirectory.writeAtomically(file, profile.format());
            assertEquals(Optional.of(profile), profiles.current(TEMPLATE));

            var changed = new AccessProfile.TemplateIdentity(TEMPLATE.path(), TEMPLATE.sizeBytes(), 1_800_000_000_000L);
            assertEquals(Optional.empty(), profiles.current(changed), "the template changed: stale");

            Files.writeString(file, profile.format().substring(0, 60), StandardCharsets.UTF_8);
            assertEquals(Optional.empty(), profiles.current(TEMPLATE), "cut short: damaged");
        }
    }
}
