package io.siphon.daemon.vm;

import io.siphon.api.Connection;
import io.siphon.api.Siphon;
import io.siphon.api.contract.MachineLifecycleContract;
import java.nio.file.Path;

/** A machine's start, stops and failed starts on the embedded driver. */
class EmbeddedMachineLifecycleTest extends MachineLifecycleContract {
    @Override
    protected Connection connect(Path stateDir) {
        return Siphon.connect("embedded://" + stateDir);
    }
}
