package io.siphon.daemon.vm;

import io.siphon.api.Connection;
import io.siphon.api.Siphon;
import io.siphon.api.contract.GuestPullContract;
import java.nio.file.Path;

/** The guest-under-pull scenario on the embedded driver: the VM's disks are NBD clients of Siphon. */
class EmbeddedGuestPullTest extends GuestPullContract {
    @Override
    protected Connection connect(Path stateDir) {
        return Siphon.connect("embedded://" + stateDir);
    }
}
