package io.siphon.qemu;

import io.siphon.api.Connection;
import io.siphon.api.Siphon;
import io.siphon.api.contract.MachineLifecycleContract;
import java.nio.file.Path;

/** A machine's start, stops and failed starts on the qemu driver: the disks inside the VM's QEMU. */
class QemuMachineLifecycleTest extends MachineLifecycleContract {
    @Override
    protected Connection connect(Path stateDir) {
        return Siphon.connect("qemu://" + stateDir.toUri().getPath());
    }
}
