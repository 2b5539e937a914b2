package io.siphon.format.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class RemoteNamesTest {
    @Test
    void urlsAreTheirOwnCanonicalForm() throws RemoteObjectException {
        for (String url : new String[] {
            "nbd+unix:///tmpl?socket=/run/t.sock",
            "nbd://10.0.0.1:10809/tmpl",
            "https://mirror/t.qcow2",
            "s3://bucket/t.raw"
        }) {
            RemoteLocation location = RemoteNames.parse(url);
            assertEquals(url, location.uri().toString());
            assertEquals(url, location.name());
        }
    }

    @Test
    void qemuJsonNamesAsQemuImgWritesThem() throws RemoteObjectException {
        String unix =
                "json:{\"file.driver\":\"nbd\",\"file.server.type\":\"unix\",\"file.server.path\":\"/run/n.sock\","
                        + "\"file.export\":\"tmpl\"}";
        assertEquals(
                "nbd+unix:///tmpl?socket=%2Frun%2Fn.sock",
                RemoteNames.parse(unix).uri().toString());
        String inet = "json:{\"driver\":\"qcow2\",\"file\":{\"driver\":\"nbd\",\"server\":{\"type\":\"inet\","
                + "\"host\":\"10.0.0.1\",\"port\":\"10810\"},\"export\":\"a b\"}}";
        RemoteLocation location = RemoteNames.parse(inet);
        assertEquals("nbd://10.0.0.1:10810/a%20b", location.uri().toString());
        assertEquals(Optional.of("qcow2"), location.format());
        assertEquals(
                "http://m/t.raw",
                RemoteNames.parse("json:{\"file.driver\":\"http\",\"file.url\":\"http://m/t.raw\"}")
                        .uri()
                        .toString());
    }

    @Test
    void badNamesSayWhatIsWrong() {
        assertBad("json:{\"file.driver\":\"ssh\",\"file.path\":\"/x\"}", "unknown protocol driver 'ssh'");
        assertBad("json:{\"file.driver\":\"nbd\",", "malformed json: name");
        assertBad("nbd+unix:///tmpl", "needs ?socket=PATH");
        assertBad("http://host", "names no object");
        assertBad("http://ho st/x", "malformed URL");
        assertBad("json:{\"file.driver\":\"http\",\"file.url\":\"nbd://h/x\"}", "does not match URL");
    }

    private static void assertBad(String name, String why) {
        RemoteObjectException e = assertThrows(RemoteObjectException.class, () -> RemoteNames.parse(name));
        assertEquals(RemoteObjectException.Reason.BAD_NAME, e.reason());
        assertTrue(e.getMessage().startsWith(name + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }
}
