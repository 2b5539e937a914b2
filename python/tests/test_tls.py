"""siphon+tls:// with mutual TLS against the daemon's TLS listener, certificates made by openssl."""

import os
import tempfile
import unittest

from support import domain_xml, run, siphon, template
from daemon import Daemon, free_port


class Certificates:
    """A CA and certificates it signs, valid for localhost and 127.0.0.1, as EC P-256 PEM files."""

    def __init__(self, directory: str):
        self.dir = directory

    def file(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def key(self, name: str) -> None:
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", self.file(name + "-key.pem"))

    def ca(self, name: str) -> None:
        self.key(name)
        run("openssl", "req", "-x509", "-new", "-key", self.file(name + "-key.pem"), "-subj", "/CN=" + name,
            "-days", "2", "-out", self.file(name + "-cert.pem"))

    def signed(self, name: str, ca: str) -> None:
        self.key(name)
        csr = self.file(name + ".csr")
        run("openssl", "req", "-new", "-key", self.file(name + "-key.pem"), "-subj", "/CN=" + name, "-out", csr)
        ext = self.file(name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        run("openssl", "x509", "-req", "-in", csr, "-CA", self.file(ca + "-cert.pem"), "-CAkey", self.file(ca + "-key.pem"),
            "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", self.file(name + "-cert.pem"))


CERTS = None
DAEMON = None
PORT = None


def setUpModule():
    global CERTS, DAEMON, PORT
    CERTS = Certificates(tempfile.mkdtemp(prefix="siphon-py-tls-"))
    CERTS.ca("ca")
    CERTS.signed("server", "ca")
    CERTS.signed("client", "ca")
    CERTS.ca("rogue-ca")
    CERTS.signed("rogue", "rogue-ca")
    PORT = free_port()
    DAEMON = Daemon(
        "--tls-listen", "127.0.0.1:%d" % PORT, "--tls-cert", CERTS.file("server-cert.pem"),
        "--tls-key", CERTS.file("server-key.pem"), "--tls-ca", CERTS.file("ca-cert.pem"),
        wait_for_port=PORT,
    )


def tearDownModule():
    DAEMON.stop()


def uri(client: str, ca: str, host: str = "localhost", extra: str = "") -> str:
    return "siphon+tls://%s:%d/?cert=%s&key=%s&ca=%s%s" % (
        host, PORT, CERTS.file(client + "-cert.pem"), CERTS.file(client + "-key.pem"), CERTS.file(ca + "-cert.pem"), extra)


class TlsTest(unittest.TestCase):
    def test_a_client_with_a_certificate_of_the_ca_may_use_every_call(self):
        image = template(os.path.join(DAEMON.dir, "tls.qcow2"), 1, 0)
        with siphon.open(uri("client", "ca")) as conn:
            self.assertTrue(conn.getURI().startswith("siphon+tls://localhost:"))
            dom = conn.defineXML(domain_xml("tls", image))
            self.addCleanup(self.undefine, "tls")
            self.assertEqual(0, dom.create())
            self.assertEqual(1, conn.lookupByName("tls").isActive())
            self.assertEqual({}, dom.blockJobInfo("vda"))
            self.assertEqual(0, dom.destroy())

    def undefine(self, name: str):
        with siphon.open(DAEMON.uri) as conn:
            conn.lookupByName(name).undefine()

    def test_readonly_over_tls_refuses_changes(self):
        with siphon.open(uri("client", "ca", extra="&readonly=1")) as conn:
            conn.listAllDomains()
            with self.assertRaises(siphon.libvirtError) as raised:
                conn.defineXML(domain_xml("nope", "/x.qcow2"))
            self.assertEqual(siphon.VIR_ERR_OPERATION_DENIED, raised.exception.get_error_code())

    def refused(self, code: int, target: str):
        with self.assertRaises(siphon.libvirtError) as raised:
            siphon.open(target).listAllDomains()
        self.assertEqual(code, raised.exception.get_error_code(), raised.exception)

    def test_certificates_of_another_ca_and_wrong_host_names_are_refused(self):
        self.refused(siphon.VIR_ERR_AUTH_FAILED, uri("rogue", "ca"))  # the daemon refuses the client
        self.refused(siphon.VIR_ERR_AUTH_FAILED, uri("client", "rogue-ca"))  # the client refuses the daemon
        self.refused(siphon.VIR_ERR_INVALID_ARG, "siphon+tls://localhost:%d/?cert=x" % PORT)
        self.refused(siphon.VIR_ERR_INVALID_ARG, "siphon+tls://localhost/?cert=x&key=y&ca=z")
        self.refused(siphon.VIR_ERR_INVALID_ARG, "siphon+tls://localhost:%d/?cert=/none&key=/none&ca=/none" % PORT)
        # the daemon still serves after the refusals, by name or by the address its certificate holds
        for host in ("localhost", "127.0.0.1"):
            with siphon.open(uri("client", "ca", host=host)) as again:
                again.listAllDomains()


if __name__ == "__main__":
    unittest.main()
