package io.siphon.qemu;

import io.siphon.api.Connection;
import io.siphon.api.Siphon;
import io.siphon.api.contract.GuestPullContract;
import java.nio.file.Path;

/** The guest-under-pull scenario on the qemu driver: the disks live inside the VM's own QEMU. */
class QemuGuestPullTest extends GuestPullContract {
    @Override
    protected Connection connect(Path stateDir) {
        return Siphon.connect("qemu://" + stateDir.toUri().getPath());
    }
}
