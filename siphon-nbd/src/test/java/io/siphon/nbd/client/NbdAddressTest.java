package io.siphon.nbd.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class NbdAddressTest {
    @Test
    void parsesTheThreeSchemes() {
        assertEquals(
                new NbdAddress(Optional.of(Path.of("/run/a b.sock")), "", 0, "vm disk", false),
                NbdAddress.parse("nbd+unix:///vm%20disk?socket=/run/a%20b.sock"));
        assertEquals(
                new NbdAddress(Optional.empty(), "example.org", 10809, "", false),
                NbdAddress.parse("nbd://example.org"));
        assertEquals(
                new NbdAddress(Optional.empty(), "127.0.0.1", 4000, "x", true),
                NbdAddress.parse("nbds://127.0.0.1:4000/x"));
    }

    @Test
    void refusesOtherSchemesAndMissingSockets() {
        assertEquals(
                "NBD URI http://x/ has scheme 'http'; expected nbd, nbds or nbd+unix",
                assertThrows(IllegalArgumentException.class, () -> NbdAddress.parse("http://x/"))
                        .getMessage());
        assertThrows(IllegalArgumentException.class, () -> NbdAddress.parse("nbd+unix:///disk"));
    }
}
