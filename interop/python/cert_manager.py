"""The tutorial's VaultPKICertManager against pkid, through hvac.

Run by interop/scripts (a Go test that starts pkid with the tutorial's
hierarchy and passes VAULT_ADDR, VAULT_TOKEN, PKI_MOUNT, ROLE and ROOT_CA).
The class is the tutorial's, corrected only where the tutorial is wrong for
hvac: generate_certificate takes ttl and alt_names inside extra_params.
"""
import os
import socket
import ssl
import stat
import sys
import tempfile
import threading
from datetime import datetime
from pathlib import Path

import hvac


class VaultPKICertManager:
    def __init__(self, vault_addr, vault_token, pki_mount="pki_int"):
        self.client = hvac.Client(url=vault_addr, token=vault_token)
        self.pki_mount = pki_mount
        self.certificate = None
        self.private_key = None
        self.ca_chain = None
        self.expiration = None

    def issue_certificate(self, role, common_name, alt_names=None, ttl="24h"):
        # Correction: hvac's generate_certificate(name, common_name,
        # extra_params, mount_point) has no ttl or alt_names keyword.
        extra = {"ttl": ttl}
        if alt_names:
            extra["alt_names"] = alt_names
        response = self.client.secrets.pki.generate_certificate(
            name=role, common_name=common_name, extra_params=extra, mount_point=self.pki_mount,
        )
        data = response["data"]
        self.certificate = data["certificate"]
        self.private_key = data["private_key"]
        self.ca_chain = data.get("ca_chain", [])
        self.serial_number = data["serial_number"]
        self.expiration = datetime.fromtimestamp(data["expiration"])
        return data

    def save_to_files(self, cert_path, key_path, chain_path=None):
        Path(cert_path).write_text(self.certificate)
        key_file = Path(key_path)
        key_file.write_text(self.private_key)
        key_file.chmod(0o600)
        if chain_path and self.ca_chain:
            Path(chain_path).write_text("\n".join(self.ca_chain))

    def create_ssl_context(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.NamedTemporaryFile(mode="w", suffix=".crt", delete=False) as cert_file:
            cert_file.write(self.certificate)
            if self.ca_chain:
                cert_file.write("\n")
                cert_file.write("\n".join(self.ca_chain))
            cert_path = cert_file.name
        with tempfile.NamedTemporaryFile(mode="w", suffix=".key", delete=False) as key_file:
            key_file.write(self.private_key)
            key_path = key_file.name
        context.load_cert_chain(cert_path, key_path)
        Path(cert_path).unlink()
        Path(key_path).unlink()
        return context


def check(cond, what):
    if not cond:
        print("FAIL:", what, file=sys.stderr)
        sys.exit(1)
    print("ok:", what)


def handshake(server_ctx, root_pem, name):
    """A real TLS handshake on loopback; the client trusts only the root."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    result = {}

    def serve():
        conn, _ = listener.accept()
        try:
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"hello from pkid-issued cert")
        except Exception as e:  # reported by the client side
            result["server_error"] = e

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    client_ctx = ssl.create_default_context(cadata=root_pem)
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with client_ctx.wrap_socket(raw, server_hostname=name) as tls:
            data = tls.recv(100)
    t.join(5)
    listener.close()
    return data, result.get("server_error")


def main():
    mgr = VaultPKICertManager(os.environ["VAULT_ADDR"], os.environ["VAULT_TOKEN"], os.environ["PKI_MOUNT"])
    role = os.environ["ROLE"]
    data = mgr.issue_certificate(role, "api.internal.example.com", alt_names="db.internal.example.com", ttl="2h")
    check("BEGIN CERTIFICATE" in data["certificate"], "issue returns a certificate")
    lifetime = (mgr.expiration - datetime.now()).total_seconds()
    check(6900 < lifetime <= 7300, "ttl=2h in extra_params is honoured (%ds)" % lifetime)

    out = Path(tempfile.mkdtemp())
    mgr.save_to_files(out / "tls.crt", out / "tls.key", out / "chain.pem")
    mode = stat.S_IMODE(os.stat(out / "tls.key").st_mode)
    check(mode == 0o600, "key file mode is 0600 (%o)" % mode)
    check((out / "chain.pem").read_text().count("BEGIN CERTIFICATE") >= 1, "chain file written")

    root_pem = Path(os.environ["ROOT_CA"]).read_text()
    data, err = handshake(mgr.create_ssl_context(), root_pem, "db.internal.example.com")
    check(err is None and data == b"hello from pkid-issued cert", "TLS handshake trusting only the root")

    serial = mgr.serial_number
    mgr.client.secrets.pki.revoke_certificate(serial_number=serial, mount_point=mgr.pki_mount)
    # hvac 0.11 has no helper for certs/revoked: the generic LIST.
    revoked = mgr.client.list("%s/certs/revoked" % mgr.pki_mount)["data"]["keys"]
    check(serial in revoked, "certs/revoked lists the serial")
    crl_pem = mgr.client.secrets.pki.read_crl(mount_point=mgr.pki_mount)
    # cryptography comes with python3-hvac's dependencies (requests, urllib3).
    from cryptography import x509
    serials = {e.serial_number for e in x509.load_pem_x509_crl(crl_pem.encode())}
    check(int(serial.replace(":", ""), 16) in serials, "the CRL holds the serial")
    print("hvac: issue, save (key 0600), TLS handshake, revoke, CRL: all ok")


if __name__ == "__main__":
    main()
