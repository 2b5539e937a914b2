package io.siphon.cli.domain;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.siphon.api.DomainInfo;
import io.siphon.protocol.MessageCodec;
import io.siphon.protocol.Result;
import java.util.List;

/** A domain in {@code --output=json}: the protocol's domain info with virsh's id (null when shut off). */
final class DomainJson {
    private DomainJson() {}

    static ObjectNode of(DomainInfo domain, List<DomainInfo> all) {
        ObjectNode node = (ObjectNode) MessageCodec.tree(Result.Domain.of(domain));
        String id = DomainIds.idOf(domain, all);
        ObjectNode out = node.objectNode();
        if (id.equals("-")) {
            out.putNull("id");
        } else {
            out.put("id", Integer.parseInt(id));
        }
        out.setAll(node);
        return out;
    }
}
