package io.siphon.cli.domain;

import io.siphon.api.DomainInfo;
import io.siphon.api.DomainState;
import java.util.List;

/**
 * The Id column of {@code list} and {@code dominfo}: Siphon domains have no numeric id, so a running
 * domain shows its place among the running domains (1, 2, …) and a shut-off one {@code -}, as virsh
 * shows inactive domains. Stateless.
 */
final class DomainIds {
    private DomainIds() {}

    static String idOf(DomainInfo domain, List<DomainInfo> all) {
        if (domain.state() != DomainState.RUNNING) {
            return "-";
        }
        int id = 0;
        for (DomainInfo other : all) {
            if (other.state() == DomainState.RUNNING) {
                id++;
            }
            if (other.name().equals(domain.name())) {
                return Integer.toString(id);
            }
        }
        return "-";
    }

    /** virsh's words for a state. */
    static String stateName(DomainState state) {
        return switch (state) {
            case RUNNING -> "running";
            case SHUTOFF -> "shut off";
        };
    }
}
