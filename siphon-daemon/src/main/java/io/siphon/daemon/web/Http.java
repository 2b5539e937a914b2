package io.siphon.daemon.web;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.http.Context;

/** The console's JSON replies; an error's body is {"error": "..."}. */
final class Http {
    private Http() {}

    static void json(Context ctx, int status, JsonNode body) {
        ctx.status(status).contentType("application/json").result(body.toString());
    }

    static void error(Context ctx, int status, String message) {
        json(ctx, status, ConsoleModel.JSON.createObjectNode().put("error", message));
    }
}
